# Table 12, exp. 1: the temporal head (T) alone, without conversation data.
_base_ = ['./tpo_full.py']

model = dict(heads=dict(_delete_=True, temporal=_base_.model.heads.temporal))
train_dataloader = dict(
    dataset=dict(datasets=[
        _base_.qvhighlights_train, _base_.charades_sta_train
    ]))
test_dataloader = dict(
    dataset=dict(datasets=[_base_.qvhighlights_test, _base_.mvbench_test]))
test_evaluator = [
    _base_.temporal_metric, _base_.mcq_metric,
    dict(type='TaskAssignAccuracy')
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
