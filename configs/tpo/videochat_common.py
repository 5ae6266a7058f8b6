# Shared by the VideoChat-TPO stage recipes (videochat_stage*.py): the 7B
# model with all three task heads of the paper (Fig. 3) and the runtime. Not
# a recipe itself: the stage's frozen modules, per-module learning rates,
# schedule, batch and data come from configs/_base_/schedules/tpo_stage*.py
# (shared with the LLaVA-OV recipes).
_base_ = [
    '../_base_/models/videochat2_umtl_mistral7b.py',
    '../_base_/default_runtime.py'
]

model = dict(
    # UMT-L and the Q-Former come with the whole VideoChat2 stage-3 model
    # through stage 1's `load_from` (converted by
    # tools/model_converters/videochat_tpo_to_tpo.py), not from the .pth.
    vision_encoder=dict(pretrained=None),
    connector=dict(pretrained=None),
    heads=dict(
        # Temporal head: CG-DETR (appendix, Stage 2), defaults of
        # CGDETRHead; its text side embeds the query itself.
        temporal=dict(type='CGDETRHead'),
        # Mask head: SAM2 (frozen, Table 16 "Mask Head LR: Frozen") whose
        # prompt encoder is replaced by the trainable mask adapter; SAM2 v1
        # Hiera-L, the one the VideoChat-TPO release holds.
        mask=dict(
            type='SAM2MaskHead',
            model_cfg='configs/sam2/sam2_hiera_l.yaml',
            checkpoint='checkpoints/sam2_hiera_large.pt',
            freeze_sam=True, objectives=('prompt_distill', ))),
    # TPO's release weights the temporal (CG-DETR) losses by 0.05.
    loss_weights=dict(mllm=1.0, assign=1.0, region=1.0, temporal=0.05,
                      mask=1.0),
)
