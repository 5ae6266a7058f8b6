# VideoChat-TPO stage 1, task assignment (Table 16, first column; Table 17):
# only the LLM's LoRA trains, with the LM loss, so that the MLLM learns to
# answer task requests with the task-begin tokens. 50K samples per task.
_base_ = [
    './videochat_common.py', '../_base_/datasets/tpo_stage1_mixture.py'
]

# ---------------------------------------------------------------- settings
# The converted VideoChat2 stage-3 model (UMT-L, Q-Former, Mistral LoRA):
#   python tools/model_converters/videochat_tpo_to_tpo.py \
#   checkpoints/VideoChat2_stage3_Mistral_7B/videochat2_mistral_7b_stage3.pth \
#       checkpoints/videochat2_stage3_converted.safetensors \
#       --config configs/_base_/models/videochat2_umtl_mistral7b.py
load_from = 'checkpoints/videochat2_stage3_converted.safetensors'
work_dir = 'work_dirs/videochat_stage1'
base_lr = 2e-5  # Table 16: LLM LoRA LR; every lr_mult is relative to it
# Total batch 128 (Table 16) = num_gpus x batch_size x accumulative_counts:
# the paper's 32 A100s x 4. On 8 GPUs set accumulative_counts = 4.
num_gpus = 32  # documentation only: the launcher decides
batch_size = 4  # per GPU
accumulative_counts = 1
max_epochs = 1  # Table 16
warmup_ratio = 0.2  # Table 16
# ---------------------------------------------------------------------------

model = dict(
    # Heads, task tokens and the box-prompt encoder are not trained yet;
    # their losses are off. The converted VideoChat2 checkpoint has none of
    # them (nor the task-begin rows): load it non-strictly.
    frozen_modules=('vision_encoder', 'connector', 'task_tokens', 'heads',
                    'box_prompt_encoder'),
    loss_weights=dict(region=0.0, temporal=0.0, mask=0.0),
    strict_load=False)

optim_wrapper = dict(
    accumulative_counts=accumulative_counts,
    optimizer=dict(lr=base_lr),
    paramwise_cfg=dict(custom_keys={
        'llm': dict(lr_mult=1.0),  # LoRA: 2e-5
    }))

train_dataloader = dict(batch_size=batch_size)
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
