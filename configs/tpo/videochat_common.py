# Shared by the VideoChat-TPO stage recipes (videochat_stage*.py): the 7B
# model with all three task heads of the paper (Fig. 3), the optimizer of
# Table 16 and the runtime. Not a recipe itself: every stage file sets its
# frozen modules, per-module learning rates, schedule, batch and data.
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

# Table 16: AdamW, weight decay 0.02, DeepSpeed bf16. bf16 here is
# mmengine's AmpOptimWrapper (GPU only: on a CPU, override optim_wrapper
# with type='OptimWrapper' and no dtype, see docs/training_recipes.md); the
# model itself also runs its forward passes under bf16 autocast
# (model.amp_dtype). TPOOptimWrapperConstructor applies the per-module
# rates of `paramwise_cfg.custom_keys`, leaves frozen parameters out, merges
# groups with equal hyper-parameters and logs a per-module table.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    constructor='TPOOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=2e-5, weight_decay=0.02,
                   betas=(0.9, 0.999)),
)

# Training only: no validation during training (evaluate with tools/test.py).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
