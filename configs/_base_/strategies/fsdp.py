# PyTorch FSDP through mmengine's FlexibleRunner: add this file to a config's
# `_base_`, or run `tools/train.py CONFIG --strategy fsdp`. At launch
# (tpo.engine.strategies.configure_fsdp) the wrapper gets
# use_orig_params=True, which keeps the per-module parameter groups of
# TPOOptimWrapperConstructor and lets frozen and trainable parameters share a
# unit. Full state dicts, so that checkpoints hold TPOModel keys (load_from,
# SafetensorsCheckpointHook).
strategy = dict(
    type='TPOFSDPStrategy',
    model_wrapper=dict(type='MMFullyShardedDataParallel',
                       use_orig_params=True),
    state_dict_cfg='full',
)
