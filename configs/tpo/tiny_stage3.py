# TPO stage 3, multi-task training (Sec. 3.2): the connector, task tokens,
# heads and LoRA are trained jointly on task data mixed with conversations,
# so head gradients shape the MLLM (the tiny ViT stays frozen, see
# tiny_mllm_base.py). The referring data is repeated (3 times) so that the
# head keeps a large share of the (short) schedule.
_base_ = [
    '../_base_/models/tpo_tiny.py', '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage3.py', '../_base_/default_runtime.py'
]

load_from = 'work_dirs/tiny_stage2'
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
    _base_.qvhighlights_train, _base_.mevis_train,
    _base_.videochat2_it_train, _base_.mvbench_train]))
