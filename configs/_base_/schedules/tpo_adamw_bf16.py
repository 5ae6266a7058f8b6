# The optimizer and loop of every TPO stage at 7B (Table 16), shared through
# configs/_base_/schedules/tpo_stage*.py.
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
# Linear warmup from 0.1% of the rate over the first 20% of the iterations
# (Table 16), then cosine decay to 0; epochs are converted to iterations of
# the real dataloader. The run's length is train_cfg.max_epochs (the Runner
# sets it as the scheduler's end): a stage schedule states only that.
param_scheduler = dict(type='WarmupCosineLR', warmup_ratio=0.2,
                       start_factor=1e-3, eta_min_ratio=0.0, by_epoch=True,
                       convert_to_iter_based=True)
