# LLaVA-OV + TPO stage 1, task assignment (Table 16, first column; Table 17):
# only the LLM's LoRA trains, with the LM loss, so that the MLLM learns to
# answer task requests with the task-begin tokens. 50K samples per task.
_base_ = [
    './llava_ov_common.py', '../_base_/datasets/tpo_stage1_mixture.py'
]

# ---------------------------------------------------------------- settings
# LLaVA-OneVision-7B (tower, projector, newline, Qwen2) with keys renamed
# by convert_llava_onevision_state_dict
# (tpo/models/connectors/mlp_projector.py) from the hub's
# llava-hf/llava-onevision-qwen2-7b-ov-hf.
load_from = 'checkpoints/llava_onevision_qwen2_7b_ov_converted.safetensors'
work_dir = 'work_dirs/llava_ov_stage1'
base_lr = 2e-5  # Table 16: LLM LoRA LR; every lr_mult is relative to it
# Total batch 128 (Table 16) = num_gpus x batch_size x accumulative_counts:
# the paper's 32 A100s x 4. On 8 GPUs set accumulative_counts = 4.
num_gpus = 32  # documentation only: the launcher decides
batch_size = 4  # per GPU
accumulative_counts = 1
max_epochs = 1  # Table 16
warmup_ratio = 0.2  # Table 16
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


model = dict(
    # Heads, task tokens and the box-prompt encoder are not trained yet;
    # their losses are off. The converted LLaVA-OV checkpoint has none of
    # them (nor LoRA): load it non-strictly.
    frozen_modules=('vision_encoder', 'connector', 'task_tokens', 'heads',
                    'box_prompt_encoder'),
    loss_weights=dict(region=0.0, temporal=0.0, mask=0.0),
    strict_load=False)

optim_wrapper = dict(
    accumulative_counts=accumulative_counts,
    optimizer=dict(lr=base_lr),
    paramwise_cfg=dict(custom_keys={
        'llm': dict(lr_mult=1.0),  # LoRA and task-begin rows: 2e-5
    }))

train_dataloader = dict(
    batch_size=batch_size,
    dataset=dict(datasets=[
        _at_img_size(entry) for entry in _base_.stage1_mixture
    ]))
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
