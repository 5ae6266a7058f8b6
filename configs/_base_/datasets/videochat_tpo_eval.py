# Evaluation inputs of the released VideoChat-TPO (app.py
# load_and_transform_video: 16 frames, 'middle' sampling = the centre frame
# of 16 equal segments, 224 x 224, ImageNet normalisation in the model's
# data preprocessor) and the test loop around one benchmark dataset, which
# each configs/tpo/eval/*.py sets as `test_dataloader.dataset`.
num_frames = 16
img_size = 224

test_pipeline = [
    dict(type='LoadVideoFrames', num_frames=num_frames, sampling='uniform',
         on_error='raise'),
    dict(type='ResizeFrames', size=(img_size, img_size)),
    dict(type='FormatTaskConversation', train=False),
    dict(type='PackTPOInputs'),
]

test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'))
test_cfg = dict(type='TestLoop')
