import csv
import re

import numpy as np
import pytest

from tpo.datasets import AnnotationError, CharadesSTADataset
from tests._shared import SHARED, shared_path
from tpo.registry import DATASETS

CHARADES = SHARED / 'data/annotations/charades_sta'



def require_shared():
    return str(shared_path('data/annotations/charades_sta'))


@pytest.fixture(scope='module')
def real():
    root = require_shared()
    return CharadesSTADataset(
        data_root=root,
        ann_file='charades_sta_test.txt',
        meta_file='Charades_v1_test.csv',
        data_prefix=dict(video='/videos'))


def test_real_test_split(real):
    assert len(real) == 3720
    assert real.metainfo['dataset_name'] == 'charades_sta'
    infos = [real.get_data_info(i) for i in range(len(real))]
    assert len({info['vid'] for info in infos}) == 1334
    first = real[0]  # no pipeline: the data info itself
    assert first['vid'] == '3MSZA' and first['query'] == (
        'person turn a light on.')
    assert first['video_path'] == '/videos/3MSZA.mp4'
    assert first['task'] == 'temporal' and first['source'] == 'charades_sta'
    assert first['duration'] == 30.96
    windows = first['relevant_windows']
    assert windows.dtype == np.float32 and windows.shape == (1, 2)
    np.testing.assert_allclose(windows, [[24.3, 30.4]], rtol=1e-6)
    np.testing.assert_array_equal(first['raw_window'], windows)
    last = real[3719]
    assert last['vid'] == '7JHW2' and last['query'] == (
        'person sets a laptop computer on a counter.')
    np.testing.assert_allclose(last['relevant_windows'], [[3.1, 8.3]])
    for info in infos:
        start, end = info['relevant_windows'][0].tolist()
        assert 0 <= start <= end <= info['duration'] + 1e-4


def test_real_clipping_matches_meta(real):
    with open(CHARADES / 'Charades_v1_test.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    lengths = {row['id']: float(row['length']) for row in rows}
    with open(CHARADES / 'charades_sta_test.txt') as f:
        lines = [line.strip() for line in f if line.strip()]
    past_end = [
        n for n, line in enumerate(lines)
        if float(line.split('##')[0].split()[2]) > lengths[line.split()[0]]
    ]
    assert len(past_end) == 562
    infos = [real.get_data_info(n) for n in range(len(real))]
    clipped = [
        n for n, info in enumerate(infos)
        if info['raw_window'][0, 1] != info['relevant_windows'][0, 1]
    ]
    assert clipped == past_end
    info = infos[past_end[0]]
    vid = lines[past_end[0]].split()[0]
    assert info['duration'] == lengths[vid]
    assert info['relevant_windows'][0, 1] == np.float32(lengths[vid])
    raw_end = float(lines[past_end[0]].split('##')[0].split()[2])
    assert info['raw_window'][0, 1] == np.float32(raw_end)


def test_without_meta_file_and_registry(tmp_path):
    ann = tmp_path / 'sta.txt'
    ann.write_text('AB12C 1.5 40.0##a person sits down.\n\n'
                   'XY9Z0 0 2##someone opens a door ## twice.\n')
    dataset = DATASETS.build(
        dict(
            type='CharadesSTADataset',
            ann_file=str(ann),
            video_ext='.webm',
            data_prefix=dict(video='/v')))
    assert len(dataset) == 2
    first, second = dataset[0], dataset[1]
    assert first['duration'] is None
    assert first['video_path'] == '/v/AB12C.webm'
    assert first['relevant_windows'].tolist() == [[1.5, 40.0]]
    assert first['raw_window'].tolist() == [[1.5, 40.0]]
    assert second['query'] == 'someone opens a door ## twice.'


@pytest.mark.parametrize('line, field', [
    ('3MSZA 24.3 30.4 person turn a light on.', 'sentence'),
    ('3MSZA 24.3 30.4##   ', 'sentence'),
    ('3MSZA 24.3##person turn a light on.', 'window'),
    ('3MSZA abc 30.4##person turn a light on.', 'start'),
    ('3MSZA 24.3 nan##person turn a light on.', 'end'),
    ('3MSZA -1 30.4##person turn a light on.', 'start'),
    ('3MSZA 30.4 24.3##person turn a light on.', 'end'),
])
def test_malformed_lines(tmp_path, line, field):
    ann = tmp_path / 'bad.txt'
    ann.write_text(f'AB12C 1.5 4.0##fine.\n{line}\n')
    with pytest.raises(AnnotationError) as excinfo:
        CharadesSTADataset(ann_file=str(ann))
    assert str(excinfo.value).startswith(f'{ann} line 2: field {field!r}')


def test_meta_file_errors(tmp_path):
    ann = tmp_path / 'sta.txt'
    ann.write_text('AB12C 1.5 4.0##fine.\nAB12C 9.0 12.0##too late.\n')
    meta = tmp_path / 'meta.csv'
    meta.write_text('id,length\nAB12C,8.5\n')
    with pytest.raises(AnnotationError,
                       match=re.escape(f'{ann} line 2: field \'start\'')):
        CharadesSTADataset(ann_file=str(ann), meta_file=str(meta))
    meta.write_text('id,length\nAB12C,long\n')
    with pytest.raises(AnnotationError,
                       match=re.escape(f'{meta} line 2: field \'length\'')):
        CharadesSTADataset(ann_file=str(ann), meta_file=str(meta))
    meta.write_text('id,duration\nAB12C,8.5\n')
    with pytest.raises(AnnotationError, match="columns \\['length'\\]"):
        CharadesSTADataset(ann_file=str(ann), meta_file=str(meta))
    with pytest.raises(FileNotFoundError, match='meta_file'):
        CharadesSTADataset(
            ann_file=str(ann), meta_file=str(tmp_path / 'missing.csv'))
