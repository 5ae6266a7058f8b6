# RefCOCO referring expression comprehension (paper Table 7): Acc@0.5 of the
# region head's box, one image as one frame (the release's image path:
# T = 1, UMT's image position table). Splits: val, testA, testB
# (`--cfg-options test_dataloader.dataset.split=testA`); refcoco_plus.py and
# refcocog.py change the annotation files.
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/'
refs = 'refcoco/refs(unc).json'  # converted refs(unc).p, see docs
instances = 'refcoco/instances.json'
split = 'val'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='RefCOCODataset', data_root=data_root, ann_file=refs,
    instances_file=instances, split=split,
    data_prefix=dict(video='coco/train2014'), source='refcoco',
    test_mode=True,
    pipeline=[
        dict(type='LoadVideoFrames', num_frames=1, image_repeat=False,
             on_error='raise'),
        *_base_.test_pipeline[1:]
    ]))
test_evaluator = [dict(type='ReferringBoxAccuracy', tasks=('region', ),
                       iou_thr=0.5)]
