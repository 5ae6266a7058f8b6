# TPO stage 3 of Table 16 (frozen modules, per-module learning rates,
# batch, epochs, warmup + cosine), shared by videochat_stage3.py and
# llava_ov_stage3.py, which add their model, data (tpo_stage3_mixture.py),
# load_from and work_dir.
_base_ = ['./tpo_adamw_bf16.py']

# ---------------------------------------------------------------- settings
base_lr = 2e-5  # Table 16: every module at 2e-5
# Total batch 256 (Table 16) = 32 GPUs x 4 (batch_size of tpo_sources.py)
# x 2 (gradient accumulation).
num_gpus = 32  # documentation only: the launcher decides
accumulative_counts = 2
max_epochs = 3  # Table 16
# Table 16's total batch, which the learning rates are tuned for. Another
# processes x batch_size x accumulative_counts is logged at start;
# auto_scale_lr.enable=True then scales every rate by actual / 256
# (tpo.engine.global_batch: gradient accumulation counted).
global_batch_size = 256
# ---------------------------------------------------------------------------

# Merged into the recipe's model by `model = _base_.stage_model`: every
# module trains (SAM2 inside the mask head stays frozen: the head declares
# it, freeze_sam=True).
stage_model = dict(frozen_modules=())

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

auto_scale_lr = dict(enable=False, base_batch_size=global_batch_size)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
