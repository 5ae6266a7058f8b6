# TPO stage 1 of Table 16 (frozen modules, per-module learning rates,
# batch, epochs, warmup + cosine), shared by videochat_stage1.py and
# llava_ov_stage1.py, which add their model, data (tpo_stage1_mixture.py),
# load_from and work_dir.
_base_ = ['./tpo_adamw_bf16.py']

# ---------------------------------------------------------------- settings
base_lr = 2e-5  # Table 16: LLM LoRA LR; every lr_mult is relative to it
# Total batch 128 (Table 16) = num_gpus x batch_size (per GPU, 4 in
# tpo_sources.py) x accumulative_counts:
# the paper's 32 A100s x 4. On 8 GPUs set accumulative_counts = 4.
num_gpus = 32  # documentation only: the launcher decides
accumulative_counts = 1
max_epochs = 1  # Table 16
# Table 16's total batch, which the learning rates are tuned for. Another
# processes x batch_size x accumulative_counts is logged at start;
# auto_scale_lr.enable=True then scales every rate by actual / 128
# (tpo.engine.global_batch: gradient accumulation counted).
global_batch_size = 128
# ---------------------------------------------------------------------------

# Merged into the recipe's model by `model = _base_.stage_model`.
stage_model = dict(
    # Heads, task tokens and the box-prompt encoder are not trained yet;
    # their losses are off. The converted base-MLLM checkpoint has none of
    # them (nor the task-begin rows): load it non-strictly.
    frozen_modules=('vision_encoder', 'connector', 'task_tokens', 'heads',
                    'box_prompt_encoder'),
    loss_weights=dict(heads=0.0),
    strict_load=False)

optim_wrapper = dict(
    accumulative_counts=accumulative_counts,
    optimizer=dict(lr=base_lr),
    paramwise_cfg=dict(custom_keys={
        'llm': dict(lr_mult=1.0),  # LoRA: 2e-5
    }))

auto_scale_lr = dict(enable=False, base_batch_size=global_batch_size)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
