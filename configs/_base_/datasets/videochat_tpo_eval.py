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

# Masks and tracks on every frame of the video at SAM2's input size, as the
# benchmarks score them and as the release propagates SAM2: the MLLM reads
# its `num_frames` sampled frames, SAM2 reads every frame (`AttachFullVideo`
# in the pipeline names them), `chunk_size` frames decoded at a time, its
# memory bounded (tpo/models/heads/sam2_full_video.py). The mask and
# tracking configs put it on the mask head:
#   model = dict(heads=dict(mask=_base_.full_video_mask_head))
full_video_mask_head = dict(
    full_video=dict(type='SAM2FullVideoInference', chunk_size=16))
