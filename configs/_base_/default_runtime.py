default_scope = 'tpo'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# A .safetensors copy of the weights next to every checkpoint (same stem);
# no checkpoint with NaN/inf weights (the run stops first); a count and list
# of the samples skipped because their video could not be read, and a stop
# when more than max_bad_share of them are (see docs/reliability.md).
custom_hooks = [
    dict(type='SafetensorsCheckpointHook'),
    dict(type='FiniteCheckpointHook'),
    dict(type='SkippedSamplesHook', max_bad_share=0.1),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
