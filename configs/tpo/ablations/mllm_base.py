# The base MLLM shared by every ablation row: tiny_mllm_base.py's data,
# schedule and frozen modules, built with the ablation model (all heads and
# the box-prompt encoder, untrained here) so that later checkpoints share
# its vocabulary and keys.
_base_ = [
    '../../_base_/models/tpo_tiny_all_heads.py',
    '../../_base_/datasets/synthetic_world_ablations.py',
    '../../_base_/schedules/tiny_stage0.py', '../../_base_/default_runtime.py'
]

model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[
    _base_.videochat2_it_train, _base_.mvbench_train]))
