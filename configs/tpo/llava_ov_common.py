# Shared by the LLaVA-OneVision + TPO stage recipes (llava_ov_stage*.py):
# the 7B model with all three task heads and the runtime. The paper (Table
# 10) gives no separate schedule for LLaVA-OV; these recipes apply
# VideoChat-TPO's Table 16 to it through the same
# configs/_base_/schedules/tpo_stage*.py. Not a recipe itself.
_base_ = [
    '../_base_/models/llava_ov_siglip_qwen2_7b.py',
    '../_base_/models/tpo_release_heads.py', '../_base_/default_runtime.py'
]

model = dict(
    heads=dict(temporal=_base_.temporal_head, mask=_base_.mask_head),
    # <track_box> prompts (SA-V / tracking samples): a box -> one input
    # embedding of Qwen2's width (3584).
    box_prompt_encoder=dict(type='BoxPromptEncoder', hidden_dims=1792),
)
# LLaVA-OV's SigLIP reads 384x384 frames (llava_ov_video; 27x27 patches,
# Table 16's 224 is VideoChat2's UMT-L): the size of every resize in the
# stage mixture's pipelines, applied by the recipes with
# `train_dataloader = dict(dataset=dict(pipeline_overrides=...))`.
llava_ov_frames = dict(
    ResizeFrames=dict(size=(384, 384)),
    LoadImageSequence=dict(size=(384, 384)))
