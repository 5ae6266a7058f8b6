# LLaVA-OV + TPO stage 3, second part (Table 16, last column; Table 17): the
# whole model except SAM2 trains jointly at 2e-5 on the task data mixed with
# 3M conversation samples (VideoChat2-IT, ShareGPT-4o, LLaVA-Hound,
# ShareGPT4V), so that the task heads' gradients shape the MLLM.
_base_ = [
    './llava_ov_common.py', '../_base_/schedules/tpo_stage3.py',
    '../_base_/datasets/tpo_stage3_mixture.py'
]

# ---------------------------------------------------------------- settings
# The first part of stage 3; to skip it, point at work_dirs/llava_ov_stage2.
load_from = 'work_dirs/llava_ov_stage3_no_conversation'
work_dir = 'work_dirs/llava_ov_stage3'

model = _base_.stage_model
train_dataloader = dict(
    dataset=dict(pipeline_overrides=_base_.llava_ov_frames))
