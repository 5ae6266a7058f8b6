# DeepSpeed ZeRO-3 (parameters partitioned too) through mmengine's
# FlexibleRunner: add this file to a config's `_base_`, or run
#   tools/train.py CONFIG --strategy deepspeed_zero3
# Same launch-time handling as deepspeed_zero2.py. Checkpoints keep each
# rank's partitions (tools/model_converters/zero_to_tpo.py consolidates
# them); the .safetensors copy of SafetensorsCheckpointHook gathers the
# 16-bit weights on rank 0. The task heads run only on the ranks whose batch
# holds their task, so their weights must stay whole on every rank
# (TPODeepSpeedStrategy checks it at launch): the persistence threshold is
# above the 7B recipes' RegionHead weight (its 4096 x 2048
# Linear: 8,388,608 elements).
strategy = dict(
    type='TPODeepSpeedStrategy',
    zero_optimization=dict(
        stage=3,
        contiguous_gradients=True,
        overlap_comm=True,
        reduce_bucket_size=int(5e8),
        stage3_prefetch_bucket_size=int(5e8),
        stage3_param_persistence_threshold=int(1e7)),
)
