# MeViS referring video segmentation (paper Table 8): J, F and J&F on
# valid_u (local GT) over every frame of each video: the MLLM reads its
# sampled frames, SAM2, prompted by the task token's adapter tokens, every
# frame at its input size (full-video inference); the metric reads the
# ground truth of each frame from mask_dict.json. For the `valid` split
# (server), set `split = 'valid'` and run tools/test.py with
# --submission-dir.
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/mevis/'
split = 'valid_u'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='MeViSDataset', data_root=data_root,
    ann_file=f'{split}/meta_expressions.json',
    mask_file=f'{split}/mask_dict.json' if split != 'valid' else None,
    data_prefix=dict(video=f'{split}/JPEGImages'), video_ext='',
    source='mevis', test_mode=True,
    pipeline=[
        dict(type='ListFramePaths'),
        dict(type='LoadImageSequence', num_frames=_base_.num_frames,
             on_error='raise'),
        dict(type='AttachFullVideo'),
        dict(type='ResizeFrames', size=(_base_.img_size, _base_.img_size)),
        dict(type='FormatTaskConversation', train=False),
        dict(type='PackTPOInputs'),
    ]))
model = dict(heads=dict(mask=_base_.full_video_mask_head))
test_evaluator = [dict(type='ReferringVOSMetric', tasks=('mask', ))]
