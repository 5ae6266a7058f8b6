# The temporal and mask heads of the paper's 7B models (Fig. 3, appendix
# Stage 2), as variables that a model config places in `model.heads`
# (configs/tpo/videochat_common.py, llava_ov_common.py).

# CG-DETR (appendix, Stage 2) with the defaults of CGDETRHead (the official
# sizes); its text side embeds the query itself. TPO's release weights its
# losses by 0.05.
temporal_head = dict(type='CGDETRHead', loss_weight=0.05)
# SAM2 (frozen, Table 16 "Mask Head LR: Frozen") whose prompt encoder is
# replaced by the trainable mask adapter; SAM2 v1 Hiera-L, the one the
# VideoChat-TPO release holds.
mask_head = dict(
    type='SAM2MaskHead',
    model_cfg='configs/sam2/sam2_hiera_l.yaml',
    pretrained='checkpoints/sam2_hiera_large.pt',
    freeze_sam=True, objectives=('prompt_distill', ))
