# TPO stage 2 (task heads and tokens) training data, Table 17.
# One source per line: (source config of tpo_sources.py, samples per epoch).
# Swap a source by editing its line; a ratio of 0 leaves it out. The paper
# gives only the per-task totals: each task's samples are split equally
# between its datasets (AS-V2's share between its three files). The paper
# trains each head on its own task's data with its own schedule (temporal
# 25 epochs at batch 64, region 1 epoch, mask 3 epochs at batch 128); this
# single mixture holds one epoch of all three at the paper's per-task sizes.
_base_ = ['./tpo_sources.py']

stage2_mixture = [
    # temporal grounding, 116.5K
    dict(dataset=_base_.didemo_train, ratio=116_500 / 6),
    dict(dataset=_base_.queryd_train, ratio=116_500 / 6),
    dict(dataset=_base_.hirest_train, ratio=116_500 / 6),
    dict(dataset=_base_.activitynet_train, ratio=116_500 / 6),
    dict(dataset=_base_.tacos_train, ratio=116_500 / 6),
    dict(dataset=_base_.nlq_train, ratio=116_500 / 6),
    # spatial grounding, 540K
    dict(dataset=_base_.as_v2_caption_train, ratio=108_000 / 3),
    dict(dataset=_base_.as_v2_conversation_train, ratio=108_000 / 3),
    dict(dataset=_base_.as_v2_description_train, ratio=108_000 / 3),
    dict(dataset=_base_.visual_genome_train, ratio=108_000),
    dict(dataset=_base_.refcoco_train, ratio=108_000),
    dict(dataset=_base_.refcocop_train, ratio=108_000),
    dict(dataset=_base_.refcocog_train, ratio=108_000),
    # segmentation, 114.6K
    dict(dataset=_base_.sav_train, ratio=57_300),
    dict(dataset=_base_.mevis_train, ratio=57_300),
]

train_dataloader = dict(
    dataset=dict(type='MixedDataset', datasets=stage2_mixture,
                 num_samples=771_100, seed=0))
