# TPO stage 1 on the tiny model (tpo/tiny_stage1.py), task assignment: the
# modules and losses of the base MLLM's stage (LoRA only, LM loss only),
# for fewer iterations.
_base_ = ['./tiny_stage0.py']

max_iters = 100  # the task-begin tokens are learned quickly
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
