# A short iteration-based schedule for the tiny synthetic-world model:
# AdamW + linear warmup (ratio 0.2 as in Table 16) + cosine decay.
max_iters = 600
warmup_iters = int(0.2 * max_iters)
base_lr = 5e-4

optim_wrapper = dict(
    type='OptimWrapper',
    # Per-module learning rates from paramwise_cfg, groups of equal
    # hyper-parameters merged, and a trainable/frozen summary at start.
    constructor='TPOOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.02,
                   betas=(0.9, 0.999)),
    clip_grad=dict(max_norm=1.0),
    # The from-scratch connector, heads and task tokens learn faster than
    # the LoRA-adapted LLM (cf. the per-module rates of Table 16).
    paramwise_cfg=dict(custom_keys={
        'connector': dict(lr_mult=5.0),
        'heads': dict(lr_mult=5.0),
        'task_tokens': dict(lr_mult=5.0),
    }),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters,
         end=max_iters, eta_min_ratio=0.01),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
