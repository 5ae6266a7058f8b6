# The mask run of the tiny model's stage 2 (tpo/tiny_stage2_mask.py; the 7B
# run: tpo_stage2_mask.py): the mask adapter (SAM2 frozen), the mask token,
# the box-prompt encoder, LoRA and the connector train; the temporal and
# region heads and their tokens are frozen.
_base_ = ['./tiny_stage2.py']

max_iters = 100  # a short run: the quick start mirrors the paper's structure
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
stage_model = dict(frozen_modules=(
    'vision_encoder', 'heads.temporal', 'heads.region',
    'task_tokens.tokens.temporal', 'task_tokens.tokens.region'))
