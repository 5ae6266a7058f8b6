# Table 12, exp. 4: the region and mask heads (R, M), without conversation
# data.
_base_ = ['./tpo_full.py']

model = dict(
    heads=dict(
        _delete_=True,
        region=_base_.model.heads.region,
        mask=_base_.model.heads.mask))
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
        _base_.mevis_train, _base_.lasot_train
    ]))
test_dataloader = dict(
    dataset=dict(datasets=[
        _base_.refcoco_test, _base_.mevis_test, _base_.lasot_test,
        _base_.mvbench_test
    ]))
test_evaluator = [
    _base_.region_metric, _base_.mask_metric, _base_.track_metric,
    _base_.mcq_metric,
    dict(type='TaskAssignAccuracy')
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
