# The base MLLM of the synthetic world. The paper starts TPO from a trained
# VideoChat2; no weights can be downloaded for the tiny model, so this config
# trains its stand-in on the world's conversation and multiple-choice data:
# the LLM (through LoRA) learns to chat about videos. The model is already
# the one of every later stage (all three heads and the box-prompt encoder,
# frozen here), so that every checkpoint of the chain shares its
# vocabulary and keys. The tiny ViT and Q-Former stay at their random
# initialisation here: random features are usable at once, while a
# connector trained on chat alone lost the spatial detail that boxes need
# and the region head then learned markedly slower in stage 2 (it trains
# from stage 2 on, the ViT never).
_base_ = [
    '../_base_/models/tpo_tiny_all_heads.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage0.py', '../_base_/default_runtime.py'
]

model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[
    _base_.videochat2_it_train, _base_.mvbench_train]))
