# A tiny, randomly initialised LLaVA-OneVision-TPO with the structure of
# llava_ov_siglip_qwen2_7b.py (same classes, tiny dims; builds on CPU in a
# second): SigLIP (32px frames, 8px patches: a 4x4 grid) -> MLP projector
# (2x2 bilinear pooling per frame, one newline token) -> Qwen2 with LoRA ->
# task tokens -> region head.

# 4 frames of 32x32: 4 * 2 * 2 + 1 = 17 visual tokens.
llava_ov_video = dict(num_frames=4, img_size=32)

model = dict(
    type='TPOModel',
    data_preprocessor=dict(
        type='TPODataPreprocessor', mean=(127.5, 127.5, 127.5),
        std=(127.5, 127.5, 127.5)),
    vision_encoder=dict(
        type='SigLIPVisionEncoder',
        config=dict(hidden_size=48, intermediate_size=96,
                    num_hidden_layers=2, num_attention_heads=4,
                    image_size=32, patch_size=8, vision_use_head=False),
        feature_layer=-2, select_strategy='full'),
    connector=dict(
        type='MLPProjector', frame_grid=4, pool_stride=2,
        pool_mode='bilinear', newline='one_token'),
    llm=dict(
        type='HFCausalLM',
        config=dict(model_type='qwen2', vocab_size=512, hidden_size=64,
                    intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2,
                    max_position_embeddings=512,
                    tie_word_embeddings=False)),
    # The synthetic world's word-level tokenizer; its eos </s> plays
    # Qwen2's <|im_end|> (which is Qwen2-Instruct's eos).
    tokenizer=dict(
        type='SyntheticWorldTokenizer',
        extra_words=['|', 'im', 'start', 'system', 'user', 'assistant']),
    prompt_template=dict(
        system='<|im_start|>system\n{instruction}</s>\n',
        user='<|im_start|>user\n{video}\n{question}</s>\n',
        assistant='<|im_start|>assistant\n{answer}</s>\n',
        video_token='<video>'),
    heads=dict(
        region=dict(type='RegionHead', hidden_dims=32,
                    loss_bbox=dict(type='MSELoss', loss_weight=5.0),
                    loss_iou=None)),
    # LoRA as in the full config. The tiny LLM is random, so its LM head is
    # trained too (a frozen random head cannot produce confident logits).
    lora=dict(r=16, lora_alpha=32, lora_dropout=0.1,
              target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj',
                              'gate_proj', 'up_proj', 'down_proj'],
              modules_to_save=['lm_head']),
    frozen_modules=('vision_encoder', ),
    loss_weights=dict(mllm=1.0, assign=1.0, region=1.0),
    max_new_tokens=16,
)
