# TPO stage 1 (task assignment) shared by the ablation rows that use task
# tokens: as tiny_stage1.py, on the task questions of every head (one
# temporal source, QVHighlights, common to both rows of Table 15).
_base_ = ['./mllm_base.py']

load_from = 'work_dirs/ablations/mllm_base'
train_dataloader = dict(dataset=dict(datasets=[
    _base_.refcoco_train, _base_.qvhighlights_train, _base_.mevis_train,
    _base_.lasot_train, _base_.videochat2_it_train]))
max_iters = 200  # tiny_stage1.py's length
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
