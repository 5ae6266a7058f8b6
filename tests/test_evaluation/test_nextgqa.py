"""NExT-GQA: the reader (``NExTGQADataset``), the official grounded QA
metrics (``tpo.evaluation.functional.nextgqa``) and ``NExTGQAMetric``, with
hand-computed values."""
import csv
import json
import re

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from tpo.datasets import AnnotationError, NExTGQADataset, load_gsub
from tpo.evaluation.functional import (nextgqa_denormalize, nextgqa_eval,
                                       nextgqa_grounding, nextgqa_iou_iop,
                                       nextgqa_parse_option)
from tpo.evaluation.metrics import NExTGQAMetric


# ------------------------------------------------------------- IoU / IoP
@pytest.mark.parametrize('pred, gt, iou, iop', [
    # overlap 2, hull 8, prediction length 4
    ([2, 6], [4, 10], 0.25, 0.5),
    # inside: IoP 1
    ([5, 7], [4, 10], 2 / 6, 1.0),
    # apart: the raw values are negative (not clipped)
    ([0, 2], [5, 9], -3 / 9, -1.5),
    # a point: IoU 0, IoP 1 when inside (bounds included)
    ([5, 5], [4, 10], 0.0, 1.0),
    ([10, 10], [4, 10], 0.0, 1.0),
    ([3, 3], [4, 10], 0.0, 0.0),
    # reversed prediction: negative overlap, IoP 0
    ([6, 2], [0, 10], -0.4, 0.0),
    # zero-length GT
    ([4, 6], [5, 5], 0.0, 0.0),
])
def test_iou_iop(pred, gt, iou, iop):
    got = nextgqa_iou_iop(pred, gt)
    assert got == pytest.approx((iou, iop))


def test_grounding_max_over_gt_segments():
    # both segments overlap: IoU 1/12 and 2/17, IoP 1/9 and 2/9
    assert nextgqa_grounding([3, 12], [[0, 4], [10, 20]]) == pytest.approx(
        (2 / 17, 2 / 9))
    # the best IoU (0.75, 2nd segment) and the best IoP (1, 1st) differ
    assert nextgqa_grounding([9, 13], [[0, 100], [10, 13]]) == pytest.approx(
        (0.75, 1.0))
    # negative values count as 0; no prediction is (0, 0)
    assert nextgqa_grounding([0, 2], [[5, 9]]) == (0.0, 0.0)
    assert nextgqa_grounding([6, 2], [[0, 10]]) == (0.0, 0.0)
    assert nextgqa_grounding(None, [[0, 10]]) == (0.0, 0.0)
    with pytest.raises(ValueError, match='no GT segment'):
        nextgqa_grounding([0, 1], np.zeros((0, 2)))


def test_denormalize_rounds_to_tenths():
    assert nextgqa_denormalize([0.1, 0.3], 20).tolist() == [2.0, 6.0]
    assert nextgqa_denormalize([0.0123, 1.0], 34).tolist() == [0.4, 34.0]


@pytest.mark.parametrize('text, index', [
    ('B) show him the watch', 1), ('(C)', 2), ('A.', 0), ('E', 4),
    ('  (D) smells the black dog\nbecause', 3), ('B,', 1), ('F)', None),
    ('the answer is B', None), ('b) lowercase', None), ('', None),
    ('Best', None),
])
def test_parse_option(text, index):
    assert nextgqa_parse_option(text, 5) == index


# ------------------------------------------------------------ nextgqa_eval
# q1: IoU .25 IoP .5, right; q2: IoU .75 IoP 1, wrong; q3: no span, right;
# q4: a point inside, IoU 0 IoP 1, right
SPANS = [[2, 6], [9, 13], None, [5, 5]]
GTS = [[[4, 10]], [[0, 100], [10, 13]], [[1, 2]], [[4, 10]]]
CORRECT = [True, False, True, True]
EXPECTED = {
    'Acc@QA': 75.0,
    'Acc@GQA': 50.0,  # q1 and q4: right with IoP >= 0.5
    'mIoP': 62.5,  # (0.5 + 1 + 0 + 1) / 4
    'IoP@0.3': 75.0,
    'IoP@0.5': 75.0,
    'mIoU': 25.0,  # (0.25 + 0.75) / 4
    'IoU@0.3': 25.0,
    'IoU@0.5': 25.0,
}
TYPES = ['CW', 'TP', 'TN', 'TC']
# TP counts as TN; groups by the first letter
EXPECTED_TYPES = {
    'Acc@QA/Why': 100.0,
    'Acc@QA/Bef&Aft': 50.0,
    'Acc@QA/When': 100.0,
    'Acc@QA/Acc_C': 100.0,
    'Acc@QA/Acc_T': 200 / 3,
}


def test_eval_hand_computed():
    out = nextgqa_eval(SPANS, GTS, CORRECT)
    assert out == pytest.approx(EXPECTED)
    assert list(out) == list(EXPECTED)
    out = nextgqa_eval(SPANS, GTS, CORRECT, task_types=TYPES)
    assert out == pytest.approx(dict(EXPECTED, **EXPECTED_TYPES))


def test_eval_normalized_spans():
    durations = [20, 40, 5, 10]
    spans = [[0.1, 0.3], [0.225, 0.325], None, [0.5, 0.5]]
    out = nextgqa_eval(spans, GTS, CORRECT, durations=durations,
                       normalized=True)
    assert out == pytest.approx(EXPECTED)
    with pytest.raises(ValueError, match='one duration per question'):
        nextgqa_eval(spans, GTS, CORRECT, normalized=True)


def test_eval_errors():
    with pytest.raises(ValueError, match='got 4 predicted spans, 3 GT'):
        nextgqa_eval(SPANS, GTS[:3], CORRECT)
    with pytest.raises(ValueError, match='no questions'):
        nextgqa_eval([], [], [])
    with pytest.raises(ValueError, match="unknown question type 'XX'"):
        nextgqa_eval(SPANS, GTS, CORRECT, task_types=['XX'] * 4)


# ---------------------------------------------------------------- reader
CSV_HEADER = ['video_id', 'frame_count', 'width', 'height', 'question',
              'answer', 'qid', 'type', 'a0', 'a1', 'a2', 'a3', 'a4']
CSV_ROWS = [
    ['4882821564', '2697', '640', '480',
     'why did the boy pick up one present from the group of them and move '
     'to the sofa', 'unwrap it', '1', 'CW', 'share with the girl',
     'approach lady sitting there', 'unwrap it', 'playing with toy train',
     'gesture something'],
    # not grounded: left out, as the official evaluation does
    ['4882821564', '2697', '640', '480', 'where is this', 'home', '2', 'DL',
     'home', 'park', 'school', 'shop', 'beach'],
    ['3842638015', '1828', '640', '480',
     'how is the baby feeling as the person flips his bib', 'happy', '4',
     'TC', 'embarrassed', 'happy to see the baby walking',
     'calmer and happier', 'happy', 'happy'],
]
GSUB = {
    '4882821564': {'duration': 90, 'location': {'1': [[13.8, 29.8]]},
                   'fps': 29.97},
    '3842638015': {'duration': 61, 'location': {
        '4': [[-0.1, 5.0], [20.0, 23.5]]}, 'fps': 29.97},
}
VIDEO_MAP = {'4882821564': '1104/4882821564', '3842638015': '0062/3842638015'}


def write_split(root, rows=CSV_ROWS, gsub=GSUB, video_map=VIDEO_MAP,
                header=CSV_HEADER):
    with open(root / 'val.csv', 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    (root / 'gsub_val.json').write_text(json.dumps(gsub))
    (root / 'map_vid_vidorID.json').write_text(json.dumps(video_map))
    return dict(ann_file='val.csv', gsub_file='gsub_val.json',
                video_map_file='map_vid_vidorID.json', data_root=str(root))


def test_reader(tmp_path):
    dataset = NExTGQADataset(**write_split(tmp_path),
                             data_prefix=dict(video='/nextqa'))
    assert len(dataset) == 2 and dataset.metainfo['dataset_name'] == 'nextgqa'
    first = dataset[0]
    assert first['qid'] == '4882821564_1'
    assert first['video_id'] == '4882821564' and first['question_id'] == '1'
    assert first['video_path'] == '/nextqa/1104/4882821564.mp4'
    assert first['task'] == 'mcq' and first['source'] == 'nextgqa'
    assert first['task_type'] == 'CW'
    assert first['answer_idx'] == 2 and first['gt_answer'] == '(C) unwrap it'
    assert first['question_text'] == (
        'Question: why did the boy pick up one present from the group of '
        'them and move to the sofa\nOptions:\n(A) share with the girl\n'
        '(B) approach lady sitting there\n(C) unwrap it\n'
        '(D) playing with toy train\n(E) gesture something')
    assert first['conversation'] == [
        dict(question=first['question_text'], answer='C) unwrap it')
    ]
    assert first['answer_prefix'] == 'Best option:('
    assert first['duration'] == 90.0
    assert first['relevant_windows'].dtype == np.float32
    assert first['relevant_windows'].tolist() == [[np.float32(13.8),
                                                   np.float32(29.8)]]
    second = dataset[1]
    # the answer listed twice: the first option; a negative start kept
    assert second['gt_answer'] == '(D) happy'
    assert second['relevant_windows'].tolist() == [
        [np.float32(-0.1), 5.0], [20.0, 23.5]]
    # without the map, {video_id}{video_ext}
    paths = write_split(tmp_path)
    paths.pop('video_map_file')
    dataset = NExTGQADataset(**paths, video_ext='.webm')
    assert dataset[0]['video_path'].endswith('/4882821564.webm')


def test_load_gsub_keeps_release_values(tmp_path):
    path = tmp_path / 'g.json'
    path.write_text(json.dumps(GSUB))
    gsub = load_gsub(str(path))
    assert gsub['3842638015']['duration'] == 61.0
    assert gsub['3842638015']['location']['4'].tolist() == [[-0.1, 5.0],
                                                            [20.0, 23.5]]


def replace(row, **fields):
    row = list(row)
    for name, value in fields.items():
        row[CSV_HEADER.index(name)] = value
    return row


@pytest.mark.parametrize('row, field, problem', [
    (replace(CSV_ROWS[2], answer='sad'), 'answer',
     "'sad' is not among the options"),
    (replace(CSV_ROWS[2], a3=' '), 'a3', 'is empty'),
    (replace(CSV_ROWS[2], question=''), 'question', 'is empty'),
    (replace(CSV_ROWS[2], type=''), 'type', 'is empty'),
    (replace(CSV_ROWS[2], video_id='3842638015'), 'qid', 'repeats'),
])
def test_reader_csv_errors(tmp_path, row, field, problem):
    rows = CSV_ROWS + [row]
    ann = write_split(tmp_path, rows=rows)
    with pytest.raises(AnnotationError) as excinfo:
        NExTGQADataset(**ann)
    message = str(excinfo.value)
    csv_file = str(tmp_path / 'val.csv')
    if field == 'qid':
        assert message.startswith(f'{csv_file} line 5: field')
    else:
        assert message.startswith(
            f"{csv_file} line 5 (video_id='3842638015', qid='4'): field")
    assert f'field {field!r}' in message and problem in message


def test_reader_file_errors(tmp_path):
    ann = write_split(tmp_path,
                      video_map={'4882821564': '1104/4882821564'})
    with pytest.raises(AnnotationError,
                       match=r"val.csv line 4 \(video_id='3842638015', "
                       r"qid='4'\): field 'video_id' is not in .*"
                       'map_vid_vidorID.json'):
        NExTGQADataset(**ann)
    ann = write_split(tmp_path, header=CSV_HEADER[:-1],
                      rows=[r[:-1] for r in CSV_ROWS])
    with pytest.raises(AnnotationError, match=r"missing CSV columns \['a4'\]"):
        NExTGQADataset(**ann)
    ann = write_split(tmp_path, gsub={'1': {'duration': 9, 'location': {
        '1': [[0, 1]]}}})
    with pytest.raises(AnnotationError, match='none of its questions has '
                       'segments'):
        NExTGQADataset(**ann)
    with pytest.raises(ValueError, match='needs gsub_file'):
        NExTGQADataset(ann_file='val.csv', data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='gsub_file.*nope.json'):
        NExTGQADataset(ann_file='val.csv', gsub_file='nope.json',
                       data_root=str(tmp_path))


@pytest.mark.parametrize('entry, record, field, problem', [
    ({'duration': 61, 'location': {'4': [[5.0, 3.0]]}}, "video 'v' qid '4'",
     'location', r'segment \[5, 3\] with start > end'),
    ({'duration': 61, 'location': {'4': []}}, "video 'v' qid '4'",
     'location', 'is empty'),
    ({'duration': 61, 'location': {'4': [[1, 'x']]}}, "video 'v' qid '4'",
     'location', 'must be a list of'),
    ({'duration': 0, 'location': {}}, "video 'v'", 'duration',
     'must be positive'),
    ({'duration': 61}, "video 'v'", 'location', 'is missing'),
])
def test_gsub_errors(tmp_path, entry, record, field, problem):
    path = tmp_path / 'gsub.json'
    path.write_text(json.dumps({'v': entry}))
    with pytest.raises(AnnotationError) as excinfo:
        load_gsub(str(path))
    message = str(excinfo.value)
    assert message.startswith(f'{path} {record}: field {field!r}'), message
    assert re.search(problem, message), message


# ---------------------------------------------------------------- metric
def evaluate(metric, samples):
    evaluator = Evaluator(metric)
    evaluator.process(samples)
    return evaluator.evaluate(len(samples))


def test_metric_end_to_end(tmp_path):
    ann = write_split(tmp_path)
    dataset = NExTGQADataset(**ann)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    outputs = [
        # right; span [20, 30] vs GT [13.8, 29.8]: overlap 9.8, hull 16.2,
        # IoP 0.98
        dict(pred_text='C) unwrap it',
             pred_windows=torch.tensor([[20., 30., 0.9], [0., 1., 0.1]])),
        # picks (E), the answer's text again: right; span [2, 22] vs
        # [-0.1, 5] (IoU 3/22.1, IoP 3/20) and [20, 23.5] (IoU 2/21.5,
        # IoP 2/20)
        dict(pred_text='E', pred_windows=np.array([[2., 22.]])),
    ]
    samples = []
    for info, output in zip(infos, outputs):
        samples.append(dict(
            output, qid=info['qid'], candidates=info['candidates'],
            gt_answer=info['gt_answer'], task_type=info['task_type'],
            duration=info['duration'],
            gt_windows=torch.from_numpy(info['relevant_windows']),
            task='mcq'))
    iou1, iop1 = 9.8 / 16.2, 0.98
    iou2, iop2 = 3 / 22.1, 3 / 20
    expected = {
        'Acc@QA': 100.0,
        'Acc@GQA': 50.0,
        'mIoP': (iop1 + iop2) / 2 * 100,
        'IoP@0.3': 50.0,
        'IoP@0.5': 50.0,
        'mIoU': (iou1 + iou2) / 2 * 100,
        'IoU@0.3': 50.0,
        'IoU@0.5': 50.0,
        'Acc@QA/Why': 100.0,
        'Acc@QA/When': 100.0,
        'Acc@QA/Acc_C': 100.0,
        'Acc@QA/Acc_T': 100.0,
    }
    out = evaluate(NExTGQAMetric(tasks=('mcq', )), samples)
    assert out == pytest.approx(
        {f'nextgqa/{k}': v for k, v in expected.items()}, rel=1e-5)
    # GT read from the gsub file by qid, in double precision
    metric = dict(type='tpo.NExTGQAMetric',
                  gsub_file=str(tmp_path / 'gsub_val.json'), per_type=False,
                  prefix='ngqa')
    bare = [{k: v for k, v in s.items() if k not in ('gt_windows',
                                                      'task_type')}
            for s in samples]
    out = evaluate(metric, bare)
    assert out == pytest.approx(
        {f'ngqa/{k}': v for k, v in expected.items() if '/' not in k},
        rel=1e-12)


def test_metric_answers_and_misses():
    base = dict(candidates=['a', 'b', 'c', 'd', 'e'], gt_answer='(B) b',
                gt_windows=[[0., 10.]], task_type='CH')
    samples = [
        dict(base, qid='1_0', pred_answer=1, pred_windows=[[0., 10.]]),
        dict(base, qid='1_1', pred_answer=torch.tensor(7),
             pred_windows=[[0., 10.]]),
        # no span: a miss; unreadable answer: wrong
        dict(base, qid='1_2', pred_text='I think b',
             pred_windows=torch.zeros(0, 2)),
        dict(base, qid='1_3', pred_text='(B)', pred_windows=[[5., 5.]],
             duration=20.0),
    ]
    out = evaluate(NExTGQAMetric(), samples)
    assert out['nextgqa/Acc@QA'] == 50.0
    assert out['nextgqa/Acc@GQA'] == 50.0  # 1_0 (IoP 1) and 1_3 (point in)
    assert out['nextgqa/mIoU'] == 50.0  # (1 + 1 + 0 + 0) / 4
    assert out['nextgqa/mIoP'] == 75.0  # (1 + 1 + 0 + 1) / 4
    assert out['nextgqa/Acc@QA/How'] == 50.0


def test_metric_errors(tmp_path):
    sample = dict(qid='9_9', candidates=['a', 'b'], gt_answer='(A) a',
                  pred_text='A', pred_windows=[[0., 1.]], task_type='CW',
                  sample_idx=3)
    with pytest.raises(KeyError, match="needs 'gt_windows'.*sample_idx=3"):
        evaluate(NExTGQAMetric(), [sample])
    with pytest.raises(KeyError, match="needs 'duration'"):
        evaluate(NExTGQAMetric(normalized=True),
                 [dict(sample, gt_windows=[[0., 1.]])])
    gsub = tmp_path / 'g.json'
    gsub.write_text(json.dumps(GSUB))
    with pytest.raises(KeyError, match="qid '9_9'.*has no segment in"):
        evaluate(NExTGQAMetric(gsub_file=str(gsub)), [sample])
    with pytest.raises(ValueError, match='cannot read the option'):
        evaluate(NExTGQAMetric(),
                 [dict(sample, gt_windows=[[0., 1.]], gt_answer='a')])
    with pytest.raises(ValueError, match='duplicate qids'):
        evaluate(NExTGQAMetric(), [dict(sample, gt_windows=[[0., 1.]])] * 2)
    with pytest.raises(ValueError, match='has no results'):
        NExTGQAMetric().compute_metrics([])
