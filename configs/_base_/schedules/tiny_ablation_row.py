# The schedule of an ablation row (tpo/ablations/tpo_full.py and its
# variants): the task stage (the paper's stages 2 and 3 merged), sized so
# that every row with 2 seeds fits well within an hour on 2 CPU cores
# (docs/ablations.md).
_base_ = ['./tiny_adamw.py']

max_iters = 250
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
