# The data of the ablation rows (tpo/ablations/, docs/ablations.md): the
# synthetic world plus a second temporal grounding source (the world's
# Charades-STA-style annotations, Table 15), fixed test subsets and the
# metrics of every task.
_base_ = ['./synthetic_world.py']

charades_dir = 'data/synthetic_world_charades_sta/'
charades_sta_train = dict(
    type='SyntheticCharadesSTADataset', data_root=_base_.data_root,
    world=_base_.world, out_dir=charades_dir,
    dataset=dict(type='CharadesSTADataset', data_root='',
                 ann_file=charades_dir + 'charades_sta_train.txt',
                 meta_file=charades_dir + 'Charades_v1_train.csv',
                 data_prefix=dict(video=_base_.data_root + 'videos'),
                 source='charades_sta', pipeline=_base_.train_pipeline))


# A fixed subset of every test split keeps a row's evaluation short (64
# referring and temporal queries, 32 MeViS expressions); MVBench is strided
# (every 5th of its 375 questions) so that every question type is in it.
def _subset(cfg, indices):
    return dict(cfg, dataset=dict(cfg['dataset'], indices=indices))


refcoco_test = _subset(_base_.refcoco_val, 64)
qvhighlights_test = _subset(_base_.qvhighlights_val, 64)
mevis_test = _subset(_base_.mevis_val, 32)
lasot_test = _base_.lasot_val
mvbench_test = _subset(_base_.mvbench_val, list(range(0, 375, 5)))
test_dataloader = dict(dataset=dict(datasets=[
    refcoco_test, qvhighlights_test, mevis_test, lasot_test, mvbench_test]))
region_metric = dict(type='ReferringBoxAccuracy', tasks=('region', ))
# Recall@1 at IoU 0.3 / 0.5 / 0.7 (Charades-STA's protocol).
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
