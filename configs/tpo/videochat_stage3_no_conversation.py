# VideoChat-TPO stage 3, first part ("Stage 3 w/o Con.", Table 16; Table
# 17 without the conversation data): the whole model except SAM2 trains
# jointly at 2e-5 on the task data for one epoch; the second part,
# videochat_stage3.py, adds the conversations.
_base_ = [
    './videochat_common.py',
    '../_base_/schedules/tpo_stage3_no_conversation.py',
    '../_base_/datasets/tpo_stage3_no_conversation_mixture.py'
]

# Stage 2: the three runs combined by
# tools/model_converters/combine_stage2_runs.py (or the joint run).
load_from = 'work_dirs/videochat_stage2'
work_dir = 'work_dirs/videochat_stage3_no_conversation'
model = _base_.stage_model
