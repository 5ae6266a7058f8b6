# The optimizer and loops of the tiny synthetic-world model, shared by its
# stage schedules (tiny_stage{0,1,2,3}.py): AdamW, gradient clipping,
# per-module learning rates, and warmup + cosine over each stage's
# iterations.
base_lr = 5e-4  # for the tiny model trained from scratch (7B: 2e-5)

optim_wrapper = dict(
    type='OptimWrapper',
    # Per-module learning rates from paramwise_cfg, groups of equal
    # hyper-parameters merged, and a trainable/frozen summary at start.
    constructor='TPOOptimWrapperConstructor',
    # Table 16's AdamW and weight decay.
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.02,
                   betas=(0.9, 0.999)),
    clip_grad=dict(max_norm=1.0),  # keeps the from-scratch heads stable
    # The from-scratch connector, heads and task tokens learn faster than
    # the LoRA-adapted LLM (cf. the per-module rates of Table 16).
    paramwise_cfg=dict(custom_keys={
        'connector': dict(lr_mult=5.0),
        'heads': dict(lr_mult=5.0),
        'task_tokens': dict(lr_mult=5.0),
    }),
)
# Linear warmup from 0.1% of the rate over the first 20% of the iterations
# (Table 16's ratio), then cosine decay to 1% of it. The run's length is
# train_cfg.max_iters (the Runner sets it as the scheduler's end): a stage
# schedule states only that.
param_scheduler = dict(type='WarmupCosineLR', warmup_ratio=0.2,
                       start_factor=1e-3, eta_min_ratio=0.01, by_epoch=False)
train_cfg = dict(type='IterBasedTrainLoop')
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
