# The schedule of the synthetic world's base MLLM (tpo/tiny_mllm_base.py):
# the LLM learns to chat through LoRA; the tiny ViT, Q-Former, task tokens,
# heads and box-prompt encoder are not trained (and the heads' losses are
# off).
_base_ = ['./tiny_adamw.py']

# The quick start's budget (15 minutes on 2 CPU cores for the whole chain,
# docs/miniature.md) sets the length of every tiny stage.
max_iters = 300
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# Merged into the recipe's model by `model = _base_.stage_model`.
stage_model = dict(
    frozen_modules=('vision_encoder', 'connector', 'task_tokens', 'heads',
                    'box_prompt_encoder'),
    loss_weights=dict(heads=0.0))
