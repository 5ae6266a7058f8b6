# LLaVA-OV + TPO stage 1, task assignment (Table 16, first column; Table 17):
# only the LLM's LoRA trains, with the LM loss, so that the MLLM learns to
# answer task requests with the task-begin tokens. 50K samples per task.
_base_ = [
    './llava_ov_common.py', '../_base_/schedules/tpo_stage1.py',
    '../_base_/datasets/tpo_stage1_mixture.py'
]

# ---------------------------------------------------------------- settings
# LLaVA-OneVision-7B (tower, projector, newline, Qwen2) converted by
#   python tools/model_converters/llava_onevision_to_tpo.py \
#       checkpoints/llava-onevision-qwen2-7b-ov-hf \
#       checkpoints/llava_onevision_qwen2_7b_ov_converted.safetensors
# from the hub's llava-hf/llava-onevision-qwen2-7b-ov-hf.
load_from = 'checkpoints/llava_onevision_qwen2_7b_ov_converted.safetensors'
work_dir = 'work_dirs/llava_ov_stage1'

model = _base_.stage_model
train_dataloader = dict(
    dataset=dict(pipeline_overrides=_base_.llava_ov_frames))
