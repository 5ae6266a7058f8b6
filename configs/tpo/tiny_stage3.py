# TPO stage 3, multi-task training (Sec. 3.2), second part: every head
# (region, temporal CG-DETR, SAM2 mask and tracking), task token, LoRA and
# the connector train jointly on the task data mixed with conversations, so
# that head gradients shape the MLLM (the tiny ViT stays frozen, see
# tiny_mllm_base.py).
_base_ = [
    '../_base_/models/tpo_tiny_all_heads.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage3.py', '../_base_/default_runtime.py'
]

load_from = 'work_dirs/tiny_stage3_no_conversation'
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=_base_.task_train_datasets + [
    _base_.videochat2_it_train, _base_.mvbench_train]))
test_dataloader = dict(dataset=dict(datasets=_base_.every_task_test_datasets))
test_evaluator = _base_.every_task_metrics
val_dataloader = test_dataloader
val_evaluator = test_evaluator
