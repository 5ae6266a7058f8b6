# TPO stage 3, first part ("Stage 3 w/o Con.", Table 16), on the tiny model:
# every head, task token, LoRA and the connector train jointly on the task
# data only, from the three stage-2 runs joined by
# tools/model_converters/combine_stage2_runs.py into work_dirs/tiny_stage2
# (or the joint tiny_stage2.py).
_base_ = [
    '../_base_/models/tpo_tiny_all_heads.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage3_no_conversation.py',
    '../_base_/default_runtime.py'
]

load_from = 'work_dirs/tiny_stage2'
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=_base_.task_train_datasets))
test_dataloader = dict(dataset=dict(datasets=_base_.every_task_test_datasets))
test_evaluator = _base_.every_task_metrics
val_dataloader = test_dataloader
val_evaluator = test_evaluator
