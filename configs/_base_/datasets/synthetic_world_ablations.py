# The data of the ablation rows (tpo/ablations/, docs/ablations.md): the
# synthetic world plus a second temporal grounding source (the world's
# Charades-STA-style annotations, Table 15); the test subsets and metrics
# of every task are synthetic_world.py's.
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


test_dataloader = dict(dataset=dict(
    datasets=_base_.every_task_test_datasets))
test_evaluator = _base_.every_task_metrics
val_dataloader = test_dataloader
val_evaluator = test_evaluator
