# LaSOT test (paper Table 9): success AUC, precision and normalized
# precision as the official MATLAB toolkit; the first frame's box prompts
# SAM2 directly (app.py mask_head with a tracking box), SAM2 propagates. The
# clip starts at the sequence's first frame (one-pass evaluation; GOT-10k's
# test split gives no other box).
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/lasot/'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='LaSOTDataset', data_root=data_root, ann_file='testing_set.txt',
    source='lasot', test_mode=True,
    pipeline=[
        dict(type='ListFramePaths'),
        dict(type='LoadImageSequence', num_frames=_base_.num_frames,
             sampling='start', on_error='raise'),
        dict(type='ResizeFrames', size=(_base_.img_size, _base_.img_size)),
        dict(type='SelectTrackTargets'),
        dict(type='FormatTaskConversation', train=False),
        dict(type='PackTPOInputs'),
    ]))
test_evaluator = [dict(type='TrackingMetric', tasks=('track', ),
                       protocol='lasot')]
