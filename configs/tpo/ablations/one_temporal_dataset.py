# Table 15, "only QVHighlight": one temporal grounding source instead of
# two (the Charades-STA-style annotations are dropped).
_base_ = ['./tpo_full.py']

train_dataloader = dict(
    dataset=dict(datasets=[
        dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
        _base_.qvhighlights_train, _base_.mevis_train, _base_.lasot_train,
        _base_.videochat2_it_train, _base_.mvbench_train
    ]))
