# LLaVA-OV + TPO stage 3, first part ("Stage 3 w/o Con.", Table 16; Table
# 17 without the conversation data): the whole model except SAM2 trains
# jointly at 2e-5 on the task data (QVHighlights, AS-V2 / VG / RefCOCO*,
# MeViS / SA-V, YouCook2 / ActivityNet temporal reasoning). Everything else
# is llava_ov_stage3.py's.
_base_ = ['./llava_ov_stage3.py']

# ---------------------------------------------------------------- settings
load_from = 'work_dirs/llava_ov_stage2'  # the previous stage's work dir
work_dir = 'work_dirs/llava_ov_stage3_no_conversation'
max_epochs = 1
# Sources of Table 17's conversation row, left out here.
conversation_sources = ('videochat2_it', 'sharegpt4o', 'llava_hound',
                        'sharegpt4v')
# ---------------------------------------------------------------------------

# The stage-3 mixture with the conversation ratios set to 0 (564K samples).
train_dataloader = dict(
    dataset=dict(
        datasets=[
            dict(entry, ratio=0)
            if entry['dataset']['source'] in conversation_sources else entry
            for entry in _base_.train_dataloader.dataset.datasets
        ],
        num_samples=564_000))
# Derived from max_epochs (reassigned explicitly).
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
warmup_epochs = round(_base_.warmup_ratio * max_epochs, 6)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
