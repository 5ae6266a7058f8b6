# LLaVA-OV + TPO stage 1, task assignment (Table 16, first column; Table 17):
# only the LLM's LoRA trains, with the LM loss, so that the MLLM learns to
# answer task requests with the task-begin tokens. 50K samples per task.
_base_ = [
    './llava_ov_common.py', '../_base_/schedules/tpo_stage1.py'
]

# ---------------------------------------------------------------- settings
# LLaVA-OneVision-7B (tower, projector, newline, Qwen2) with keys renamed
# by convert_llava_onevision_state_dict
# (tpo/models/connectors/mlp_projector.py) from the hub's
# llava-hf/llava-onevision-qwen2-7b-ov-hf.
load_from = 'checkpoints/llava_onevision_qwen2_7b_ov_converted.safetensors'
work_dir = 'work_dirs/llava_ov_stage1'

model = _base_.stage_model

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


train_dataloader = dict(dataset=dict(datasets=[
    _at_img_size(entry) for entry in _base_.stage1_mixture
]))
