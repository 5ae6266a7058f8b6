# TPO stage 1 (task assignment) training data, Table 17: 50K samples per task.
# One source per line: (source config of tpo_sources.py, samples per epoch).
# Swap a source by editing its line; a ratio of 0 leaves it out. The paper
# gives only the per-task totals: each task's samples are split equally
# between its datasets here.
_base_ = ['./tpo_sources.py']

stage1_mixture = [
    # temporal grounding, 50K
    dict(dataset=_base_.didemo_train, ratio=25_000),
    dict(dataset=_base_.queryd_train, ratio=25_000),
    # spatial grounding, 50K
    dict(dataset=_base_.refcoco_train, ratio=50_000 / 3),
    dict(dataset=_base_.refcocog_train, ratio=50_000 / 3),
    dict(dataset=_base_.refcocop_train, ratio=50_000 / 3),
    # segmentation, 50K
    dict(dataset=_base_.sav_train, ratio=25_000),
    dict(dataset=_base_.mevis_train, ratio=25_000),
]

train_dataloader = dict(
    dataset=dict(type='MixedDataset', datasets=stage1_mixture,
                 num_samples=150_000, seed=0))
