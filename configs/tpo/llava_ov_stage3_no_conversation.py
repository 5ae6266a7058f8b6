# LLaVA-OV + TPO stage 3, first part ("Stage 3 w/o Con.", Table 16; Table
# 17 without the conversation data): the whole model except SAM2 trains
# jointly at 2e-5 on the task data (QVHighlights, AS-V2 / VG / RefCOCO*,
# MeViS / SA-V, YouCook2 / ActivityNet temporal reasoning).
_base_ = [
    './llava_ov_common.py', '../_base_/datasets/tpo_stage3_mixture.py'
]

# ---------------------------------------------------------------- settings
load_from = 'work_dirs/llava_ov_stage2'  # the previous stage's work dir
work_dir = 'work_dirs/llava_ov_stage3_no_conversation'
base_lr = 2e-5  # Table 16: every module at 2e-5
# Total batch 256 (Table 16) = 32 GPUs x 4 x 2 (gradient accumulation).
num_gpus = 32  # documentation only: the launcher decides
batch_size = 4  # per GPU
accumulative_counts = 2
max_epochs = 1
warmup_ratio = 0.2
# Sources of Table 17's conversation row, left out here.
conversation_sources = ('videochat2_it', 'sharegpt4o', 'llava_hound',
                        'sharegpt4v')
# ---------------------------------------------------------------------------

# LLaVA-OV's SigLIP reads 384x384 frames (27x27 patches; Table 16's 224 is
# VideoChat2's UMT-L): the mixture's pipelines with every resize at
# img_size.
img_size = 384


def _resized(step):
    if step['type'] in ('ResizeFrames', 'LoadImageSequence'):
        return dict(step, size=(img_size, img_size))
    return step


def _at_img_size(entry):
    dataset = entry['dataset']
    pipeline = [_resized(step) for step in dataset['pipeline']]
    return dict(entry, dataset=dict(dataset, pipeline=pipeline))


model = dict(frozen_modules=('heads.mask.sam', ))

optim_wrapper = dict(
    accumulative_counts=accumulative_counts,
    optimizer=dict(lr=base_lr),
    paramwise_cfg=dict(custom_keys={
        'vision_encoder': dict(lr_mult=1.0),
        'connector': dict(lr_mult=1.0),
        'llm': dict(lr_mult=1.0),
        'heads.temporal': dict(lr_mult=1.0),
        'heads.region': dict(lr_mult=1.0),
        'heads.mask': dict(lr_mult=1.0),  # mask adapter (SAM2 frozen)
        'task_tokens.tokens.temporal': dict(lr_mult=1.0),
        'task_tokens.tokens.region': dict(lr_mult=1.0),
        'task_tokens.tokens.mask': dict(lr_mult=1.0),
        'box_prompt_encoder': dict(lr_mult=1.0),
    }))

# The stage-3 mixture with the conversation ratios set to 0 (564K samples).
train_dataloader = dict(
    batch_size=batch_size,
    dataset=dict(
        datasets=[
            dict(_at_img_size(entry), ratio=0)
            if entry['dataset']['source'] in conversation_sources else
            _at_img_size(entry) for entry in _base_.stage3_mixture
        ],
        num_samples=564_000))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
# Linear warmup over the first 20% of the iterations, then cosine decay
# (epochs are converted to iterations of the real dataloader).
warmup_epochs = round(warmup_ratio * max_epochs, 6)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
