# TPO stage 3 of Table 16 (frozen modules, per-module learning rates,
# batch, epochs, warmup + cosine) on the Table 17 mixture, shared by
# videochat_stage3.py and llava_ov_stage3.py, which add their model,
# load_from and work_dir.
_base_ = ['./tpo_adamw_bf16.py', '../datasets/tpo_stage3_mixture.py']

# ---------------------------------------------------------------- settings
base_lr = 2e-5  # Table 16: every module at 2e-5
# Total batch 256 (Table 16) = 32 GPUs x 4 x 2 (gradient accumulation).
num_gpus = 32  # documentation only: the launcher decides
batch_size = 4  # per GPU
accumulative_counts = 2
max_epochs = 3  # Table 16
warmup_ratio = 0.2
# ---------------------------------------------------------------------------

# Merged into the recipe's model by `model = _base_.stage_model`.
stage_model = dict(frozen_modules=('heads.mask.sam', ))

optim_wrapper = dict(
    accumulative_counts=accumulative_counts,
    optimizer=dict(lr=base_lr),
    paramwise_cfg=dict(custom_keys={
        'vision_encoder': dict(lr_mult=1.0),
        'connector': dict(lr_mult=1.0),
        'llm': dict(lr_mult=1.0),
        'heads.temporal': dict(lr_mult=1.0),
        'heads.region': dict(lr_mult=1.0),
        'heads.mask': dict(lr_mult=1.0),  # mask adapter (SAM2 frozen)
        'task_tokens.tokens.temporal': dict(lr_mult=1.0),
        'task_tokens.tokens.region': dict(lr_mult=1.0),
        'task_tokens.tokens.mask': dict(lr_mult=1.0),
        'box_prompt_encoder': dict(lr_mult=1.0),
    }))

train_dataloader = dict(batch_size=batch_size)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
# Linear warmup over the first 20% of the iterations, then cosine decay
# (epochs are converted to iterations of the real dataloader).
warmup_epochs = round(warmup_ratio * max_epochs, 6)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
