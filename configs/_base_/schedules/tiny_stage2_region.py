# The region run of the tiny model's stage 2 (tpo/tiny_stage2_region.py; the
# 7B run: tpo_stage2_region.py): the region head and token, LoRA and the
# connector train for tiny_stage2.py's 1,200 iterations (the from-scratch
# region head needs them); the temporal and mask heads, their tokens and
# the box-prompt encoder are frozen.
_base_ = ['./tiny_stage2.py']

stage_model = dict(frozen_modules=(
    'vision_encoder', 'heads.temporal', 'heads.mask',
    'task_tokens.tokens.temporal', 'task_tokens.tokens.mask',
    'box_prompt_encoder'))
