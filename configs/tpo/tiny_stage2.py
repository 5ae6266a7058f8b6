# TPO stage 2, vision task training (Sec. 3.2): task tokens and task heads
# are trained on task data with the LLM's LoRA; the vision encoder and the
# connector stay frozen (Table 16).
_base_ = ['./tiny_stage1.py']

load_from = 'work_dirs/tiny_stage1'

model = dict(
    frozen_modules=('vision_encoder', 'connector'),
    loss_weights=dict(region=1.0))

train_dataloader = dict(
    dataset=dict(datasets=[
        _base_.refcoco_train, _base_.qvhighlights_train, _base_.mevis_train
    ]))

# Schedule of this stage (derived fields reassigned explicitly).
max_iters = 500
warmup_iters = int(0.2 * max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters,
         end=max_iters, eta_min_ratio=0.01),
]
