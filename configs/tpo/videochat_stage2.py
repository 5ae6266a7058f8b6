# VideoChat-TPO stage 2, task heads and task tokens (Table 16, second
# column; Table 17): the temporal, region and mask heads and their task
# tokens train from scratch, with the LLM's LoRA; the vision encoder, the
# connector and SAM2 inside the mask head stay frozen.
#
# The paper trains each head on its own task's data with its own schedule
# (videochat_stage2_{temporal,mask,region}.py, combined by
# tools/model_converters/combine_stage2_runs.py). This recipe is the
# one-run alternative: the three heads trained jointly for one epoch of
# the three runs' data (tpo_stage2_mixture.py) at total batch 128.
_base_ = [
    './videochat_common.py', '../_base_/schedules/tpo_stage2.py',
    '../_base_/datasets/tpo_stage2_mixture.py'
]

# ---------------------------------------------------------------- settings
load_from = 'work_dirs/videochat_stage1'  # the previous stage's work dir
work_dir = 'work_dirs/videochat_stage2'

model = _base_.stage_model
