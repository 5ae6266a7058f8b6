# TPO stage 3's first part ("Stage 3 w/o Con.", Table 17 without the
# conversation data): the stage-3 mixture with the conversation ratios set
# to 0, 564K samples (QVHighlights, AS-V2 / VG / RefCOCO*, MeViS / SA-V,
# YouCook2 / ActivityNet temporal reasoning).
_base_ = ['./tpo_stage3_mixture.py']

# Sources of Table 17's conversation row, left out here.
conversation_sources = ('videochat2_it', 'sharegpt4o', 'llava_hound',
                        'sharegpt4v')
stage3_mixture = [
    dict(entry, ratio=0)
    if entry['dataset']['source'] in conversation_sources else entry
    for entry in _base_.stage3_mixture
]
train_dataloader = dict(dataset=dict(datasets=stage3_mixture,
                                     num_samples=564_000))
