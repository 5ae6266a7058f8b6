# TPO stage 2, temporal run (Table 16, "Stage 2" column, first of
# "64/128/128" and "25/3/1"): the temporal head (1e-4) and the temporal
# token (2e-4) train with the LLM's LoRA (2e-5) for 25 epochs of the
# temporal grounding data at total batch 64; everything else is frozen
# (the other heads, their tokens and the box-prompt encoder are trained by
# the mask and region runs, tpo_stage2_{mask,region}.py). The rates are
# tpo_stage2.py's. Shared by videochat_stage2_temporal.py and
# llava_ov_stage2_temporal.py.
_base_ = ['./tpo_stage2.py']

# ---------------------------------------------------------------- settings
# Total batch 64 = 32 GPUs x 2 (the recipe's train_dataloader.batch_size)
# x 1.
per_gpu_batch_size = 2
max_epochs = 25  # Table 16
global_batch_size = 64  # Table 16
# ---------------------------------------------------------------------------

stage_model = dict(frozen_modules=(
    'vision_encoder', 'connector', 'heads.region', 'heads.mask',
    'task_tokens.tokens.region', 'task_tokens.tokens.mask',
    'box_prompt_encoder'))
auto_scale_lr = dict(base_batch_size=global_batch_size)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
