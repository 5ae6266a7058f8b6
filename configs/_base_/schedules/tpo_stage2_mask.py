# TPO stage 2, mask run (Table 16, "Stage 2" column, second of "64/128/128"
# and "25/3/1"): the mask adapter and the mask token (1e-4) train with the
# LLM's LoRA (2e-5) for 3 epochs of the segmentation data at total batch
# 128; SAM2 stays frozen (the head declares it). The box-prompt encoder of
# tracking prompts (the release's, not in Table 16) trains here, like the
# adapter. The rates are tpo_stage2.py's. Shared by videochat_stage2_mask.py
# and llava_ov_stage2_mask.py.
_base_ = ['./tpo_stage2.py']

# ---------------------------------------------------------------- settings
# Total batch 128 = 32 GPUs x 4 (the recipe's train_dataloader.batch_size)
# x 1.
per_gpu_batch_size = 4
max_epochs = 3  # Table 16
# ---------------------------------------------------------------------------

stage_model = dict(frozen_modules=(
    'vision_encoder', 'connector', 'heads.temporal', 'heads.region',
    'task_tokens.tokens.temporal', 'task_tokens.tokens.region'))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
