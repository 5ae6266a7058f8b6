# TPO stage 3 with every task head of the paper (Fig. 3) on the synthetic
# world: region (RefCOCO), temporal (CG-DETR, QVHighlights) and mask (SAM2,
# MeViS referring segmentation and LaSOT tracking), mixed with
# conversations. Tracking has no tokens of its own: a LaSOT sample answers
# with the mask tokens (<track_begin><tracking>), its question holds the
# <track_box> placeholder whose embedding encodes the first sampled frame's
# box (box_prompt_encoder), and the mask head predicts its masks and boxes
# (TASK_ALIASES: track -> mask). SAM2 is the tiny Hiera at 64 px with random
# weights (none can be downloaded here), frozen as in the paper; only its
# mask adapter trains, by prompt distillation.
_base_ = ['./tiny_stage3.py']

# The stage-2 checkpoint has the region head only; this config builds the
# other heads and the box-prompt encoder fresh, so it starts from scratch
# (set load_from to work_dirs/tiny_stage2 with model.strict_load=False to
# start from it).
load_from = None

model = dict(
    box_prompt_encoder=dict(type='BoxPromptEncoder'),
    heads=dict(
        temporal=dict(
            type='CGDETRHead',
            text_features=dict(
                type='QueryHashEmbedding', embed_dims=32, num_buckets=512),
            hidden_dims=32, num_heads=4, ffn_dims=64, enc_layers=1,
            dec_layers=2, t2v_layers=1, num_queries=5, num_dummies=3,
            total_prompts=4),
        mask=dict(
            type='SAM2MaskHead',
            model_cfg='configs/sam2.1/sam2.1_hiera_t.yaml',
            image_size=64, freeze_sam=True, hidden_dims=128,
            objectives=('prompt_distill', ))),
    # TPO's release weights the temporal (CG-DETR) losses by 0.05.
    loss_weights=dict(region=1.0, temporal=0.05, mask=1.0))

data_root = 'data/synthetic_world/'
world = dict(num_videos=dict(train=400, val=100), seed=0)
num_frames = 4
img_size = 64

# MeViS: the masks of the sampled frames (gt_masks) for ReferringVOSMetric;
# in training the mask head decodes the packed mask_rles itself.
mevis_test_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='uniform',
         on_error='raise'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='DecodeRLEMasks'),
    dict(type='FormatTaskConversation', train=False),
    dict(type='PackTPOInputs'),
]
# LaSOT: a sequence is a folder of frames; the ground truth of the sampled
# frames and the prompt box (first sampled frame) come from
# SelectTrackTargets.
lasot_train_pipeline = [
    dict(type='ListFramePaths'),
    dict(type='LoadImageSequence', num_frames=num_frames, on_error='skip'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='SelectTrackTargets'),
    dict(type='FormatTaskConversation', train=True),
    dict(type='PackTPOInputs'),
]
lasot_test_pipeline = [
    dict(type='ListFramePaths'),
    dict(type='LoadImageSequence', num_frames=num_frames, on_error='raise'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='SelectTrackTargets'),
    dict(type='FormatTaskConversation', train=False),
    dict(type='PackTPOInputs'),
]

mevis_val = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='MeViSDataset', data_root=data_root,
                 ann_file='mevis/val/meta_expressions.json',
                 mask_file='mevis/val/mask_dict.json',
                 data_prefix=dict(video='videos'), source='mevis',
                 pipeline=mevis_test_pipeline, test_mode=True))
lasot_train = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='LaSOTDataset', data_root=data_root + 'lasot/',
                 ann_file='training_set.txt', layout='lasot',
                 source='lasot', pipeline=lasot_train_pipeline))
lasot_val = dict(
    type='SyntheticWorldDataset', data_root=data_root, world=world,
    dataset=dict(type='LaSOTDataset', data_root=data_root + 'lasot/',
                 ann_file='testing_set.txt', layout='lasot',
                 source='lasot', pipeline=lasot_test_pipeline,
                 test_mode=True))

train_dataloader = dict(
    dataset=dict(datasets=[
        dict(type='RepeatDataset', times=3, dataset=_base_.refcoco_train),
        _base_.qvhighlights_train, _base_.mevis_train, lasot_train,
        _base_.videochat2_it_train, _base_.mvbench_train
    ]))
test_dataloader = dict(
    dataset=dict(datasets=[
        _base_.refcoco_val, _base_.qvhighlights_val, mevis_val, lasot_val,
        _base_.mvbench_val
    ]))
test_evaluator = [
    dict(type='ReferringBoxAccuracy', tasks=('region', )),
    dict(type='MomentRetrievalMetric', tasks=('temporal', )),
    dict(type='ReferringVOSMetric', tasks=('mask', )),
    dict(type='TrackingMetric', tasks=('track', ), protocol='lasot'),
    dict(type='MultipleChoiceAccuracy', tasks=('mcq', )),
    dict(type='TaskAssignAccuracy'),
]
val_dataloader = test_dataloader
val_evaluator = test_evaluator
