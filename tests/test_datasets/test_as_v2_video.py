"""The expanded AS-V2 of the stage-2 mask data: referring phrases of AS-V2
images as segmentation clips made by a moving crop, the box following the
object on every frame."""
import json

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from tests.conftest import CONFIGS
from tpo.datasets import ASV2VideoDataset
from tpo.datasets.samplers import is_image_item
from tpo.registry import TRANSFORMS

OBJECT = (140, 30, 200, 70)  # xyxy pixels of the red block in 320 x 160


@pytest.fixture
def as_v2(tmp_path):
    image = np.full((160, 320, 3), 40, dtype=np.uint8)
    x0, y0, x1, y1 = OBJECT
    image[y0:y1, x0:x1] = (230, 20, 20)
    (tmp_path / 'coco').mkdir()
    Image.fromarray(image).save(tmp_path / 'coco/1.png')
    box = [round(v * 1000 / s) for v, s in zip(OBJECT, (320, 160) * 2)]
    entry = {'id': 7, 'image': 'coco/1.png', 'conversations': [
        {'from': 'human', 'value': '<image>\nWhat is there?'},
        {'from': 'gpt', 'value': f'A <ref>red block</ref><box>[{box}]'
         '</box>.'}]}
    path = tmp_path / 'rec.json'
    path.write_text(json.dumps([entry]))
    return ASV2VideoDataset(ann_file=str(path),
                            data_prefix=dict(video=str(tmp_path)))


def test_items_are_mask_samples_batched_with_videos(as_v2):
    item = as_v2[0]
    assert item['task'] == 'mask' and item['expression'] == 'red block'
    assert item['source'] == 'as_v2_video'
    np.testing.assert_allclose(item['gt_bboxes'][0], OBJECT, atol=0.5)
    assert item['as_video'] and not is_image_item(as_v2.get_data_info(0))


def test_the_clip_follows_the_object_on_every_frame(as_v2):
    sources = Config.fromfile(str(CONFIGS /
                                  '_base_/datasets/tpo_sources.py'))
    load, to_video = sources.pseudo_video_pipeline[:2]
    results = TRANSFORMS.build(load)(as_v2[0])
    results = TRANSFORMS.build(dict(to_video, seed=3))(results)
    frames, boxes = results['frames'], results['gt_bboxes_xyxy']
    assert frames.shape == (16, 160, 320, 3)
    assert results['gt_track_bboxes'].shape == (16, 4)
    np.testing.assert_allclose(results['gt_track_bboxes'][:, 2:],
                               boxes[:, 2:] - boxes[:, :2])
    assert np.ptp(boxes[:, 0]) > 5  # the object moves through the clip
    for frame, (x0, y0, x1, y1) in zip(frames, boxes):
        # inside the moved box: the red block; just outside it: background
        inner = frame[int(y0) + 3:int(y1) - 3, int(x0) + 3:int(x1) - 3]
        assert inner[..., 0].mean() > 200 and inner[..., 1].mean() < 50
        if x0 > 8:
            assert frame[int((y0 + y1) / 2), int(x0) - 5, 0] < 80
    # the conversation asks to segment the phrase
    results = TRANSFORMS.build(dict(type='FormatTaskConversation',
                                    train=False))(dict(results,
                                                       sample_idx=0))
    assert 'red block' in results['conversation'][0]['question']
    assert results['gt_task'] == '<track_begin>'
    assert '<track_begin><tracking>' in results['conversation'][0]['answer']


def test_one_image_and_one_box_are_required():
    step = TRANSFORMS.build(dict(type='ImageToPseudoVideo', seed=0))
    with pytest.raises(ValueError, match='one image and one box'):
        step(dict(frames=np.zeros((2, 8, 8, 3), np.uint8),
                  gt_bboxes=np.zeros((1, 4)), video_path='x.jpg'))
