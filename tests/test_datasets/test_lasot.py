import os

import numpy as np
import pytest

from tpo.datasets import AnnotationError, LaSOTDataset
from tpo.datasets.synthetic import generate_world
from tests._shared import SHARED, shared_path
from tpo.registry import DATASETS

LASOT = SHARED / 'data/annotations/lasot'
FRAME_COUNTS = {
    'airplane-1': 2788, 'bicycle-9': 3001, 'bottle-1': 3089, 'cat-18': 1596,
    'crab-3': 1501, 'deer-10': 1411, 'pig-2': 2671, 'drone-2': 3133,
    'robot-1': 5609, 'skateboard-3': 1629, 'truck-16': 7225,
    'yoyo-19': 3207, 'hat-1': 3486, 'mouse-9': 2818, 'hand-2': 1641,
    'electricfan-18': 1863, 'fox-2': 2365, 'hippo-9': 1898, 'lion-1': 1476,
    'monkey-9': 4079
}
ABSENT_COUNTS = {
    'bicycle-9': 134, 'truck-16': 887, 'monkey-9': 554, 'airplane-1': 0
}


@pytest.fixture(scope='module')
def real():
    shared_path('data/annotations/lasot')
    dataset = LaSOTDataset(
        ann_file='selected_sequences.txt',
        data_root=str(LASOT),
        layout='annos')
    return {item['sequence']: item for item in dataset}


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp('world')
    generate_world(str(root), num_videos={'train': 4, 'val': 4}, seed=0)
    return root / 'lasot'


def write_sequence(root, rows='1,2,3,4\n5,6,7,8\n', absent='0\n1\n',
                   nlp='a red ball'):
    annos = root / 'annos'
    for folder in ('absent', 'nlp'):
        (annos / folder).mkdir(parents=True, exist_ok=True)
    (root / 'list.txt').write_text('ball-1\n')
    (annos / 'ball-1.txt').write_text(rows)
    (annos / 'absent' / 'ball-1.txt').write_text(absent)
    (annos / 'nlp' / 'ball-1.txt').write_text(nlp)
    return root


def load(root, **kwargs):
    return LaSOTDataset(
        ann_file='list.txt', data_root=str(root), layout='annos', **kwargs)


def test_real_counts(real):
    assert {k: v['num_frames'] for k, v in real.items()} == FRAME_COUNTS
    for seq, item in real.items():
        assert item['task'] == 'track' and item['source'] == 'lasot'
        assert item['gt_track_bboxes'].shape == (FRAME_COUNTS[seq], 4)
        assert item['gt_track_bboxes'].dtype == np.float32
        assert item['absent'].shape == (FRAME_COUNTS[seq], )
        assert item['absent'].dtype == np.uint8
        assert item['expression'] and item['expression'] == (
            item['expression'].strip())
        assert item['frame_dir'] == item['video_path'] == str(
            LASOT / item['category'] / seq / 'img')
    assert {k: int(real[k]['absent'].sum())
            for k in ABSENT_COUNTS} == ABSENT_COUNTS


def test_real_values(real):
    airplane = real['airplane-1']
    assert airplane['category'] == 'airplane'
    assert airplane['expression'] == 'white airplane landing on ground'
    np.testing.assert_array_equal(airplane['gt_track_bboxes'][:2],
                                  [[367, 101, 41, 16], [366, 103, 45, 16]])
    np.testing.assert_array_equal(airplane['gt_track_bboxes'][-1],
                                  [185, 150, 357, 110])
    np.testing.assert_array_equal(airplane['gt_bboxes_xyxy'][0],
                                  [366, 100, 407, 116])
    assert airplane['gt_bboxes_xyxy'].dtype == np.float32

    bicycle = real['bicycle-9']
    assert bicycle['expression'] == 'bicycle by a man o the street'
    np.testing.assert_array_equal(bicycle['gt_track_bboxes'][[0, 999]],
                                  [[178, 501, 252, 217], [609, 461, 99, 176]])
    assert bicycle['absent'][310:313].tolist() == [0, 1, 1]

    truck = real['truck-16']
    np.testing.assert_array_equal(truck['gt_track_bboxes'][99],
                                  [492, 390, 51, 61])
    assert truck['absent'][2990:2993].tolist() == [0, 1, 1]
    assert real['monkey-9']['absent'][124:126].tolist() == [0, 1]
    assert real['hat-1']['absent'][327:329].tolist() == [0, 1]


def test_world_lasot_layout(world):
    dataset = DATASETS.build(
        dict(
            type='LaSOTDataset',
            ann_file='testing_set.txt',
            data_root=str(world),
            layout='lasot'))
    train = LaSOTDataset(ann_file='training_set.txt', data_root=str(world))
    items = list(dataset) + list(train)
    assert len(dataset) >= 1 and len(train) >= 1
    for item in items:
        jpgs = [n for n in os.listdir(item['frame_dir']) if n.endswith('.jpg')]
        assert item['num_frames'] == len(jpgs) == len(item['absent'])
        assert item['video_path'] == item['frame_dir'] == str(
            world / item['category'] / item['sequence'] / 'img')
        assert item['absent'][0] == 0
        x, y, w, h = item['gt_track_bboxes'][0]
        assert x >= 1 and y >= 1 and w > 0 and h > 0
        np.testing.assert_array_equal(item['gt_bboxes_xyxy'][0],
                                      [x - 1, y - 1, x - 1 + w, y - 1 + h])
        assert item['expression']


def test_one_based_off(tmp_path):
    item = load(write_sequence(tmp_path), one_based=False)[0]
    np.testing.assert_array_equal(item['gt_bboxes_xyxy'],
                                  [[1, 2, 4, 6], [5, 6, 12, 14]])
    np.testing.assert_array_equal(item['absent'], [0, 1])


@pytest.mark.parametrize('kwargs, pattern', [
    (dict(rows='1,2,3,4\n5,6,7\n'), r"ball-1.txt line 2: field 'x,y,w,h'"),
    (dict(rows='1,2,3,4\n5,a,7,8\n'), r"ball-1.txt line 2: field 'y'"),
    (dict(rows='1,2,3,4\n5,6,-7,8\n'), r"ball-1.txt line 2: field 'w'"),
    (dict(rows='\n1,2,3,4\n'), r"ball-1.txt line 1: field 'x,y,w,h'"),
    (dict(absent='0\n'), r"absent/ball-1.txt line 2: field 'absent' has 1"),
    (dict(absent='0\n1\n0\n'), r"absent/ball-1.txt line 3: field 'absent'"),
    (dict(absent='0\n2\n'), r"absent/ball-1.txt line 2: field 'absent' mu"),
    (dict(nlp=' \n'), r"nlp/ball-1.txt line 1: field 'expression'"),
])
def test_malformed(tmp_path, kwargs, pattern):
    with pytest.raises(AnnotationError, match=pattern):
        load(write_sequence(tmp_path, **kwargs))


def test_lasot_flag_files(world, tmp_path):
    name = (world / 'testing_set.txt').read_text().split()[0]
    folder = tmp_path / name.rsplit('-', 1)[0] / name
    folder.mkdir(parents=True)
    for file in ('groundtruth.txt', 'full_occlusion.txt', 'nlp.txt'):
        (folder / file).write_bytes((world / folder.parent.name / name /
                                     file).read_bytes())
    (folder / 'out_of_view.txt').write_text('0,0')
    (tmp_path / 'list.txt').write_text(f'{name}\n')
    with pytest.raises(AnnotationError,
                       match=r"out_of_view.txt line 2: field 'out_of_view'"):
        LaSOTDataset(ann_file='list.txt', data_root=str(tmp_path))


def test_bad_layout():
    with pytest.raises(ValueError, match='layout'):
        LaSOTDataset(layout='trackingnet')
