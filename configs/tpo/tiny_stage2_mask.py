# TPO stage 2, mask run, on the tiny model (the 7B run:
# videochat_stage2_mask.py): the mask adapter and token learn referring
# segmentation (MeViS) and, with the box-prompt encoder, tracking (LaSOT);
# SAM2 and the other heads are frozen
# (../_base_/schedules/tiny_stage2_mask.py).
_base_ = [
    '../_base_/models/tpo_tiny_all_heads.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage2_mask.py', '../_base_/default_runtime.py'
]

load_from = 'work_dirs/tiny_stage1'
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[_base_.mevis_train,
                                               _base_.lasot_train]))
test_dataloader = dict(dataset=dict(datasets=[_base_.mevis_val,
                                              _base_.lasot_val]))
test_evaluator = [
    dict(type='ReferringVOSMetric', tasks=('mask', )),
    dict(type='TrackingMetric', tasks=('track', ), protocol='lasot'),
    dict(type='TaskAssignAccuracy')]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
