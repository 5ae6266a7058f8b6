# The tiny stage-2 recipe with the region head swapped for the plugin's
# PointHead, evaluated by its point-in-box metric. Run from the repo root:
#   python tools/train.py projects/point_head/configs/tiny_point_head.py
_base_ = ['../../../configs/tpo/tiny_stage2.py']

custom_imports = dict(imports=['projects.point_head.point_head'],
                      allow_failed_imports=False)

load_from = None  # trains from scratch; set a stage-1 work dir to chain
model = dict(heads=dict(region=dict(_delete_=True, type='PointHead')))

max_iters = 300
warmup_iters = int(0.2 * max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters,
         end=max_iters, eta_min_ratio=0.01),
]
val_evaluator = [dict(type='PointInBoxAccuracy')]
test_evaluator = val_evaluator
