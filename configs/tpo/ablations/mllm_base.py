# The base MLLM shared by every ablation row: tiny_mllm_base.py's data,
# schedule and frozen modules, built with the ablation model (all heads and
# the box-prompt encoder, untrained here) so that later checkpoints share
# its vocabulary and keys.
_base_ = ['./tpo_full.py']

load_from = None
model = dict(
    frozen_modules=('vision_encoder', 'connector', 'task_tokens', 'heads',
                    'box_prompt_encoder'),
    loss_weights=dict(region=0.0, temporal=0.0, mask=0.0))

train_dataloader = dict(
    dataset=dict(datasets=[
        _base_.videochat2_it_train, _base_.mvbench_train
    ]))

# Schedule of this stage (derived fields reassigned explicitly).
max_iters = 600
warmup_iters = int(0.2 * max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters,
         end=max_iters, eta_min_ratio=0.01),
]
