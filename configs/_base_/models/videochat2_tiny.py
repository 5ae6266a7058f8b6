# videochat2_umtl_mistral7b.py at toy size: the same classes, settings and
# key layout (UMT-style ViT with q/v biases, a truncated last block, the
# stretched 1-d position table and vision_layernorm as final norm; a
# Q-Former with cross-attention every 2nd layer; a Mistral-family LLM with
# LoRA on lm_head too), randomly initialised, no local files: for CPU tests
# of the release converters and of the VideoChat2 wiring.
_base_ = ['./videochat2_umtl_mistral7b.py']

model = dict(
    # 3-block network returning its 2nd block (2 built), 32 px frames of
    # 8 px patches, a 2-frame table stretched to the 4 frames of the clip
    # (as UMT-L's 4 -> 16).
    vision_encoder=dict(
        img_size=32, patch_size=8, num_frames=4, embed_dims=48, depth=3,
        num_heads=4, pos_ckpt_frames=2, pos_ckpt_size=None, pretrained=None),
    # A separate word-level tokenizer stands in for BERT's.
    connector_tokenizer=dict(_delete_=True, type='SyntheticWorldTokenizer'),
    # 4 + 4 queries (official 32 + 64), 2 layers of width 32 (official 12
    # of 768), no dropout (deterministic tests).
    connector=dict(
        num_queries=4, num_extra_queries=4, pretrained=None,
        qformer=dict(vocab_size=256, hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=64,
                     max_position_embeddings=64, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)),
    # A base vocabulary (128) smaller than the tokenizer, so the tables grow
    # to the tokenizer with the task tokens, as Mistral's 32000 rows do.
    llm=dict(
        _delete_=True, type='HFCausalLM',
        config=dict(model_type='mistral', vocab_size=128, hidden_size=64,
                    intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2,
                    max_position_embeddings=512,
                    tie_word_embeddings=False)),
    tokenizer=dict(_delete_=True, type='SyntheticWorldTokenizer'),
    # The region head as the other tiny models have it (a sigmoid on
    # centre-size codes), 32 wide.
    heads=dict(region=dict(in_dims=None, hidden_dims=32,
                           box_coder=dict(mode='cxcywh'), sigmoid=True)),
    box_prompt_encoder=dict(hidden_dims=32),  # official: 2048 (half of 4096)
    amp_dtype=None,  # float32 on CPU
    gradient_checkpointing=False,
    max_new_tokens=16,  # the world's answers are short
)
