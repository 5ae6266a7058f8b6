# Shared by the LLaVA-OneVision + TPO stage recipes (llava_ov_stage*.py):
# the 7B model with all three task heads and the runtime. The paper (Table
# 10) gives no separate schedule for LLaVA-OV; these recipes apply
# VideoChat-TPO's Table 16 to it through the same
# configs/_base_/schedules/tpo_stage*.py. Not a recipe itself.
_base_ = [
    '../_base_/models/llava_ov_siglip_qwen2_7b.py',
    '../_base_/default_runtime.py'
]

model = dict(
    heads=dict(
        # Temporal head: CG-DETR (appendix, Stage 2), CGDETRHead defaults.
        temporal=dict(type='CGDETRHead'),
        # Mask head: SAM2 (frozen, Table 16) prompted by the trainable
        # mask adapter.
        mask=dict(
            type='SAM2MaskHead',
            model_cfg='configs/sam2/sam2_hiera_l.yaml',
            checkpoint='checkpoints/sam2_hiera_large.pt',
            freeze_sam=True, objectives=('prompt_distill', ))),
    # <track_box> prompts (SA-V / tracking samples): a box -> one input
    # embedding of Qwen2's width (3584).
    box_prompt_encoder=dict(type='BoxPromptEncoder', hidden_dims=1792),
    loss_weights=dict(mllm=1.0, assign=1.0, region=1.0, temporal=0.05,
                      mask=1.0),
)
