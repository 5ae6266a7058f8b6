# The synthetic video world (generated on first use) read through the same
# readers that read the real datasets' formats. One config per annotation
# format and split; the stage configs mix them.
data_root = 'data/synthetic_world/'
world = dict(num_videos=dict(train=400, val=100), seed=0)  # the quick start's
num_frames = 4  # frames per clip of the tiny model (7B: 16)
img_size = 64  # frame side of the tiny model (7B: 224)
batch_size = 8  # fits the tiny model on 2 CPU cores

# Pipelines: video files, and LaSOT's folders of frames whose ground truth
# of the sampled frames and prompt box (first sampled frame) come from
# SelectTrackTargets. MeViS samples also decode the masks of the sampled
# frames (gt_masks: the mask head's targets, ReferringVOSMetric's truth).
resize = dict(type='ResizeFrames', size=(img_size, img_size))
decode_masks = dict(type='DecodeRLEMasks')
pack = dict(type='PackTPOInputs')
train_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='random',
         on_error='skip'), resize,
    dict(type='FormatTaskConversation', train=True), pack]
test_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='uniform',
         on_error='raise'), resize,
    dict(type='FormatTaskConversation', train=False), pack]
mevis_train_pipeline = train_pipeline[:2] + [decode_masks] + \
    train_pipeline[2:]
mevis_test_pipeline = test_pipeline[:2] + [decode_masks] + test_pipeline[2:]
lasot_train_pipeline = [
    dict(type='ListFramePaths'),
    dict(type='LoadImageSequence', num_frames=num_frames, on_error='skip'),
    resize, dict(type='SelectTrackTargets')] + train_pipeline[2:]
lasot_test_pipeline = lasot_train_pipeline[:1] + [
    dict(type='LoadImageSequence', num_frames=num_frames, on_error='raise')
] + lasot_train_pipeline[2:4] + test_pipeline[2:]

in_world = dict(type='SyntheticWorldDataset', data_root=data_root,
                world=world)
refcoco = dict(type='RefCOCODataset', data_root=data_root,
               ann_file='refcoco/refs.json',
               instances_file='refcoco/instances.json',
               data_prefix=dict(video='refcoco/images'), source='refcoco')
qvhighlights = dict(type='QVHighlightsDataset', data_root=data_root,
                    data_prefix=dict(video='videos'), source='qvhighlights')
mevis = dict(type='MeViSDataset', data_root=data_root,
             data_prefix=dict(video='videos'), source='mevis')
mvbench = dict(type='MVBenchDataset', data_root=data_root,
               data_prefix=dict(video='videos'), instruction='',
               source='mvbench')
lasot = dict(type='LaSOTDataset', data_root=data_root + 'lasot/',
             layout='lasot', source='lasot')

refcoco_train = dict(in_world, dataset=dict(
    refcoco, split='train', pipeline=train_pipeline))
qvhighlights_train = dict(in_world, dataset=dict(
    qvhighlights, ann_file='qvhighlights/highlight_train_release.jsonl',
    pipeline=train_pipeline))
mevis_train = dict(in_world, dataset=dict(
    mevis, ann_file='mevis/train/meta_expressions.json',
    mask_file='mevis/train/mask_dict.json', pipeline=mevis_train_pipeline))
lasot_train = dict(in_world, dataset=dict(
    lasot, ann_file='training_set.txt', pipeline=lasot_train_pipeline))
videochat2_it_train = dict(in_world, dataset=dict(
    type='VideoChat2ITDataset', data_root=data_root,
    ann_file='videochat2_it/train.json', data_prefix=dict(video='videos'),
    source='videochat2_it', pipeline=train_pipeline))
mvbench_train = dict(in_world, dataset=dict(
    mvbench, ann_file='mvbench_train', pipeline=train_pipeline))

refcoco_val = dict(in_world, dataset=dict(
    refcoco, split='val', pipeline=test_pipeline, test_mode=True))
qvhighlights_val = dict(in_world, dataset=dict(
    qvhighlights, ann_file='qvhighlights/highlight_val_release.jsonl',
    pipeline=test_pipeline, test_mode=True))
mevis_val = dict(in_world, dataset=dict(
    mevis, ann_file='mevis/val/meta_expressions.json',
    mask_file='mevis/val/mask_dict.json', pipeline=mevis_test_pipeline,
    test_mode=True))
lasot_val = dict(in_world, dataset=dict(
    lasot, ann_file='testing_set.txt', pipeline=lasot_test_pipeline,
    test_mode=True))
mvbench_val = dict(in_world, dataset=dict(
    mvbench, ann_file='mvbench', pipeline=test_pipeline, test_mode=True))

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

# The data of every head (tpo/tiny_stage3_no_conversation.py,
# tpo/tiny_stage3.py): the referring data is repeated (3 times) so that the
# region head keeps a large share of a short schedule.
task_train_datasets = [
    dict(type='RepeatDataset', times=3, dataset=refcoco_train),
    qvhighlights_train, mevis_train, lasot_train]

# A fixed subset of every test split keeps an evaluation short (the quick
# start's, an ablation row's): 64 referring and temporal queries, 32 MeViS
# expressions, the 50 LaSOT sequences; MVBench is strided
# (every 5th of its 375 questions) so that every question type is in it.
def _subset(cfg, indices):
    return dict(cfg, dataset=dict(cfg['dataset'], indices=indices))


refcoco_test = _subset(refcoco_val, 64)
qvhighlights_test = _subset(qvhighlights_val, 64)
mevis_test = _subset(mevis_val, 32)
lasot_test = lasot_val
mvbench_test = _subset(mvbench_val, list(range(0, 375, 5)))
every_task_test_datasets = [refcoco_test, qvhighlights_test, mevis_test,
                            lasot_test, mvbench_test]
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
every_task_metrics = [
    region_metric, temporal_metric, mask_metric, track_metric, mcq_metric,
    dict(type='TaskAssignAccuracy')
]
