"""The synthetic world's Charades-STA-style temporal source (Table 15)."""
import json
import os.path as osp

import numpy as np

from tpo.datasets import CharadesSTADataset
from tpo.datasets.synthetic import world_vocabulary
from tpo.datasets.synthetic.formats.charades_sta import (build_lines,
                                                         write_charades_sta)
from tpo.registry import DATASETS


def _video(boxes, visible, fps=2):
    return dict(video_id='v', fps=fps, duration=len(boxes) // fps,
                objects=[dict(obj_id=0, color='red', shape='circle',
                              boxes=boxes, visible=visible)])


def test_events_have_frame_exact_windows():
    # visible in frames 1-6 (0.5-3.5 s); moves right until frame 4, then
    # down once for two frames: 'right' (frames 1-3) and 'down' (4-5)
    boxes = [None, [0, 0, 2, 2], [1, 0, 3, 2], [2, 0, 4, 2], [3, 0, 5, 2],
             [3, 1, 5, 3], [3, 2, 5, 4], None]
    lines = build_lines(_video(boxes, [b is not None for b in boxes]))
    windows = {line.split('##')[1]: line.split('##')[0] for line in lines}
    assert len(lines) == 3
    appear = [w for s, w in windows.items() if 'right' not in s
              and 'down' not in s]
    assert appear == ['v 0.5 3.5']
    right = [w for s, w in windows.items() if s.endswith('right')]
    down = [w for s, w in windows.items() if s.endswith('down')]
    assert right == ['v 0.5 2.0'] and down == ['v 2.0 3.0']


def test_ambiguous_and_short_events_are_skipped():
    # right, left, right: 'right' happens twice (ambiguous), 'left' once
    # but for one frame only (< 1 s at 2 fps)
    boxes = [[0, 0, 2, 2], [1, 0, 3, 2], [2, 0, 4, 2], [1, 0, 3, 2],
             [2, 0, 4, 2], [3, 0, 5, 2]]
    lines = build_lines(_video(boxes, [True] * 6))
    assert len(lines) == 1 and lines[0].startswith('v 0.0 3.0##')


def test_written_files_read_with_the_charades_reader(tiny_world, tmp_path):
    out = str(tmp_path / 'charades')
    counts = write_charades_sta(tiny_world, out)
    with open(osp.join(tiny_world, 'world_gt.json')) as f:
        videos = {v['video_id']: v for v in json.load(f)['videos']}
    for split, count in counts.items():
        data = CharadesSTADataset(
            data_root=out, ann_file=f'charades_sta_{split}.txt',
            meta_file=f'Charades_v1_{split}.csv',
            data_prefix=dict(video=osp.join(tiny_world, 'videos')))
        assert len(data) == count > 0
        vocab = set(world_vocabulary())
        for i in range(len(data)):
            item = data.get_data_info(i)
            video = videos[item['vid']]
            assert video['split'] == split
            assert item['duration'] == video['duration']
            start, end = item['relevant_windows'][0]
            assert 0 <= start < end <= video['duration']
            assert set(item['query'].split()) <= vocab
            assert osp.isfile(item['video_path'])


def test_builder_writes_once(tiny_world, tmp_path):
    from mmengine.registry import init_default_scope
    init_default_scope('tpo')
    out = str(tmp_path / 'charades') + '/'
    cfg = dict(
        type='SyntheticCharadesSTADataset', data_root=tiny_world,
        world=dict(num_videos=dict(train=6, val=3), seed=0), out_dir=out,
        dataset=dict(type='CharadesSTADataset', data_root='',
                     ann_file=out + 'charades_sta_train.txt',
                     meta_file=out + 'Charades_v1_train.csv',
                     data_prefix=dict(video=tiny_world + '/videos')))
    first = DATASETS.build(cfg)
    stamp = osp.getmtime(out + 'charades_sta_train.txt')
    second = DATASETS.build(cfg)
    assert osp.getmtime(out + 'charades_sta_train.txt') == stamp
    assert len(first) == len(second) > 0
    np.testing.assert_array_equal(first.get_data_info(0)['relevant_windows'],
                                  second.get_data_info(0)['relevant_windows'])
