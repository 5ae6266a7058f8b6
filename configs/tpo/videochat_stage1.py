# VideoChat-TPO stage 1, task assignment (Table 16, first column; Table 17):
# only the LLM's LoRA trains, with the LM loss, so that the MLLM learns to
# answer task requests with the task-begin tokens. 50K samples per task.
_base_ = [
    './videochat_common.py', '../_base_/schedules/tpo_stage1.py',
    '../_base_/datasets/tpo_stage1_mixture.py'
]

# ---------------------------------------------------------------- settings
# The converted VideoChat2 stage-3 model (UMT-L, Q-Former, Mistral LoRA):
#   python tools/model_converters/videochat2_to_tpo.py \
#   checkpoints/VideoChat2_stage3_Mistral_7B/videochat2_mistral_7b_stage3.pth \
#       checkpoints/videochat2_stage3_converted.safetensors \
#       --config configs/_base_/models/videochat2_umtl_mistral7b.py
load_from = 'checkpoints/videochat2_stage3_converted.safetensors'
work_dir = 'work_dirs/videochat_stage1'

model = _base_.stage_model
