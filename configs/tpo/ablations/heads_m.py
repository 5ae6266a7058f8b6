# Table 12, exp. 3: the mask head (M) alone, without conversation data; it
# serves referring segmentation and tracking.
_base_ = ['./tpo_full.py']

model = dict(heads=dict(_delete_=True, mask=_base_.model.heads.mask))
train_dataloader = dict(
    dataset=dict(datasets=[_base_.mevis_train, _base_.lasot_train]))
test_dataloader = dict(
    dataset=dict(datasets=[
        _base_.mevis_test, _base_.lasot_test, _base_.mvbench_test
    ]))
test_evaluator = [
    _base_.mask_metric, _base_.track_metric, _base_.mcq_metric,
    dict(type='TaskAssignAccuracy')
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
