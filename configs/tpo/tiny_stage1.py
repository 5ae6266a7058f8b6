# TPO stage 1, task assignment (Sec. 3.2): on task-instruction data (Tables
# 18-21) the LLM learns, through LoRA only, to answer with the task-begin
# token. Task tokens and heads are not trained yet.
_base_ = ['./tiny_mllm_base.py']

load_from = 'work_dirs/tiny_mllm_base'  # the previous stage's work dir

model = dict(
    frozen_modules=('vision_encoder', 'connector', 'task_tokens', 'heads'),
    loss_weights=dict(region=0.0))

train_dataloader = dict(
    dataset=dict(datasets=[
        _base_.refcoco_train, _base_.qvhighlights_train, _base_.mevis_train,
        _base_.videochat2_it_train
    ]))

# Schedule of this stage (derived fields reassigned explicitly).
max_iters = 200
warmup_iters = int(0.2 * max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters,
         end=max_iters, eta_min_ratio=0.01),
]
