# videochat2_umtl_mistral7b.py at toy size: the same classes and key layout
# (UMT-style ViT with q/v biases, a truncated last block, the stretched 1-d
# position table and vision_layernorm as final norm; a Q-Former with cross-
# attention every 2nd layer and 4 + 4 queries; a Mistral-family LLM with LoRA
# on lm_head too), randomly initialised, no local files: for CPU tests of the
# release converter and of the VideoChat2 wiring.
model = dict(
    type='TPOModel',
    data_preprocessor=dict(type='TPODataPreprocessor'),
    # 3-block network returning its 2nd block (2 built), a 2-frame table
    # stretched to the 4 frames of the clip (as UMT-L's 4 -> 16).
    vision_encoder=dict(
        type='VideoViT', img_size=32, patch_size=8, num_frames=4,
        tubelet_size=1, embed_dims=48, depth=3, num_heads=4, mlp_ratio=4.0,
        qkv_bias='qv', out_layer=-2, final_norm=True, norm_eps=1e-6,
        final_norm_eps=1e-12, position_table='1d', pos_ckpt_frames=2,
        pos_ckpt_size=None),
    # A separate word-level tokenizer stands in for BERT's.
    connector_instruction=True,
    connector_tokenizer=dict(type='SyntheticWorldTokenizer'),
    connector=dict(
        type='QFormerConnector', num_queries=4, num_extra_queries=4,
        vision_norm=False,
        qformer=dict(vocab_size=256, hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=64,
                     cross_attention_frequency=2, max_position_embeddings=64,
                     layer_norm_eps=1e-12, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)),
    # A base vocabulary smaller than the tokenizer, so the tables grow to the
    # tokenizer with the task tokens, as Mistral's 32000 rows do.
    llm=dict(
        type='HFCausalLM',
        config=dict(model_type='mistral', vocab_size=128, hidden_size=64,
                    intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2,
                    max_position_embeddings=512,
                    tie_word_embeddings=False)),
    tokenizer=dict(type='SyntheticWorldTokenizer'),
    prompt_template=dict(
        system='{instruction}',
        user='[INST] {video} {question} [/INST]',
        assistant=' {answer}</s>',
        video_token='<video>'),
    heads=dict(
        region=dict(type='RegionHead', hidden_dims=32,
                    loss_bbox=dict(type='MSELoss', loss_weight=5.0),
                    loss_iou=None)),
    # The release's loc_encoder: a user-given box (normalised xyxy, as the
    # official tracking prompts) -> one input embedding at <track_box>.
    box_prompt_encoder=dict(
        type='BoxPromptEncoder', hidden_dims=32,
        box_coder=dict(type='NormalizedBoxCoder', mode='xyxy')),
    lora=dict(r=16, lora_alpha=32, lora_dropout=0.1,
              target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj',
                              'gate_proj', 'up_proj', 'down_proj',
                              'lm_head'],
              trainable_token_indices=None),
    frozen_modules=(),
    loss_weights=dict(mllm=1.0, assign=1.0, region=1.0),
    max_new_tokens=16,
)
