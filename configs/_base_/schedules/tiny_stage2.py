# TPO stage 2 on the tiny model: task tokens, heads, connector and LoRA
# train; the tiny ViT stays at its random initialisation (see
# tpo/tiny_mllm_base.py). The joint run (tpo/tiny_stage2.py) and the region
# run (tiny_stage2_region.py) use it as it is; the temporal and mask runs
# (tiny_stage2_{temporal,mask}.py) are shorter.
_base_ = ['./tiny_adamw.py']

max_iters = 1200  # the from-scratch region head needs the most steps
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# Merged into the recipe's model by `model = _base_.stage_model`.
stage_model = dict(frozen_modules=('vision_encoder', ))
