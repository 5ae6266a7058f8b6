# The schedule of the synthetic world's base MLLM (tpo/tiny_mllm_base.py):
# the LLM learns to chat through LoRA; the tiny ViT, Q-Former, task tokens,
# heads and box-prompt encoder are not trained (and the heads' losses are
# off).
_base_ = ['./tiny_adamw.py']

max_iters = 600  # enough for chat and multiple choice on the tiny world
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# Merged into the recipe's model by `model = _base_.stage_model`.
stage_model = dict(
    frozen_modules=('vision_encoder', 'connector', 'task_tokens', 'heads',
                    'box_prompt_encoder'),
    loss_weights=dict(heads=0.0))
