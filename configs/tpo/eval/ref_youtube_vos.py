# Ref-YouTube-VOS valid (paper Table 8): the official score comes from the
# challenge server; tools/test.py CONFIG CKPT --submission-dir DIR writes
# DIR/masks/Annotations/<vid>/<exp_id>/<frame>.png to zip and upload, one
# PNG for every listed frame (SAM2's full-video inference; the MLLM reads
# its sampled frames).
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/ref_youtube_vos/'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='RefYouTubeVOSDataset', data_root=data_root,
    ann_file='meta_expressions/valid/meta_expressions.json',
    data_prefix=dict(video='valid/JPEGImages'), source='ref_youtube_vos',
    test_mode=True,
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
test_evaluator = [dict(type='MaskSubmission', tasks=('mask', ),
                       out_dir='work_dirs/ref_youtube_vos_submission')]
