# llava_ov_siglip_qwen2_7b.py at toy size (same classes and settings, tiny
# dims; builds on CPU in a second): SigLIP (32 px frames, 8 px patches: a
# 4x4 grid) -> MLP projector (2x2 bilinear pooling per frame, one newline
# token) -> Qwen2 with LoRA -> task tokens -> region head.
_base_ = ['./llava_ov_siglip_qwen2_7b.py']

# 4 frames of 32x32: 4 * 2 * 2 + 1 = 17 visual tokens.
llava_ov_video = dict(num_frames=4, img_size=32)

model = dict(
    vision_encoder=dict(
        pretrained=None, torch_dtype=None,
        config=dict(hidden_size=48, intermediate_size=96,
                    num_hidden_layers=2, num_attention_heads=4,
                    image_size=32, patch_size=8, vision_use_head=False)),
    # The widths come from the tiny encoder and LLM; 4x4 patch grid.
    connector=dict(vision_dims=None, llm_dims=None, frame_grid=4),
    llm=dict(
        _delete_=True, type='HFCausalLM',
        config=dict(model_type='qwen2', vocab_size=512, hidden_size=64,
                    intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2,
                    max_position_embeddings=512,
                    tie_word_embeddings=False)),
    # The synthetic world's word-level tokenizer; its eos </s> plays
    # Qwen2's <|im_end|> (which is Qwen2-Instruct's eos).
    tokenizer=dict(
        _delete_=True, type='SyntheticWorldTokenizer',
        extra_words=['|', 'im', 'start', 'system', 'user', 'assistant']),
    prompt_template=dict(
        system='<|im_start|>system\n{instruction}</s>\n',
        user='<|im_start|>user\n{video}\n{question}</s>\n',
        assistant='<|im_start|>assistant\n{answer}</s>\n'),
    heads=dict(region=dict(in_dims=None, hidden_dims=32)),
    # The tiny LLM is random, so its LM head is trained too (a frozen random
    # head cannot produce confident logits).
    lora=dict(modules_to_save=['lm_head']),
    amp_dtype=None,  # float32 on CPU
    gradient_checkpointing=False,
    max_new_tokens=16,  # the world's answers are short
)
