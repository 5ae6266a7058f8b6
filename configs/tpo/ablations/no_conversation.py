# Table 11, "w/o reasoning data", and Table 12, exp. 5 (T, R, M without C):
# the task data alone, without the conversation and multiple-choice data.
_base_ = ['./tpo_full.py']

train_dataloader = dict(
    dataset=dict(datasets=[
        dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
        _base_.qvhighlights_train, _base_.charades_sta_train,
        _base_.mevis_train, _base_.lasot_train
    ]))
