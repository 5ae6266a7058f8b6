# TPO stage 2, vision task training (Sec. 3.2): task tokens and task heads
# are trained on task data with the LLM's LoRA. Table 16 also freezes the
# connector, whose VideoChat2 weights were pretrained on millions of
# captions; the tiny connector is still at its random initialisation (see
# tiny_mllm_base.py), so here it trains with the head. The tiny model has
# one head (region), so this stage trains on the referring data that feeds
# it.
_base_ = ['./tiny_stage1.py']

load_from = 'work_dirs/tiny_stage1'

model = dict(
    frozen_modules=('vision_encoder', ),
    loss_weights=dict(region=1.0))

train_dataloader = dict(
    dataset=dict(datasets=[_base_.refcoco_train]))

# Schedule of this stage (derived fields reassigned explicitly).
max_iters = 5000
warmup_iters = int(0.2 * max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters,
         end=max_iters, eta_min_ratio=0.01),
]
