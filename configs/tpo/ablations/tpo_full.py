# The reference row of the ablations (docs/ablations.md): every task head
# (temporal CG-DETR, region and SAM2 mask heads) trained with conversation
# data from the shared task-assignment checkpoint (stage1.py), with two
# temporal grounding sources: QVHighlights and the world's
# Charades-STA-style annotations (Table 15, "several"). Every other
# ablation row changes a few keys of this one.
_base_ = [
    '../../_base_/models/tpo_tiny_all_heads.py',
    '../../_base_/datasets/synthetic_world_ablations.py',
    '../../_base_/schedules/tiny_ablation_row.py',
    '../../_base_/default_runtime.py'
]

# Checkpoints of the shared stages hold every head and the box-prompt
# encoder; a row that drops a head skips those keys.
load_from = 'work_dirs/ablations/stage1'
model = dict(frozen_modules=('vision_encoder', ), strict_load=False)
# The referring data is repeated (3 times) so that the region head keeps a
# large share of the short schedule.
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
    _base_.qvhighlights_train, _base_.charades_sta_train, _base_.mevis_train,
    _base_.lasot_train, _base_.videochat2_it_train, _base_.mvbench_train]))
