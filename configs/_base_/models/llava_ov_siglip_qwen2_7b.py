# LLaVA-OneVision-7B + TPO (Sec. 4, Table 10): SigLIP so400m (384px, per
# frame) -> 2-layer GELU MLP projector with 2x2 bilinear pooling per frame
# and one newline token per video -> Qwen2-7B with LoRA -> task tokens ->
# region head.
#
# Local files (nothing is downloaded):
#   checkpoints/siglip-so400m-patch14-384  google/siglip-so400m-patch14-384
#   checkpoints/Qwen2-7B-Instruct          Qwen/Qwen2-7B-Instruct (LLM and
#                                          tokenizer; LLaVA-OV-7B's base LLM)
# The LLaVA-OneVision-7B weights themselves (tower, projector, newline, LLM)
# are loaded on top with `load_from`, from a checkpoint converted by
# tools/model_converters/llava_onevision_to_tpo.py from the hub's
# llava-hf/llava-onevision-qwen2-7b-ov-hf.

# Video input of this model: 16 frames resized to 384x384 (27x27 SigLIP
# patches -> 14x14 = 196 tokens per frame after pooling, 16 * 196 + 1 = 3137
# visual tokens). Referenced by dataset pipelines, not by the model.
llava_ov_video = dict(num_frames=16, img_size=384)

model = dict(
    type='TPOModel',
    # SigLIP normalisation: (x / 255 - 0.5) / 0.5.
    data_preprocessor=dict(
        type='TPODataPreprocessor', mean=(127.5, 127.5, 127.5),
        std=(127.5, 127.5, 127.5)),
    # The second-to-last layer of the 27-layer tower, before post_layernorm,
    # all 729 patch tokens (no CLS): LLaVA-OV's feature layer.
    vision_encoder=dict(
        type='SigLIPVisionEncoder',
        pretrained='checkpoints/siglip-so400m-patch14-384',
        feature_layer=-2, select_strategy='full', torch_dtype='bfloat16'),
    connector=dict(
        type='MLPProjector', vision_dims=1152, llm_dims=3584, frame_grid=27,
        pool_stride=2, pool_mode='bilinear', newline='one_token'),
    llm=dict(
        type='HFCausalLM', pretrained='checkpoints/Qwen2-7B-Instruct',
        torch_dtype='bfloat16', attn_implementation='sdpa'),
    tokenizer=dict(type='PretrainedTokenizer',
                   path='checkpoints/Qwen2-7B-Instruct'),
    # Qwen2's chat template (LLaVA-OV's `qwen_1_5` conversation): the
    # sample's instruction is the system message; <|im_end|> is Qwen2's eos.
    prompt_template=dict(
        system='<|im_start|>system\n{instruction}<|im_end|>\n',
        user='<|im_start|>user\n{video}\n{question}<|im_end|>\n',
        assistant='<|im_start|>assistant\n{answer}<|im_end|>\n',
        video_token='<video>'),
    heads=dict(
        region=dict(type='RegionHead', in_dims=3584, hidden_dims=1792,
                    # The paper's MSE (default; why x5, and the
                    # release's 2 x L1 + 0.2 x GIoU to select instead:
                    # configs/_base_/losses/region_losses.py).
                    loss_bbox=dict(type='MSELoss', loss_weight=5.0),
                    loss_iou=None)),
    lora=dict(r=16, lora_alpha=32, lora_dropout=0.1,
              target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj',
                              'gate_proj', 'up_proj', 'down_proj']),
    frozen_modules=('vision_encoder', ),
    loss_weights=dict(mllm=1.0, assign=1.0, heads=1.0),
    # bf16 autocast and activation recomputation (see docs/memory.md).
    amp_dtype='bfloat16',
    gradient_checkpointing=True,
    max_new_tokens=256,
)
