# LaSOT test (paper Table 9): success AUC, precision and normalized
# precision as the official MATLAB toolkit, over every frame of each
# sequence: the box of frame 0 prompts SAM2 directly (app.py mask_head with
# a tracking box) and SAM2 tracks it frame by frame through the whole
# sequence at its input size (full-video inference); the MLLM reads its
# sampled frames, a clip that starts at the sequence's first frame.
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
        dict(type='AttachFullVideo'),
        dict(type='ResizeFrames', size=(_base_.img_size, _base_.img_size)),
        dict(type='SelectTrackTargets', all_frames=True),
        dict(type='FormatTaskConversation', train=False),
        dict(type='PackTPOInputs'),
    ]))
model = dict(heads=dict(mask=_base_.full_video_mask_head))
test_evaluator = [dict(type='TrackingMetric', tasks=('track', ),
                       protocol='lasot')]
