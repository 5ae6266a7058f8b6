# Table 12, exp. 2: the region head (R) alone, without conversation data.
_base_ = ['./tpo_full.py']

model = dict(heads=dict(_delete_=True, region=_base_.model.heads.region))
train_dataloader = dict(dataset=dict(datasets=[_base_.refcoco_train]))
test_dataloader = dict(
    dataset=dict(datasets=[_base_.refcoco_test, _base_.mvbench_test]))
test_evaluator = [
    _base_.region_metric, _base_.mcq_metric,
    dict(type='TaskAssignAccuracy')
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
