# The reference row of the ablations (configs/tpo/ablations/README in
# docs/ablations.md): tiny_all_heads.py (temporal CG-DETR, region and SAM2
# mask heads, with conversation data) trained from the shared task-assignment
# checkpoint (stage1.py), with two temporal grounding sources: QVHighlights
# and the world's Charades-STA-style annotations (Table 15, "several").
# Every other ablation config changes a few keys of this one.
_base_ = ['../tiny_all_heads.py']

# Checkpoints of the shared stages hold every head and the box-prompt
# encoder; a row that drops a head skips those keys.
load_from = 'work_dirs/ablations/stage1'
model = dict(strict_load=False)

charades_dir = 'data/synthetic_world_charades_sta/'
charades_sta_train = dict(
    type='SyntheticCharadesSTADataset', data_root=_base_.data_root,
    world=_base_.world, out_dir=charades_dir,
    dataset=dict(type='CharadesSTADataset', data_root='',
                 ann_file=charades_dir + 'charades_sta_train.txt',
                 meta_file=charades_dir + 'Charades_v1_train.csv',
                 data_prefix=dict(video=_base_.data_root + 'videos'),
                 source='charades_sta', pipeline=_base_.train_pipeline))

train_dataloader = dict(
    dataset=dict(datasets=[
        dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
        _base_.qvhighlights_train, charades_sta_train, _base_.mevis_train,
        _base_.lasot_train, _base_.videochat2_it_train, _base_.mvbench_train
    ]))


# A fixed subset of every test split keeps a row's evaluation short; MVBench
# is strided so that every question type is in it.
def _subset(cfg, indices):
    return dict(cfg, dataset=dict(cfg['dataset'], indices=indices))


refcoco_test = _subset(_base_.refcoco_val, 64)
qvhighlights_test = _subset(_base_.qvhighlights_val, 64)
mevis_test = _subset(_base_.mevis_val, 32)
lasot_test = _base_.lasot_val
mvbench_test = _subset(_base_.mvbench_val, list(range(0, 375, 5)))
test_dataloader = dict(
    dataset=dict(datasets=[
        refcoco_test, qvhighlights_test, mevis_test, lasot_test, mvbench_test
    ]))
region_metric = dict(type='ReferringBoxAccuracy', tasks=('region', ))
temporal_metric = dict(type='TemporalGroundingRecall', tasks=('temporal', ),
                       ks=(1, ), thresholds=(0.3, 0.5, 0.7),
                       prefix='temporal')
mask_metric = dict(type='ReferringVOSMetric', tasks=('mask', ))
track_metric = dict(type='TrackingMetric', tasks=('track', ),
                    protocol='lasot')
# MVBench's matching rule scores an empty answer as correct ('(' is in
# '(b)'); the wrapper makes an answer without an option letter a miss and
# counts it (mvbench/malformed).
mcq_metric = dict(
    type='TextAnswerMetric',
    metric=dict(type='MultipleChoiceAccuracy', tasks=('mcq', )))
test_evaluator = [
    region_metric, temporal_metric, mask_metric, track_metric, mcq_metric,
    dict(type='TaskAssignAccuracy')
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator

# Schedule of a row: the task stage (the paper's stages 2 and 3 merged),
# sized so that every row with 2 seeds fits well within an hour on 2 CPU
# cores (docs/ablations.md). Derived fields reassigned explicitly.
max_iters = 250
warmup_iters = int(0.2 * max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters,
         end=max_iters, eta_min_ratio=0.01),
]
