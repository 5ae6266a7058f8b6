# The temporal run of the tiny model's stage 2 (tpo/tiny_stage2_temporal.py;
# the 7B run: tpo_stage2_temporal.py): the temporal head and token, LoRA and
# the connector (see tpo/tiny_stage2.py) train; the other heads, their
# tokens and the box-prompt encoder are frozen (the mask and region runs
# train them).
_base_ = ['./tiny_stage2.py']

max_iters = 150  # a short run: the quick start mirrors the paper's structure
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
stage_model = dict(frozen_modules=(
    'vision_encoder', 'heads.region', 'heads.mask',
    'task_tokens.tokens.region', 'task_tokens.tokens.mask',
    'box_prompt_encoder'))
