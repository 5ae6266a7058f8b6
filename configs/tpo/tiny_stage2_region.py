# TPO stage 2, region run, on the tiny model (the 7B run:
# videochat_stage2_region.py): the region head and token learn referring
# boxes from RefCOCO for 1,200 iterations; the other heads are frozen
# (../_base_/schedules/tiny_stage2_region.py).
_base_ = [
    '../_base_/models/tpo_tiny_all_heads.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage2_region.py',
    '../_base_/default_runtime.py'
]

load_from = 'work_dirs/tiny_stage1'
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[_base_.refcoco_train]))
test_dataloader = dict(dataset=dict(datasets=[_base_.refcoco_val]))
test_evaluator = [dict(type='ReferringBoxAccuracy', tasks=('region', )),
                  dict(type='TaskAssignAccuracy')]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
