# TPO stage 3 on the tiny model (tpo/tiny_stage3.py): the modules of stage
# 2 (every head, task token and the box-prompt encoder, LoRA, the
# connector), trained jointly on task data and conversations.
_base_ = ['./tiny_stage2.py']

max_iters = 250  # the joint stage, shorter than the region run
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
