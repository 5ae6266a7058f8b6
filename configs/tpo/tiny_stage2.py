# TPO stage 2, vision task training (Sec. 3.2): task tokens and task heads
# are trained on task data with the LLM's LoRA; the vision encoder and the
# connector stay frozen (Table 16).
_base_ = ['./tiny_stage1.py']

load_from = 'work_dirs/tiny_stage1'

model = dict(
    frozen_modules=('vision_encoder', 'connector'),
    loss_weights=dict(region=1.0))

train_dataloader = dict(
    dataset=dict(datasets=[
        _base_.refcoco_train, _base_.qvhighlights_train, _base_.mevis_train
    ]))
