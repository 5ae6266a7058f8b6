# TPO stage 2, vision task training (Sec. 3.2), as one joint run: the task
# tokens and all three heads train together on their task data with the
# LLM's LoRA. The paper trains the heads in three runs instead
# (tiny_stage2_{temporal,mask,region}.py, joined by
# tools/model_converters/combine_stage2_runs.py), which the quick start
# follows. Table 16 also freezes the connector, whose VideoChat2 weights were
# pretrained on millions of captions; the tiny connector is still at its
# random initialisation (see tiny_mllm_base.py), so here it trains with the
# heads.
_base_ = [
    '../_base_/models/tpo_tiny_all_heads.py',
    '../_base_/datasets/synthetic_world.py',
    '../_base_/schedules/tiny_stage2.py', '../_base_/default_runtime.py'
]

load_from = 'work_dirs/tiny_stage1'
model = _base_.stage_model
train_dataloader = dict(dataset=dict(datasets=[
    _base_.refcoco_train, _base_.qvhighlights_train, _base_.mevis_train,
    _base_.lasot_train]))
