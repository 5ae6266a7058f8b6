import json
import os.path as osp
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from tpo.datasets import (AnnotationError, MeViSDataset, MVBenchDataset,
                          QVHighlightsDataset, RefCOCODataset,
                          VideoChat2ITDataset, decode_masks)
from tpo.datasets.synthetic import generate_world
from tests._shared import shared_path
from tpo.registry import DATASETS

QVH_VAL = 'data/annotations/qvhighlights/highlight_val_release.jsonl'
MVBENCH_FIXTURE = 'conformance/mvbench_mcq_acc.json'


def require_shared(relative):
    return str(shared_path(relative))


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp('world')
    generate_world(str(root), num_videos={'train': 4, 'val': 2}, seed=0)
    return str(root)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_lines(path, rows):
    path.write_text(''.join(
        (row if isinstance(row, str) else json.dumps(row)) + '\n'
        for row in rows))
    return str(path)


def error_message(excinfo):
    return str(excinfo.value)


# ---------------------------------------------------------------- QVHighlights
def test_qvhighlights_real_val_file():
    ann_file = require_shared(QVH_VAL)
    dataset = QVHighlightsDataset(
        ann_file=ann_file, data_prefix=dict(video='/videos'))
    assert len(dataset) == 1550
    assert dataset.metainfo['dataset_name'] == 'qvhighlights'
    first = dataset[0]  # no pipeline: the data info itself
    assert first['qid'] == 2579 and first['duration'] == 150.0
    assert first['query'] == ('A girl and her mother cooked while talking '
                              'with each other on facetime.')
    assert first['video_path'] == '/videos/NUsG9BgSes0_210.0_360.0.mp4'
    assert first['task'] == 'temporal' and first['source'] == 'qvhighlights'
    assert first['relevant_windows'].dtype == np.float32
    assert first['relevant_windows'].tolist() == [[82, 150]]
    assert first['relevant_clip_ids'].tolist() == list(range(41, 75))
    assert first['saliency_scores'].shape == (34, 3)
    assert first['saliency_scores'][7].tolist() == [2, 1, 4]
    with open(ann_file) as f:
        rows = [json.loads(line) for line in f]
    qids = [dataset.get_data_info(i)['qid'] for i in range(len(dataset))]
    assert qids == [row['qid'] for row in rows] and len(set(qids)) == 1550
    for index in (1, 777, 1549):
        info, row = dataset.get_data_info(index), rows[index]
        assert info['relevant_windows'].tolist() == row['relevant_windows']
        assert info['saliency_scores'].tolist() == row['saliency_scores']
        assert info['duration'] == row['duration']


def test_qvhighlights_test_split_without_gt(tmp_path):
    ann_file = write_lines(tmp_path / 'highlight_test_release.jsonl', [
        dict(qid=1, query='a dog runs', vid='abc_0.0_150.0', duration=150),
        dict(qid=2, query='a cat sits', vid='abc_0.0_150.0', duration=150)
    ])
    dataset = QVHighlightsDataset(ann_file=ann_file, test_mode=True)
    assert len(dataset) == 2
    assert 'relevant_windows' not in dataset.get_data_info(0)
    with pytest.raises(
            AnnotationError,
            match="line 1 .qid=1.: field "
            "'relevant_windows' is missing"):
        QVHighlightsDataset(ann_file=ann_file)


QVH_ROW = dict(
    qid=123,
    query='q',
    vid='v',
    duration=20,
    relevant_windows=[[2, 6]],
    relevant_clip_ids=[1, 2],
    saliency_scores=[[1, 2, 3], [4, 4, 4]])


@pytest.mark.parametrize('bad_row, record, field, problem', [
    ('{"qid": 123, "query": ', 'line 17', None, 'invalid JSON'),
    (dict(QVH_ROW, query=None), 'line 17 (qid=123)', 'query', 'must be str'),
    ({
        k: v
        for k, v in QVH_ROW.items() if k != 'vid'
    }, 'line 17 (qid=123)', 'vid', 'is missing'),
    (dict(QVH_ROW, relevant_windows=[[6, 2]]), 'line 17 (qid=123)',
     'relevant_windows', r'\[6, 2\], outside'),
    (dict(QVH_ROW, relevant_windows=[[2, 22]]), 'line 17 (qid=123)',
     'relevant_windows', r'duration \(20\)'),
    (dict(QVH_ROW, relevant_windows=[[2]]), 'line 17 (qid=123)',
     'relevant_windows', 'must be a list of'),
    (dict(QVH_ROW, saliency_scores=[[1, 2, 3]]), 'line 17 (qid=123)',
     'saliency_scores', 'has 1 rows for 2'),
    ('[1, 2]', 'line 17', None, 'expected a JSON object'),
])
def test_qvhighlights_errors_name_file_record_field(tmp_path, bad_row, record,
                                                    field, problem):
    rows = [dict(QVH_ROW, qid=i) for i in range(15)] + ['', bad_row]
    ann_file = write_lines(tmp_path / 'qvh.jsonl', rows)
    with pytest.raises(AnnotationError) as excinfo:
        QVHighlightsDataset(ann_file=ann_file)
    message = error_message(excinfo)
    assert message.startswith(f'{ann_file} {record}')
    if field is not None:
        assert f'field {field!r}' in message
    assert re.search(problem, message)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='ann_file.*nope.jsonl'):
        QVHighlightsDataset(ann_file=str(tmp_path / 'nope.jsonl'))
    with pytest.raises(FileNotFoundError, match='data_root.*no_root'):
        QVHighlightsDataset(
            ann_file='a.jsonl', data_root=str(tmp_path / 'no_root'))
    # lazy_init defers reading, but not the check
    dataset = QVHighlightsDataset(
        ann_file='a.jsonl', data_root=str(tmp_path), lazy_init=True)
    with pytest.raises(FileNotFoundError, match='a.jsonl'):
        dataset.full_init()


# ------------------------------------------------------------ synthetic world
def test_qvhighlights_synthetic(world):
    dataset = DATASETS.build(
        dict(
            type='QVHighlightsDataset',
            data_root=world,
            ann_file='qvhighlights/highlight_train_release.jsonl',
            data_prefix=dict(video='videos')))
    assert len(dataset) > 0
    for info in (dataset[i] for i in range(len(dataset))):
        assert osp.isfile(info['video_path'])
        windows = info['relevant_windows']
        assert windows.shape[1] == 2 and (windows[:, 1]
                                          <= info['duration']).all()
        assert len(info['saliency_scores']) == len(info['relevant_clip_ids'])


def test_refcoco_synthetic(world):
    root = osp.join(world, 'refcoco')
    refs = read_json(osp.join(root, 'refs.json'))
    instances = read_json(osp.join(root, 'instances.json'))
    anns = {ann['id']: ann for ann in instances['annotations']}
    images = {image['id']: image for image in instances['images']}
    kwargs = dict(data_root=root, data_prefix=dict(video='images'))

    train = RefCOCODataset(split='train', **kwargs)
    train_refs = [ref for ref in refs if ref['split'] == 'train']
    assert len(train) == len(train_refs)
    for info, ref in zip((train[i] for i in range(len(train))), train_refs):
        x, y, w, h = anns[ref['ann_id']]['bbox']
        image = images[ref['image_id']]
        assert info['task'] == 'region' and info['source'] == 'refcoco'
        assert info['ref_id'] == ref['ref_id']
        assert info['expressions'] == [s['sent'] for s in ref['sentences']]
        assert info['gt_bboxes'].dtype == np.float32
        np.testing.assert_allclose(
            info['gt_bboxes'], [[x, y, x + w, y + h]], rtol=1e-6)
        assert info['ori_shape'] == (image['height'], image['width'])
        assert info['video_path'] == osp.join(root, 'images',
                                              image['file_name'])
        assert osp.isfile(info['video_path'])

    val = RefCOCODataset(
        split='val', test_mode=True, source='refcoco+', **kwargs)
    val_refs = [ref for ref in refs if ref['split'] == 'val']
    assert len(val) == sum(len(ref['sentences']) for ref in val_refs)
    assert all(len(val[i]['expressions']) == 1 for i in range(len(val)))
    assert val[0]['source'] == 'refcoco+'
    assert val.metainfo['dataset_name'] == 'refcoco+'
    with pytest.raises(
            AnnotationError, match=r"split 'testA'.*\['train', "
            r"'val'\]"):
        RefCOCODataset(split='testA', **kwargs)


def test_videochat2_it_synthetic(world):
    ann_file = osp.join(world, 'videochat2_it', 'train.json')
    entries = read_json(ann_file)
    dataset = VideoChat2ITDataset(
        ann_file=ann_file,
        data_prefix=dict(video=osp.join(world, 'videos')),
        source='synthetic_it')
    assert len(dataset) == len(entries)
    for info, entry in zip((dataset[i] for i in range(len(dataset))), entries):
        assert info['task'] == 'chat' and info['source'] == 'synthetic_it'
        assert osp.isfile(info['video_path'])
        assert info['instruction'] == entry['QA'][0]['i'].strip()
        assert info['conversation'] == [
            dict(question=qa['q'], answer=qa['a']) for qa in entry['QA']
        ]


def test_mvbench_synthetic(world):
    kwargs = dict(
        data_root=osp.join(world, 'mvbench'),
        data_prefix=dict(video=osp.join(world, 'videos')))
    dataset = MVBenchDataset(**kwargs)
    files = sorted(Path(kwargs['data_root']).glob('*.json'))
    assert len(dataset) == sum(len(read_json(f)) for f in files)
    task_types = [dataset[i]['task_type'] for i in range(len(dataset))]
    assert task_types == sorted(task_types)
    assert set(task_types) <= {f.stem for f in files}
    for info in (dataset[i] for i in range(len(dataset))):
        letter = info['gt_answer'][1]
        index = ord(letter) - ord('A')
        assert info['candidates'][index] == info['answer']
        assert f'({letter}) {info["answer"]}' in info['question_text']
        assert info['conversation'] == [
            dict(question=info['question_text'], answer=info['gt_answer'][1:])
        ]
        assert info['answer_prefix'] + info['conversation'][0]['answer'] == \
            'Best option:' + info['gt_answer']
        assert osp.isfile(info['video_path'])
    one = MVBenchDataset(task_types=[files[0].stem], **kwargs)
    assert {one[i]['task_type'] for i in range(len(one))} == {files[0].stem}
    named = MVBenchDataset(task_types={'Some Task': files[0].name}, **kwargs)
    assert len(named) == len(one) and named[0]['task_type'] == 'Some Task'


def test_mevis_synthetic(world):
    root = osp.join(world, 'mevis', 'train')
    meta = read_json(osp.join(root, 'meta_expressions.json'))['videos']
    dataset = MeViSDataset(
        data_root=root, data_prefix=dict(video=osp.join(world, 'videos')))
    assert len(dataset) == sum(len(v['expressions']) for v in meta.values())
    info = dataset[0]
    vid = next(iter(meta))
    expression = meta[vid]['expressions']['0']
    assert info['task'] == 'mask' and info['vid'] == vid
    assert info['expression'] == expression['exp']
    assert info['anno_ids'] == [str(a) for a in expression['anno_id']]
    assert info['frame_names'] == meta[vid]['frames']
    assert osp.isfile(info['video_path'])
    assert len(info['mask_rles']) == len(info['anno_ids'])
    assert all(isinstance(r, (dict, type(None))) for r in info['mask_rles'][0])
    masks = decode_masks(info['mask_rles'], info['ori_shape'], [0, 3])
    assert masks.shape == (2, *info['ori_shape']) and masks.dtype == bool
    full = decode_masks(info['mask_rles'], info['ori_shape'])
    assert len(full) == len(info['frame_names']) and full.any()
    np.testing.assert_array_equal(full[[0, 3]], masks)
    no_masks = MeViSDataset(data_root=root, mask_file=None, test_mode=True)
    assert 'mask_rles' not in no_masks[0]


def test_pipeline_on_synthetic_world(world):
    pipeline = [
        dict(type='LoadVideoFrames', num_frames=2, on_error='raise'),
        dict(type='FormatTaskConversation', train=False),
        dict(type='PackTPOInputs')
    ]
    with DefaultScope.overwrite_default_scope('tpo'):  # as in a Runner
        dataset = DATASETS.build(
            dict(
                type='RefCOCODataset',
                data_root=osp.join(world, 'refcoco'),
                data_prefix=dict(video='images'),
                split='val',
                test_mode=True,
                pipeline=pipeline))
    packed = dataset[0]
    sample = packed['data_samples']
    assert packed['inputs'].dtype == torch.uint8
    assert packed['inputs'].shape[:2] == (2, 3)
    assert sample.gt_task == '<box_begin>'
    assert sample.conversation[0]['answer'] == 'It is here <box_begin><boxes>.'
    assert sample.gt_bboxes.shape == (1, 4)


# --------------------------------------------------------------- bad records
def refcoco_files(tmp_path, ref_changes):
    instances = dict(
        images=[dict(id=1, file_name='1.jpg', height=40, width=60)],
        annotations=[dict(id=7, image_id=1, bbox=[1, 2, 10, 20])])
    ref = dict(
        ref_id=0,
        ann_id=7,
        image_id=1,
        category_id=1,
        split='train',
        sent_ids=[0],
        sentences=[dict(sent_id=0, sent='red cube')])
    (tmp_path / 'instances.json').write_text(json.dumps(instances))
    (tmp_path / 'refs.json').write_text(
        json.dumps([ref, dict(ref, ref_id=5, **ref_changes)]))
    return dict(data_root=str(tmp_path))


@pytest.mark.parametrize('changes, field, problem', [
    (dict(ann_id=99), 'ann_id', '99 is not an annotation of'),
    (dict(image_id=3), 'image_id', '3 is not the image of annotation 7'),
    (dict(sentences=[]), 'sentences', 'is empty'),
])
def test_refcoco_errors(tmp_path, changes, field, problem):
    kwargs = refcoco_files(tmp_path, changes)
    with pytest.raises(AnnotationError) as excinfo:
        RefCOCODataset(**kwargs)
    message = error_message(excinfo)
    assert message.startswith(f'{tmp_path / "refs.json"} index 1 (ref_id=5)')
    assert f'field {field!r} ' in message and problem in message


def test_mvbench_errors(tmp_path):
    good = dict(
        video='a.mp4', question='Q?', candidates=['x', 'y'], answer='y')
    bad = dict(good, answer='z')
    (tmp_path / 'task.json').write_text(json.dumps([good, good, bad]))
    with pytest.raises(AnnotationError) as excinfo:
        MVBenchDataset(data_root=str(tmp_path))
    message = error_message(excinfo)
    assert message.startswith(f'{tmp_path / "task.json"} index 2')
    assert "field 'answer' 'z' is not among the candidates" in message
    with pytest.raises(FileNotFoundError, match='other.json'):
        MVBenchDataset(data_root=str(tmp_path), task_types=['other'])


def test_mvbench_matches_the_official_prompt(tmp_path):
    rows = json.loads(Path(
        require_shared(MVBENCH_FIXTURE)).read_text())['rows']
    by_task = {}
    for row in rows:
        by_task.setdefault(row['task_type'], []).append(row)
    for task, task_rows in by_task.items():
        (tmp_path / f'{task}.json').write_text(
            json.dumps([row['data'] for row in task_rows]))
    dataset = MVBenchDataset(data_root=str(tmp_path))
    expected = [row for task in sorted(by_task) for row in by_task[task]]
    assert len(dataset) == len(expected) == len(rows)
    for index, row in enumerate(expected):
        info = dataset.get_data_info(index)
        assert info['task_type'] == row['task_type']
        assert info['question_text'] == row['question_text']
        assert info['gt_answer'] == row['gt']
        if 'start' in row['data']:
            assert info['clip_window'] == (row['data']['start'],
                                           row['data']['end'])


def test_videochat2_it_errors(tmp_path):
    entries = [
        dict(video='a.mp4', QA=[dict(i='', q='Q?', a='A.')]),
        dict(image='b.jpg', QA=[dict(q='Q?', a='A.')], start=1, end=3),
        dict(video='c.mp4', QA=[dict(i='I', q='Q?')]),
    ]
    ann_file = tmp_path / 'it.json'
    ann_file.write_text(json.dumps(entries))
    with pytest.raises(
            AnnotationError,
            match=r"it.json index 2 QA\[0\]: field 'a' is missing"):
        VideoChat2ITDataset(ann_file=str(ann_file))
    ann_file.write_text(json.dumps(entries[:2]))
    dataset = VideoChat2ITDataset(ann_file=str(ann_file))
    assert dataset[1]['clip_window'] == (1.0, 3.0)
    assert dataset[1]['instruction'] == ''
    ann_file.write_text(json.dumps(entries[:1] + [dict(QA=[])]))
    with pytest.raises(AnnotationError, match="index 1: field 'video'"):
        VideoChat2ITDataset(ann_file=str(ann_file))
    ann_file.write_text('{"video": "a.mp4"}')
    with pytest.raises(AnnotationError, match='expected a JSON list'):
        VideoChat2ITDataset(ann_file=str(ann_file))


def test_mevis_errors(tmp_path):
    meta = dict(
        videos=dict(
            v1=dict(
                frames=['00000', '00001'],
                expressions={
                    '0': dict(exp='the cat', obj_id=[1], anno_id=[0]),
                    '1': dict(exp='the dog', obj_id=[2], anno_id=[5])
                })))
    rle = dict(size=[4, 4], counts=[16])  # uncompressed: all background
    (tmp_path / 'meta_expressions.json').write_text(json.dumps(meta))
    (tmp_path / 'mask_dict.json').write_text(json.dumps({'0': [rle, None]}))
    with pytest.raises(AnnotationError) as excinfo:
        MeViSDataset(data_root=str(tmp_path))
    message = error_message(excinfo)
    assert message.startswith(
        f"{tmp_path / 'meta_expressions.json'} video 'v1' expression '1'")
    assert "field 'anno_id' 5 is not in" in message
    (tmp_path /
     'mask_dict.json').write_text(json.dumps({
         '0': [rle],
         '5': [rle, rle]
     }))
    with pytest.raises(
            AnnotationError,
            match=r"mask_dict.json top level: field '0' has 1 "
            r"masks for the 2 frames"):
        MeViSDataset(data_root=str(tmp_path))
