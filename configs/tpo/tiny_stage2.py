# TPO stage 2, vision task training (Sec. 3.2): task tokens and task heads
# are trained on task data with the LLM's LoRA. Table 16 also freezes the
# connector, whose VideoChat2 weights were pretrained on millions of
# captions; the tiny connector is still at its random initialisation (see
# tiny_mllm_base.py), so here it trains with the head. The tiny model has
# one head (region), so this stage trains on the referring data that feeds
# it.
_base_ = [
    '../_base_/models/tpo_tiny.py', '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage2.py', '../_base_/default_runtime.py'
]

load_from = 'work_dirs/tiny_stage1'
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[_base_.refcoco_train]))
