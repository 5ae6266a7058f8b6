# A tiny, randomly initialised MLLM-TPO with the real structure (Fig. 3):
# video ViT -> Q-Former -> Llama-style LLM with LoRA -> task tokens -> heads.
model = dict(
    type='TPOModel',
    data_preprocessor=dict(type='TPODataPreprocessor'),
    # Separable space-time positions: the tiny encoder learns from scratch.
    # 4 frames of 64 px in 8 px patches (an 8x8 grid), 2 blocks of width 96.
    vision_encoder=dict(
        type='VideoViT', img_size=64, patch_size=8,
        num_frames=4, tubelet_size=1, embed_dims=96, depth=2,
        num_heads=4, out_layer=-1, position_table='3d'),
    # VideoChat2's instruction-aware Q-Former: the question (tokenized by the
    # LLM's tokenizer here, BERT's in VideoChat2) steers the queries.
    # 16 queries (VideoChat2: 32 + 64), one layer of width 96; its 512-row
    # word table exceeds the world tokenizer's vocabulary.
    connector_instruction=True,
    connector=dict(
        type='QFormerConnector', num_queries=16,
        qformer=dict(hidden_size=96, num_hidden_layers=1,
                     num_attention_heads=4, intermediate_size=192,
                     cross_attention_frequency=1, vocab_size=512,
                     hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)),
    # vocab_size below the tokenizer's: the tables grow to fit it exactly.
    # 2 layers of width 128, 4 query heads sharing 2 key/value heads; 512
    # positions hold the 16 visual tokens, the prompt and the answer.
    llm=dict(
        type='HFCausalLM',
        config=dict(model_type='llama', vocab_size=128, hidden_size=128,
                    intermediate_size=256, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2,
                    max_position_embeddings=512,
                    tie_word_embeddings=False)),
    tokenizer=dict(type='SyntheticWorldTokenizer'),
    prompt_template=dict(
        system='{instruction} ', user='[INST] {video} {question} [/INST]',
        assistant=' {answer}</s>', video_token='<video>'),
    # The paper's region head: a 2-layer MLP trained with MSE (appendix).
    heads=dict(
        region=dict(type='RegionHead', hidden_dims=128,
                    loss_bbox=dict(type='MSELoss', loss_weight=5.0),
                    loss_iou=None)),
    # LoRA as in the paper (r16/a32 on every projection). The tiny LLM is
    # random, so its LM head is trained too: a frozen random head cannot
    # produce confident logits.
    lora=dict(r=16, lora_alpha=32, lora_dropout=0.0,
              target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj',
                              'gate_proj', 'up_proj', 'down_proj'],
              modules_to_save=['lm_head']),
    frozen_modules=(),
    loss_weights=dict(mllm=1.0, assign=1.0, heads=1.0),
    max_new_tokens=16,  # the world's answers are short
)
