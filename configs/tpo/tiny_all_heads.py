# TPO stage 3 with every task head of the paper (Fig. 3) on the synthetic
# world: region (RefCOCO), temporal (CG-DETR, QVHighlights) and mask (SAM2,
# MeViS referring segmentation and LaSOT tracking), mixed with
# conversations.
_base_ = [
    '../_base_/models/tpo_tiny_all_heads.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage3.py', '../_base_/default_runtime.py'
]

# The stage-2 checkpoint has the region head only; this config builds the
# other heads and the box-prompt encoder fresh, so it starts from scratch
# (set load_from to work_dirs/tiny_stage2 with model.strict_load=False to
# start from it).
load_from = None
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
    _base_.qvhighlights_train, _base_.mevis_train, _base_.lasot_train,
    _base_.videochat2_it_train, _base_.mvbench_train]))
test_dataloader = dict(dataset=dict(datasets=[
    _base_.refcoco_val, _base_.qvhighlights_val, _base_.mevis_val,
    _base_.lasot_val, _base_.mvbench_val]))
test_evaluator = [
    dict(type='ReferringBoxAccuracy', tasks=('region', )),
    dict(type='MomentRetrievalMetric', tasks=('temporal', )),
    dict(type='ReferringVOSMetric', tasks=('mask', )),
    dict(type='TrackingMetric', tasks=('track', ), protocol='lasot'),
    dict(type='MultipleChoiceAccuracy', tasks=('mcq', )),
    dict(type='TaskAssignAccuracy'),
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
