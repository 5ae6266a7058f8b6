# The real training sources of Table 17, one config per source, all under
# `data_root` (layouts and converters: docs/dataset_preparation.md). The stage
# mixtures (tpo_stage{1,2,3}_mixture.py) pick sources from here by name.
# Check a prepared layout with
#   python tools/dataset_converters/check_dataset.py \
#       configs/_base_/datasets/tpo_stage1_mixture.py
data_root = 'data/'
num_frames = 16  # Table 16: 16 input frames at 224^2
img_size = 224

# Keys the model reads from a data sample's metainfo (PackTPOInputs' default
# ones plus the box prompts of SA-V and the masks of MeViS / SA-V).
meta_keys = ('sample_idx', 'source', 'video_path', 'task', 'task_type',
             'instruction', 'conversation', 'answer_prefix', 'gt_task',
             'gt_answer', 'query', 'ori_shape', 'img_shape', 'frame_inds',
             'frame_times', 'fps', 'duration', 'candidates', 'qid', 'ref_id',
             'prompt_bboxes', 'mask_rles', 'gt_masks')

# A video file (num_frames sampled frames).
video_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='random',
         on_error='skip'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='FormatTaskConversation', train=True),
    dict(type='PackTPOInputs', meta_keys=meta_keys),
]
# A video file at evaluation (num_frames frames at the centres of equal
# segments), for the validation of the fine-tuning recipes.
video_test_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='uniform',
         on_error='raise'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='FormatTaskConversation', train=False),
    dict(type='PackTPOInputs'),
]
# A still image as one frame, as VideoChat2 feeds images (RefCOCO*, Visual
# Genome, AS-V2 and ShareGPT4V images); the batch sampler keeps them apart
# from videos, so the collate function does not pad them to num_frames.
image_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, image_repeat=False,
         on_error='skip'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='FormatTaskConversation', train=True),
    dict(type='PackTPOInputs', meta_keys=meta_keys),
]
# A still image made a clip by a moving crop (the expanded AS-V2 of the
# stage-2 mask data: "we convert images into videos").
pseudo_video_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, image_repeat=False,
         on_error='skip'),
    dict(type='ImageToPseudoVideo', num_frames=num_frames),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='FormatTaskConversation', train=True),
    dict(type='PackTPOInputs', meta_keys=meta_keys),
]
# A folder of frames (MeViS JPEGImages/{vid}/{frame}.jpg) plus the masks
# of the sampled frames (the mask head's targets).
frames_pipeline = [
    dict(type='ListFramePaths', ext='.jpg'),
    dict(type='LoadImageSequence', num_frames=num_frames,
         size=(img_size, img_size), on_error='skip'),
    dict(type='DecodeRLEMasks'),
    dict(type='FormatTaskConversation', train=True),
    dict(type='PackTPOInputs', meta_keys=meta_keys),
]
# SA-V: an mp4 plus the masks of its masklet at the sampled frames.
sav_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='random',
         on_error='skip'),
    dict(type='LoadMaskletMasks'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='FormatTaskConversation', train=True),
    dict(type='PackTPOInputs', meta_keys=meta_keys),
]

# ---------------------------------------------------- temporal grounding
# QVHighlights jsonl written by tools/dataset_converters/temporal_to_qvh.py
# (no saliency scores except QVHighlights itself); videos are {vid}.mp4.
# Paths as in docs/dataset_preparation.md, 'Temporal grounding sources'.
didemo_train = dict(type='QVHighlightsDataset', data_root=data_root, ann_file='didemo/train_qvh.jsonl', data_prefix=dict(video='didemo/videos'), require_saliency=False, source='didemo', pipeline=video_pipeline)  # noqa: E501
queryd_train = dict(type='QVHighlightsDataset', data_root=data_root, ann_file='queryd/train_qvh.jsonl', data_prefix=dict(video='queryd/videos'), require_saliency=False, source='queryd', pipeline=video_pipeline)  # noqa: E501
hirest_train = dict(type='QVHighlightsDataset', data_root=data_root, ann_file='hirest/train_qvh.jsonl', data_prefix=dict(video='hirest/videos'), require_saliency=False, source='hirest', pipeline=video_pipeline)  # noqa: E501
activitynet_train = dict(type='QVHighlightsDataset', data_root=data_root, ann_file='activitynet/train_qvh.jsonl', data_prefix=dict(video='activitynet/videos'), require_saliency=False, source='activitynet', pipeline=video_pipeline)  # noqa: E501
tacos_train = dict(type='QVHighlightsDataset', data_root=data_root, ann_file='tacos/train_qvh.jsonl', data_prefix=dict(video='tacos/videos'), require_saliency=False, source='tacos', pipeline=video_pipeline)  # noqa: E501
nlq_train = dict(type='QVHighlightsDataset', data_root=data_root, ann_file='ego4d/nlq_train_qvh.jsonl', data_prefix=dict(video='ego4d/clips'), require_saliency=False, source='ego4d_nlq', pipeline=video_pipeline)  # noqa: E501
qvhighlights_train = dict(type='QVHighlightsDataset', data_root=data_root, ann_file='qvhighlights/highlight_train_release.jsonl', data_prefix=dict(video='qvhighlights/videos'), source='qvhighlights', pipeline=video_pipeline)  # noqa: E501
charades_sta_train = dict(type='CharadesSTADataset', data_root=data_root, ann_file='charades/charades_sta_train.txt', meta_file='charades/Charades_v1_train.csv', data_prefix=dict(video='charades/videos'), source='charades_sta', pipeline=video_pipeline)  # noqa: E501

# ---------------------------------------------------- spatial grounding
# refs(*).json converted once from refs(*).p by
# tools/dataset_converters/refcoco_pickle_to_json.py; COCO train2014 images.
refcoco_train = dict(type='RefCOCODataset', data_root=data_root, ann_file='refcoco/refs(unc).json', instances_file='refcoco/instances.json', split='train', data_prefix=dict(video='coco/train2014'), source='refcoco', pipeline=image_pipeline)  # noqa: E501
refcocop_train = dict(type='RefCOCODataset', data_root=data_root, ann_file='refcoco+/refs(unc).json', instances_file='refcoco+/instances.json', split='train', data_prefix=dict(video='coco/train2014'), source='refcoco+', pipeline=image_pipeline)  # noqa: E501
refcocog_train = dict(type='RefCOCODataset', data_root=data_root, ann_file='refcocog/refs(umd).json', instances_file='refcocog/instances.json', split='train', data_prefix=dict(video='coco/train2014'), source='refcocog', pipeline=image_pipeline)  # noqa: E501
visual_genome_train = dict(type='VisualGenomeDataset', data_root=data_root, ann_file='visual_genome/region_descriptions.json', image_file='visual_genome/image_data.json', data_prefix=dict(video='visual_genome'), source='visual_genome', pipeline=image_pipeline)  # noqa: E501
# AS-V2's three relation-conversation files (boxes without square padding);
# their image paths (coco/train2017/...) are relative to data_root.
as_v2_caption_train = dict(type='ASV2Dataset', data_root=data_root, ann_file='as_v2/rec_region_captioning_wo_square_pad.json', data_prefix=dict(video=''), source='as_v2', pipeline=image_pipeline)  # noqa: E501
as_v2_conversation_train = dict(type='ASV2Dataset', data_root=data_root, ann_file='as_v2/rec_conversation_22k_wo_square_pad.json', data_prefix=dict(video=''), source='as_v2', pipeline=image_pipeline)  # noqa: E501
as_v2_description_train = dict(type='ASV2Dataset', data_root=data_root, ann_file='as_v2/rec_detailed_description_wo_square_pad.json', data_prefix=dict(video=''), source='as_v2', pipeline=image_pipeline)  # noqa: E501

# ---------------------------------------------------- segmentation
mevis_train = dict(type='MeViSDataset', data_root=data_root, ann_file='mevis/train/meta_expressions.json', mask_file='mevis/train/mask_dict.json', video_ext='', data_prefix=dict(video='mevis/train/JPEGImages'), source='mevis', pipeline=frames_pipeline)  # noqa: E501
# The expanded AS-V2 (appendix, Settings of Stage 2): AS-V2's referring
# phrases as segmentation clips of their images (ImageToPseudoVideo).
as_v2_video_caption_train = dict(as_v2_caption_train, type='ASV2VideoDataset', source='as_v2_video', pipeline=pseudo_video_pipeline)  # noqa: E501
as_v2_video_conversation_train = dict(as_v2_conversation_train, type='ASV2VideoDataset', source='as_v2_video', pipeline=pseudo_video_pipeline)  # noqa: E501
as_v2_video_description_train = dict(as_v2_description_train, type='ASV2VideoDataset', source='as_v2_video', pipeline=pseudo_video_pipeline)  # noqa: E501
sav_train = dict(type='SAVDataset', data_root=data_root, ann_file='sav/sav_train', data_prefix=dict(video='sav/sav_train'), source='sav', pipeline=sav_pipeline)  # noqa: E501

# ---------------------------------------------------- temporal reasoning
# Dense-caption instruction data in the VideoChat2-IT format.
youcook2_it_train = dict(type='VideoChat2ITDataset', data_root=data_root, ann_file='youcook2/train_it.json', data_prefix=dict(video='youcook2/videos'), source='youcook2', pipeline=video_pipeline)  # noqa: E501
activitynet_it_train = dict(type='VideoChat2ITDataset', data_root=data_root, ann_file='activitynet/train_it.json', data_prefix=dict(video='activitynet/videos'), source='activitynet_it', pipeline=video_pipeline)  # noqa: E501

# ---------------------------------------------------- conversation
# VideoChat2-IT: its json files concatenated into one list (or one line per
# file in the stage mixture).
videochat2_it_train = dict(type='VideoChat2ITDataset', data_root=data_root, ann_file='videochat2_it/train.json', data_prefix=dict(video='videochat2_it/videos'), source='videochat2_it', pipeline=video_pipeline)  # noqa: E501
sharegpt4o_train = dict(type='ShareGPTDataset', data_root=data_root, ann_file='sharegpt4o/video_conversations.jsonl', data_prefix=dict(video='sharegpt4o/videos'), source='sharegpt4o', pipeline=video_pipeline)  # noqa: E501
llava_hound_train = dict(type='ShareGPTDataset', data_root=data_root, ann_file='llava_hound/sft.jsonl', data_prefix=dict(video='llava_hound/videos'), source='llava_hound', pipeline=video_pipeline)  # noqa: E501
sharegpt4v_train = dict(type='ShareGPTDataset', data_root=data_root, ann_file='sharegpt4v/sharegpt4v_instruct_gpt4-vision_cap100k.json', data_prefix=dict(video=''), source='sharegpt4v', pipeline=image_pipeline)  # noqa: E501

# The evaluation loader of the fine-tuning recipes (their dataset added).
eval_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'))

# Dataloader pieces shared by the stage mixtures.
batch_size = 4  # per GPU: Table 16's total 128 on 32 GPUs
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='LengthGroupedBatchSampler', group_size=64,
                       separate_images=True),
    collate_fn=dict(type='tpo.tpo_collate'))
