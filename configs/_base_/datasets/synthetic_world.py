# The synthetic video world (generated on first use) read through the same
# readers that read the real datasets' formats.
data_root = 'data/synthetic_world/'
world = dict(num_videos=dict(train=400, val=100), seed=0)
num_frames = 4
img_size = 64
batch_size = 8

train_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='random',
         on_error='skip'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='FormatTaskConversation', train=True),
    dict(type='PackTPOInputs'),
]
test_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='uniform',
         on_error='raise'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='FormatTaskConversation', train=False),
    dict(type='PackTPOInputs'),
]


# One config per annotation format of the world; the stage configs mix them.
refcoco_train = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='RefCOCODataset', data_root=data_root,
                 ann_file='refcoco/refs.json',
                 instances_file='refcoco/instances.json', split='train',
                 data_prefix=dict(video='refcoco/images'),
                 source='refcoco', pipeline=train_pipeline))
qvhighlights_train = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='QVHighlightsDataset', data_root=data_root,
                 ann_file='qvhighlights/highlight_train_release.jsonl',
                 data_prefix=dict(video='videos'), source='qvhighlights',
                 pipeline=train_pipeline))
mevis_train = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='MeViSDataset', data_root=data_root,
                 ann_file='mevis/train/meta_expressions.json',
                 mask_file='mevis/train/mask_dict.json',
                 data_prefix=dict(video='videos'), source='mevis',
                 pipeline=train_pipeline))
videochat2_it_train = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='VideoChat2ITDataset', data_root=data_root,
                 ann_file='videochat2_it/train.json',
                 data_prefix=dict(video='videos'), source='videochat2_it',
                 pipeline=train_pipeline))
mvbench_train = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='MVBenchDataset', data_root=data_root,
                 ann_file='mvbench_train', data_prefix=dict(video='videos'),
                 instruction='', source='mvbench', pipeline=train_pipeline))

refcoco_val = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='RefCOCODataset', data_root=data_root,
                 ann_file='refcoco/refs.json',
                 instances_file='refcoco/instances.json', split='val',
                 data_prefix=dict(video='refcoco/images'),
                 source='refcoco', pipeline=test_pipeline, test_mode=True))
qvhighlights_val = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='QVHighlightsDataset', data_root=data_root,
                 ann_file='qvhighlights/highlight_val_release.jsonl',
                 data_prefix=dict(video='videos'), source='qvhighlights',
                 pipeline=test_pipeline, test_mode=True))
mvbench_val = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='MVBenchDataset', data_root=data_root,
                 ann_file='mvbench', data_prefix=dict(video='videos'),
                 instruction='', source='mvbench', pipeline=test_pipeline,
                 test_mode=True))

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='ConcatDataset',
        ignore_keys=['dataset_name'],
        datasets=[refcoco_train, qvhighlights_train, mevis_train,
                  videochat2_it_train, mvbench_train]))
test_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='ConcatDataset', ignore_keys=['dataset_name'],
                 datasets=[refcoco_val, qvhighlights_val, mvbench_val]))
test_evaluator = [
    dict(type='ReferringBoxAccuracy', tasks=('region', )),
    dict(type='MultipleChoiceAccuracy', tasks=('mcq', )),
    dict(type='TaskAssignAccuracy'),
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
