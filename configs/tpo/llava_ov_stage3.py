# LLaVA-OV + TPO stage 3, second part (Table 16, last column; Table 17): the
# whole model except SAM2 trains jointly at 2e-5 on the task data mixed with
# 3M conversation samples (VideoChat2-IT, ShareGPT-4o, LLaVA-Hound,
# ShareGPT4V), so that the task heads' gradients shape the MLLM.
_base_ = [
    './llava_ov_common.py', '../_base_/schedules/tpo_stage3.py'
]

# ---------------------------------------------------------------- settings
# The first part of stage 3; to skip it, point at work_dirs/llava_ov_stage2.
load_from = 'work_dirs/llava_ov_stage3_no_conversation'
work_dir = 'work_dirs/llava_ov_stage3'

model = _base_.stage_model

# LLaVA-OV's SigLIP reads 384x384 frames (27x27 patches; Table 16's 224 is
# VideoChat2's UMT-L): the mixture's pipelines with every resize at
# img_size.
img_size = 384


def _resized(step):
    if step['type'] in ('ResizeFrames', 'LoadImageSequence'):
        return dict(step, size=(img_size, img_size))
    return step


def _at_img_size(entry):
    dataset = entry['dataset']
    pipeline = [_resized(step) for step in dataset['pipeline']]
    return dict(entry, dataset=dict(dataset, pipeline=pipeline))


train_dataloader = dict(dataset=dict(datasets=[
    _at_img_size(entry) for entry in _base_.stage3_mixture
]))
