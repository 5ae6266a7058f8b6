# DeepSpeed ZeRO-2 (optimizer states and gradients partitioned) through
# mmengine's FlexibleRunner: add this file to a config's `_base_`, or run
#   tools/train.py CONFIG --strategy deepspeed_zero2
# At launch (tpo.engine.strategies.configure_deepspeed) the DeepSpeed config
# gets train_micro_batch_size_per_gpu / gradient_accumulation_steps /
# train_batch_size from train_dataloader.batch_size, accumulative_counts and
# the number of processes, gradient_clipping from optim_wrapper.clip_grad and,
# on GPUs, bf16 from an AmpOptimWrapper with dtype='bfloat16'. The optimizer
# is the one TPOOptimWrapperConstructor builds (per-module learning rates,
# frozen parameters left out). A DeepSpeed json can be given as
# `strategy = dict(config='my_ds.json')`; fields that disagree with the
# config stop the launch.
strategy = dict(
    type='TPODeepSpeedStrategy',
    zero_optimization=dict(
        stage=2,
        contiguous_gradients=True,
        overlap_comm=True,
        reduce_bucket_size=int(5e8),
        allgather_bucket_size=int(5e8)),
)
