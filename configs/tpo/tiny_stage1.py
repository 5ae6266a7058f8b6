# TPO stage 1, task assignment (Sec. 3.2): on task-instruction data (Tables
# 18-21) the LLM learns, through LoRA only, to answer with the task-begin
# token of each task (tracking included). Task tokens and heads are not
# trained yet.
_base_ = [
    '../_base_/models/tpo_tiny_all_heads.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage1.py', '../_base_/default_runtime.py'
]

load_from = 'work_dirs/tiny_mllm_base'  # the previous stage's work dir
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[
    _base_.refcoco_train, _base_.qvhighlights_train, _base_.mevis_train,
    _base_.lasot_train, _base_.videochat2_it_train]))
