# TPO stage 3, multi-task training (Sec. 3.2): the connector, task tokens,
# heads and LoRA are trained jointly on task data mixed with conversations,
# so head gradients shape the MLLM (the tiny ViT stays frozen, see
# tiny_mllm_base.py). The referring data is repeated so that the head keeps
# a large share of the (short) schedule.
_base_ = ['./tiny_stage2.py']

load_from = 'work_dirs/tiny_stage2'

model = dict(frozen_modules=('vision_encoder', ))

train_dataloader = dict(
    dataset=dict(datasets=[
        dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
        _base_.qvhighlights_train, _base_.mevis_train,
        _base_.videochat2_it_train, _base_.mvbench_train
    ]))

# Schedule of this stage (derived fields reassigned explicitly).
max_iters = 1500
warmup_iters = int(0.2 * max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters,
         end=max_iters, eta_min_ratio=0.01),
]
