# TPO stage 2, region run (Table 16, "Stage 2" column, third of "64/128/128"
# and "25/3/1"): the region head and the region token train with the LLM's
# LoRA (2e-5) for 1 epoch of the spatial grounding data at total batch 128.
# Their rate is Table 16's 1e-4; the appendix text says 2e-5 for the region
# head and token (and for the mask adapter and token): the recipes follow
# the table (docs/training_recipes.md). The rates are tpo_stage2.py's.
# Shared by videochat_stage2_region.py and llava_ov_stage2_region.py.
_base_ = ['./tpo_stage2.py']

# ---------------------------------------------------------------- settings
# Total batch 128 = 32 GPUs x 4 (the recipe's train_dataloader.batch_size)
# x 1.
per_gpu_batch_size = 4
# 1 epoch (Table 16): tpo_stage2.py's schedule.
# ---------------------------------------------------------------------------

stage_model = dict(frozen_modules=(
    'vision_encoder', 'connector', 'heads.temporal', 'heads.mask',
    'task_tokens.tokens.temporal', 'task_tokens.tokens.mask',
    'box_prompt_encoder'))
