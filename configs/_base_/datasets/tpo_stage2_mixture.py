# TPO stage 2 (task heads and tokens) training data, Table 17, one list per
# head: the paper trains each head on its own task's data
# (videochat_stage2_{temporal,mask,region}.py pick one list each); the
# joint run (videochat_stage2.py) mixes the three lists for one epoch.
# One source per line: (source config of tpo_sources.py, samples per epoch).
# Swap a source by editing its line; a ratio of 0 leaves it out. The paper
# gives only the per-task totals: each task's samples are split equally
# between its datasets (AS-V2's share between its three files).
_base_ = ['./tpo_sources.py']

# temporal grounding, 116.5K
temporal_mixture = [
    dict(dataset=_base_.didemo_train, ratio=116_500 / 6),
    dict(dataset=_base_.queryd_train, ratio=116_500 / 6),
    dict(dataset=_base_.hirest_train, ratio=116_500 / 6),
    dict(dataset=_base_.activitynet_train, ratio=116_500 / 6),
    dict(dataset=_base_.tacos_train, ratio=116_500 / 6),
    dict(dataset=_base_.nlq_train, ratio=116_500 / 6),
]
temporal_samples = 116_500
# spatial grounding, 540K
region_mixture = [
    dict(dataset=_base_.as_v2_caption_train, ratio=108_000 / 3),
    dict(dataset=_base_.as_v2_conversation_train, ratio=108_000 / 3),
    dict(dataset=_base_.as_v2_description_train, ratio=108_000 / 3),
    dict(dataset=_base_.visual_genome_train, ratio=108_000),
    dict(dataset=_base_.refcoco_train, ratio=108_000),
    dict(dataset=_base_.refcocop_train, ratio=108_000),
    dict(dataset=_base_.refcocog_train, ratio=108_000),
]
region_samples = 540_000
# segmentation, 114.6K (Table 17: SA-V, MeViS), plus the appendix's
# "expanded ASv2 (we convert images into videos)", whose size the paper
# does not give: assumed as large as each of the other two sources.
mask_mixture = [
    dict(dataset=_base_.sav_train, ratio=57_300),
    dict(dataset=_base_.mevis_train, ratio=57_300),
    dict(dataset=_base_.as_v2_video_caption_train, ratio=57_300 / 3),
    dict(dataset=_base_.as_v2_video_conversation_train, ratio=57_300 / 3),
    dict(dataset=_base_.as_v2_video_description_train, ratio=57_300 / 3),
]
mask_samples = 171_900

train_dataloader = dict(
    dataset=dict(type='MixedDataset',
                 datasets=temporal_mixture + region_mixture + mask_mixture,
                 num_samples=temporal_samples + region_samples +
                 mask_samples, seed=0))
