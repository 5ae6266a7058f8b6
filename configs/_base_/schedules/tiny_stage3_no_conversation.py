# The first part of the tiny model's stage 3
# (tpo/tiny_stage3_no_conversation.py; the 7B:
# tpo_stage3_no_conversation.py): the modules of stage 2 and 3 (every head,
# task token and the box-prompt encoder, LoRA, the connector) on the task
# data only, for a short run.
_base_ = ['./tiny_stage2.py']

max_iters = 60  # a short run: the quick start mirrors the paper's structure
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
