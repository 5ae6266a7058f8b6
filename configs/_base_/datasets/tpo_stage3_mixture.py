# TPO stage 3 (joint training) data, Table 17.
# One source per line: (source config of tpo_sources.py, samples per epoch).
# Swap a source by editing its line; a ratio of 0 leaves it out. The paper
# gives only the per-task totals: each task's samples are split equally
# between its datasets (AS-V2's share between its three files). Stage 3's
# first part ("w/o Con.", Table 16) trains without the conversation lines:
# set their ratios to 0 and num_samples to 564_000.
_base_ = ['./tpo_sources.py']

stage3_mixture = [
    # temporal grounding, 7.5K
    dict(dataset=_base_.qvhighlights_train, ratio=7_500),
    # spatial grounding, 400K
    dict(dataset=_base_.as_v2_caption_train, ratio=80_000 / 3),
    dict(dataset=_base_.as_v2_conversation_train, ratio=80_000 / 3),
    dict(dataset=_base_.as_v2_description_train, ratio=80_000 / 3),
    dict(dataset=_base_.visual_genome_train, ratio=80_000),
    dict(dataset=_base_.refcoco_train, ratio=80_000),
    dict(dataset=_base_.refcocop_train, ratio=80_000),
    dict(dataset=_base_.refcocog_train, ratio=80_000),
    # segmentation, 116.5K
    dict(dataset=_base_.mevis_train, ratio=58_250),
    dict(dataset=_base_.sav_train, ratio=58_250),
    # temporal reasoning, 40K
    dict(dataset=_base_.youcook2_it_train, ratio=20_000),
    dict(dataset=_base_.activitynet_it_train, ratio=20_000),
    # conversation, 3M
    dict(dataset=_base_.videochat2_it_train, ratio=750_000),
    dict(dataset=_base_.sharegpt4o_train, ratio=750_000),
    dict(dataset=_base_.llava_hound_train, ratio=750_000),
    dict(dataset=_base_.sharegpt4v_train, ratio=750_000),
]

train_dataloader = dict(
    dataset=dict(type='MixedDataset', datasets=stage3_mixture,
                 num_samples=3_564_000, seed=0))
