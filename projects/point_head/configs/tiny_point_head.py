# A task the repo does not know, added by a plugin: the tiny stage-2 recipe
# with the plugin's 'point' task (its spec, tokens and phrasing in
# point_task.py) served by the plugin's PointHead, trained on the world's
# referring expressions served as point questions, and scored by the
# plugin's point-in-box metric. Run from the repo root:
#   python tools/train.py projects/point_head/configs/tiny_point_head.py
_base_ = ['../../../configs/tpo/tiny_stage2.py']

custom_imports = dict(imports=['projects.point_head'],
                      allow_failed_imports=False)

load_from = None  # trains from scratch; a new task has no stage-1 weights
model = dict(
    tasks=('region', 'temporal', 'mask', 'point'),
    heads=dict(_delete_=True, point=dict(type='PointHead')))

# The referring data served as point samples (SetTask before the
# conversation is formatted).
_as_point = [dict(type='SetTask', task='point')]
point_train = dict(_base_.refcoco_train, dataset=dict(
    _base_.refcoco_train.dataset,
    pipeline=_base_.train_pipeline[:2] + _as_point +
    _base_.train_pipeline[2:]))
point_val = dict(_base_.refcoco_val, dataset=dict(
    _base_.refcoco_val.dataset,
    pipeline=_base_.test_pipeline[:2] + _as_point + _base_.test_pipeline[2:]))
train_dataloader = dict(dataset=dict(datasets=[point_train]))
test_dataloader = dict(dataset=dict(datasets=[point_val]))
test_evaluator = [dict(type='PointInBoxAccuracy'),
                  dict(type='TaskAssignAccuracy')]
val_dataloader = test_dataloader
val_evaluator = test_evaluator

max_iters = 300  # a short run: the plugin's example, not a benchmark
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
