"""Temporal grounding sources converted to QVHighlights jsonl
(``tpo.datasets.converters.temporal`` and
``tools/dataset_converters/temporal_to_qvh.py``), on small hand-made files in
each source's released format."""
import importlib.util
import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from tpo.datasets import AnnotationError, QVHighlightsDataset
from tpo.datasets.converters import (convert_activitynet, convert_didemo,
                                     convert_ego4d_nlq, convert_hirest,
                                     convert_queryd, convert_tacos,
                                     write_qvh_jsonl)
from tpo.datasets.converters.temporal import InvalidWindowError

TOOL = Path(__file__).resolve().parents[2] / \
    'tools/dataset_converters/temporal_to_qvh.py'


@pytest.fixture(scope='module')
def cli():
    spec = importlib.util.spec_from_file_location('temporal_to_qvh', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_json(path, data):
    path.write_text(json.dumps(data))
    return str(path)


def write_pickle(path, data):
    path.write_bytes(pickle.dumps(data))
    return str(path)


def raises_named(func, *args, file, record, field, problem, kind=None,
                 **kwargs):
    """Call ``func`` and check the error names the file, the record and the
    field."""
    with pytest.raises(AnnotationError) as excinfo:
        func(*args, **kwargs)
    message = str(excinfo.value)
    assert message.startswith(f'{file} {record}: '), message
    assert f'field {field!r}' in message, message
    assert re.search(problem, message), message
    if kind is not None:
        assert isinstance(excinfo.value, kind)
    return message


def read_back(tmp_path, rows, **kwargs):
    """Write rows and read them with QVHighlightsDataset."""
    out = str(tmp_path / 'out' / 'converted.jsonl')
    assert write_qvh_jsonl(rows, out) == len(rows)
    return QVHighlightsDataset(ann_file=out, require_saliency=False, **kwargs)


# ------------------------------------------------------------------ DiDeMo
DIDEMO = [
    dict(num_segments=6,
         description='the man in the hat briefly bends over the machine',
         dl_link='https://www.flickr.com/video_download.gne?id=6060447507',
         times=[[1, 1], [1, 1], [1, 1], [0, 0]],
         video='35034348999@N01_6060447507_dc1a90b8ef.mov',
         annotation_id=49152),
    # a video name with a bare trailing dot; a tie between two windows
    dict(num_segments=5,
         description=' camera stops panning right ',
         dl_link='https://www.flickr.com/video_download.gne?id=1',
         times=[[4, 4], [3, 4], [3, 4], [4, 4]],
         video='86091119@N00_13912142554_c451140af5.',
         annotation_id=7),
]


def test_didemo_segments_to_seconds(tmp_path):
    path = write_json(tmp_path / 'val_data.json', DIDEMO)
    converted = convert_didemo(path)
    assert converted.skipped == []
    assert converted.rows == [
        dict(qid=49152,
             query='the man in the hat briefly bends over the machine',
             vid='35034348999@N01_6060447507_dc1a90b8ef',
             duration=30.0,
             relevant_windows=[[5.0, 10.0], [0.0, 5.0]]),
        # 2 votes each: the first listed wins the tie
        dict(qid=7,
             query='camera stops panning right',
             vid='86091119@N00_13912142554_c451140af5',
             duration=25.0,
             relevant_windows=[[20.0, 25.0], [15.0, 25.0]]),
    ]
    mode = convert_didemo(path, windows='mode').rows
    assert [row['relevant_windows'] for row in mode] == [[[5.0, 10.0]],
                                                        [[20.0, 25.0]]]
    dataset = read_back(tmp_path, converted.rows,
                        data_prefix=dict(video='/v'))
    item = dataset[1]
    assert item['video_path'] == '/v/86091119@N00_13912142554_c451140af5.mp4'
    assert item['relevant_windows'].tolist() == [[20, 25], [15, 25]]
    assert 'saliency_scores' not in item and item['qid'] == 7


def test_didemo_durations_clip_and_skip(tmp_path):
    path = write_json(tmp_path / 'val_data.json', DIDEMO)
    # keyed by vid or by the video file name; the last segment is short
    durations = write_json(
        tmp_path / 'durations.json', {
            '86091119@N00_13912142554_c451140af5': 23.4,
            '35034348999@N01_6060447507_dc1a90b8ef.mov': 41.5
        })
    rows = convert_didemo(path, durations=durations).rows
    assert [row['duration'] for row in rows] == [41.5, 23.4]
    assert rows[1]['relevant_windows'] == [[20.0, 23.4], [15.0, 23.4]]
    partial = write_json(tmp_path / 'partial.json',
                         {'86091119@N00_13912142554_c451140af5': 23.4})
    converted = convert_didemo(path, durations=partial)
    assert [row['qid'] for row in converted.rows] == [7]
    assert len(converted.skipped) == 1
    assert converted.skipped[0].startswith(
        f'{path} index 0 (annotation_id=49152): field \'video\'')
    none = write_json(tmp_path / 'none.json', {'other': 3.0})
    with pytest.raises(AnnotationError, match='none of the videos'):
        convert_didemo(path, durations=none)
    with pytest.raises(ValueError, match='windows must be one of'):
        convert_didemo(path, windows='mean')


@pytest.mark.parametrize('change, field, problem, kind', [
    (dict(times=[[2, 1]]), 'times', r'segments \[2, 1\]',
     InvalidWindowError),
    (dict(times=[[5, 5]]), 'times', r'last < num_segments \(5\)',
     InvalidWindowError),
    (dict(times=[[1.5, 2]]), 'times', 'must hold segment indices', None),
    (dict(times=[]), 'times', 'is empty', None),
    (dict(times=[[1]]), 'times', 'must be a list of', None),
    (dict(description=None), 'description', 'must be str', None),
    (dict(description='  '), 'description', 'is empty', None),
    (dict(num_segments=0), 'num_segments', 'must be >= 1', None),
    (dict(annotation_id=49152), 'annotation_id', 'repeats', None),
])
def test_didemo_errors(tmp_path, change, field, problem, kind):
    path = write_json(tmp_path / 'bad.json', [DIDEMO[0], dict(DIDEMO[1],
                                                              **change)])
    record = f'index 1 (annotation_id={change.get("annotation_id", 7)})'
    raises_named(convert_didemo, path, file=path, record=record, field=field,
                 problem=problem, kind=kind)
    if kind is InvalidWindowError:
        converted = convert_didemo(path, skip_invalid=True)
        assert [row['qid'] for row in converted.rows] == [49152]
        assert converted.skipped[0].startswith(f'{path} {record}')


def test_didemo_missing_field(tmp_path):
    row = {k: v for k, v in DIDEMO[1].items() if k != 'video'}
    path = write_json(tmp_path / 'bad.json', [row])
    raises_named(convert_didemo, path, file=path,
                 record='index 0 (annotation_id=7)', field='video',
                 problem='is missing')
    path = write_json(tmp_path / 'obj.json', {'a': 1})
    with pytest.raises(AnnotationError, match='expected a JSON list'):
        convert_didemo(path)


# ----------------------------------------------------- ActivityNet Captions
ACTIVITYNET = {
    'v_uqiMw7tQ1Cc': {
        'duration': 55.15,
        'timestamps': [[0.28, 55.15], [13.79, 54.32]],
        'sentences': ['A weight lifting tutorial is given.',
                      '  The coach helps the guy in red.']
    },
    'v_bXdq2zI1Ms0': {
        'duration': 73.1,
        # ends 0.01 s past the video, as in the release
        'timestamps': [[0, 10.23], [38.01, 73.11]],
        'sentences': ['A man is seen speaking.', ' He continues moving.']
    }
}


def test_activitynet(tmp_path):
    path = write_json(tmp_path / 'val_1.json', ACTIVITYNET)
    converted = convert_activitynet(path)
    assert converted.skipped == []
    assert converted.rows == [
        dict(qid=0, query='A weight lifting tutorial is given.',
             vid='v_uqiMw7tQ1Cc', duration=55.15,
             relevant_windows=[[0.28, 55.15]]),
        dict(qid=1, query='The coach helps the guy in red.',
             vid='v_uqiMw7tQ1Cc', duration=55.15,
             relevant_windows=[[13.79, 54.32]]),
        dict(qid=2, query='A man is seen speaking.', vid='v_bXdq2zI1Ms0',
             duration=73.1, relevant_windows=[[0.0, 10.23]]),
        dict(qid=3, query='He continues moving.', vid='v_bXdq2zI1Ms0',
             duration=73.1, relevant_windows=[[38.01, 73.1]]),
    ]
    # an end equal to a non-integer duration passes the reader's check
    dataset = read_back(tmp_path, converted.rows)
    assert len(dataset) == 4
    assert dataset[0]['relevant_windows'].tolist() == [
        [np.float32(0.28), np.float32(55.15)]
    ]


def test_activitynet_invalid_window(tmp_path):
    data = dict(ACTIVITYNET)
    data['v_0bosp4-pyTM'] = dict(duration=115.64,
                                 timestamps=[[1, 2], [61.29, 60.71]],
                                 sentences=['one', 'two'])
    path = write_json(tmp_path / 'train.json', data)
    raises_named(convert_activitynet, path, file=path,
                 record="video 'v_0bosp4-pyTM' sentence 1",
                 field='timestamps', problem=r'\[61.29, 60.71\]',
                 kind=InvalidWindowError)
    converted = convert_activitynet(path, skip_invalid=True)
    assert len(converted.rows) == 5 and converted.rows[-1]['query'] == 'one'
    assert [row['qid'] for row in converted.rows] == [0, 1, 2, 3, 4]
    assert len(converted.skipped) == 1


@pytest.mark.parametrize('entry, record, field, problem', [
    (dict(duration=10, timestamps=[[1, 2]], sentences=['a', 'b']),
     "video 'v_x'", 'sentences', 'has 2 sentences for 1 timestamps'),
    (dict(duration=0, timestamps=[[1, 2]], sentences=['a']), "video 'v_x'",
     'duration', 'must be positive'),
    (dict(duration='10', timestamps=[[1, 2]], sentences=['a']),
     "video 'v_x'", 'duration', 'must be a number'),
    (dict(timestamps=[[1, 2]], sentences=['a']), "video 'v_x'", 'duration',
     'is missing'),
    (dict(duration=10, timestamps=[[1, 'x']], sentences=['a']),
     "video 'v_x'", 'timestamps', 'must be a list of'),
    (dict(duration=10, timestamps=[[1, 2]], sentences=[' ']),
     "video 'v_x' sentence 0", 'sentences', 'is empty'),
    (dict(duration=10, timestamps=[[-1, 2]], sentences=['a']),
     "video 'v_x' sentence 0", 'timestamps', r'\[-1, 2\]'),
])
def test_activitynet_errors(tmp_path, entry, record, field, problem):
    path = write_json(tmp_path / 'bad.json', {'v_x': entry})
    raises_named(convert_activitynet, path, file=path, record=record,
                 field=field, problem=problem)


# ------------------------------------------------------------------- TACoS
TACOS = {
    's30-d52.avi': {
        'timestamps': [[141, 354], [7000, 7400]],
        'sentences': ['She took out kiwi', 'She washes the knife'],
        'fps': 29.4,
        'num_frames': 7346
    }
}


def test_tacos_frames_to_seconds(tmp_path):
    path = write_json(tmp_path / 'test.json', TACOS)
    rows = convert_tacos(path).rows
    # 7346 / 29.4 = 249.8639 s; 141 / 29.4 = 4.7959; 354 / 29.4 = 12.0408
    assert rows == [
        dict(qid=0, query='She took out kiwi', vid='s30-d52',
             duration=249.864, relevant_windows=[[4.796, 12.041]]),
        dict(qid=1, query='She washes the knife', vid='s30-d52',
             duration=249.864, relevant_windows=[[238.095, 249.864]]),
    ]
    out = tmp_path / 'tacos.jsonl'
    write_qvh_jsonl(rows, str(out), vid_format='{vid}-cam-002')
    dataset = QVHighlightsDataset(ann_file=str(out), require_saliency=False,
                                  data_prefix=dict(video='/t'))
    assert dataset[1]['video_path'] == '/t/s30-d52-cam-002.mp4'


def test_tacos_errors(tmp_path):
    path = write_json(tmp_path / 'bad.json',
                      {'s1.avi': dict(TACOS['s30-d52.avi'], fps=0)})
    raises_named(convert_tacos, path, file=path, record="video 's1.avi'",
                 field='fps', problem='must be positive')
    path = write_json(tmp_path / 'bad2.json',
                      {'s1.avi': dict(TACOS['s30-d52.avi'], sentences=['a'])})
    raises_named(convert_tacos, path, file=path, record="video 's1.avi'",
                 field='sentences', problem='has 1 sentences for 2')


# ------------------------------------------------------------------ QuerYD
QUERYD_CAPTIONS = {
    'video-abc12345678': [['a', 'man', 'walks', 'in'], 'the dog runs'],
    'video-zzz00000000': [['gone']],
}
QUERYD_TIMES = {
    'video-abc12345678': [[1.5, 4.0], np.array([6.0, 6.0])],
    'video-zzz00000000': [[0.0, 1.0]],
}


@pytest.fixture
def queryd_files(tmp_path):
    return dict(
        path=write_pickle(tmp_path / 'raw_captions_combined_filtered-v2.pkl',
                          QUERYD_CAPTIONS),
        times=write_pickle(
            tmp_path / 'times_captions_combined_filtered-v2.pkl',
            QUERYD_TIMES),
        durations=write_json(tmp_path / 'durations.json',
                             {'abc12345678': 20.0}))


def test_queryd(tmp_path, queryd_files):
    converted = convert_queryd(**queryd_files)
    assert converted.rows == [
        dict(qid=0, query='a man walks in', vid='abc12345678', duration=20.0,
             relevant_windows=[[1.5, 4.0]]),
        # a point description is kept
        dict(qid=1, query='the dog runs', vid='abc12345678', duration=20.0,
             relevant_windows=[[6.0, 6.0]]),
    ]
    assert len(converted.skipped) == 1
    assert "video 'video-zzz00000000'" in converted.skipped[0]
    split = tmp_path / 'train_list.txt'
    split.write_text('video-abc12345678\n\n')
    assert len(convert_queryd(**queryd_files,
                              video_list=str(split)).rows) == 2
    # JSON files of the same dicts
    json_times = {k: [list(map(float, t)) for t in v]
                  for k, v in QUERYD_TIMES.items()}
    rows = convert_queryd(
        write_json(tmp_path / 'c.json', QUERYD_CAPTIONS),
        write_json(tmp_path / 't.json', json_times),
        queryd_files['durations']).rows
    assert rows == converted.rows
    assert len(read_back(tmp_path, rows)) == 2


def test_queryd_errors(tmp_path, queryd_files):
    times = write_pickle(tmp_path / 'times.pkl', {
        'video-abc12345678': [[1.5, 4.0]],
        'video-zzz00000000': [[0.0, 1.0]]
    })
    raises_named(convert_queryd, queryd_files['path'], times,
                 queryd_files['durations'], file=times,
                 record="video 'video-abc12345678'", field='times',
                 problem='has 1 times for 2 captions')
    times = write_pickle(tmp_path / 'times3.pkl', {
        'video-abc12345678': [[1.5, 4.0], [7.0, 6.0]],
        'video-zzz00000000': [[0.0, 1.0]]
    })
    raises_named(convert_queryd, queryd_files['path'], times,
                 queryd_files['durations'], file=times,
                 record="video 'video-abc12345678' caption 1", field='times',
                 problem=r'\[7, 6\]', kind=InvalidWindowError)
    split = tmp_path / 'list.txt'
    split.write_text('video-abc12345678\nvideo-nope\n')
    with pytest.raises(AnnotationError,
                       match=f"{split} line 2: video 'video-nope'"):
        convert_queryd(**queryd_files, video_list=str(split))
    durations = write_json(tmp_path / 'd.json', {'other': 1.0})
    with pytest.raises(AnnotationError, match='none of the videos'):
        convert_queryd(queryd_files['path'], queryd_files['times'],
                       durations)


class _RunsCode:

    def __reduce__(self):
        return (os.system, ('echo pwned', ))


def test_queryd_pickle_cannot_run_code(tmp_path, queryd_files):
    evil = write_pickle(tmp_path / 'evil.pkl', {'video-a': [_RunsCode()]})
    with pytest.raises(AnnotationError,
                       match=f'{re.escape(evil)}: cannot read the pickle '
                       r'\(.*system is not allowed'):
        convert_queryd(evil, queryd_files['times'], queryd_files['durations'])


# ------------------------------------------------------------------ HiREST
HIREST = {
    'Make an Egg and Cheese Sandwich': {
        'kMh-nG8axWI.mp4': dict(relevant=True, clip=False, v_duration=53.92,
                                bounds=[0, 0], steps=[]),
        'CAB-4KfX8x0.mp4': dict(
            relevant=True, clip=True, v_duration=354.97, bounds=[43, 290],
            steps=[
                dict(index=0, heading='Flip and twist ribbon',
                     absolute_bounds=[43, 60]),
                dict(index=1, heading='Hold them both',
                     absolute_bounds=[60, 70]),
            ]),
        'xyz.mp4': dict(relevant=False, clip=False, v_duration=10.0,
                        bounds=[0, 0], steps=[]),
    }
}


def test_hirest(tmp_path):
    path = write_json(tmp_path / 'all_data_train.json', HIREST)
    moment = dict(qid=0, query='Make an Egg and Cheese Sandwich',
                  vid='CAB-4KfX8x0', duration=354.97,
                  relevant_windows=[[43.0, 290.0]])
    assert convert_hirest(path).rows == [moment]
    rows = convert_hirest(path, steps=True).rows
    assert rows == [
        moment,
        dict(qid=1, query='Flip and twist ribbon', vid='CAB-4KfX8x0',
             duration=354.97, relevant_windows=[[43.0, 60.0]]),
        dict(qid=2, query='Hold them both', vid='CAB-4KfX8x0',
             duration=354.97, relevant_windows=[[60.0, 70.0]]),
    ]
    assert len(read_back(tmp_path, rows)) == 3


def test_hirest_errors(tmp_path):
    query = 'Make an Egg and Cheese Sandwich'
    bad = {query: {'a.mp4': dict(HIREST[query]['CAB-4KfX8x0.mp4'],
                                 relevant='yes')}}
    path = write_json(tmp_path / 'bad.json', bad)
    raises_named(convert_hirest, path, file=path,
                 record=f"query {query!r} video 'a.mp4'", field='relevant',
                 problem='must be true or false')
    bad = {query: {'a.mp4': dict(HIREST[query]['CAB-4KfX8x0.mp4'],
                                 bounds=[43])}}
    path = write_json(tmp_path / 'bad2.json', bad)
    raises_named(convert_hirest, path, file=path,
                 record=f"query {query!r} video 'a.mp4'", field='bounds',
                 problem=r'must be a \[start, end\] pair')
    step = dict(index=0, heading='h', absolute_bounds=[360, 400])
    bad = {query: {'a.mp4': dict(HIREST[query]['CAB-4KfX8x0.mp4'],
                                 steps=[step])}}
    path = write_json(tmp_path / 'bad3.json', bad)
    assert len(convert_hirest(path).rows) == 1  # steps not read
    # the end is clipped to the video (354.97), the start is past it
    raises_named(convert_hirest, path, steps=True, file=path,
                 record=f"query {query!r} video 'a.mp4' step 0",
                 field='absolute_bounds', problem=r'\[360, 400\]',
                 kind=InvalidWindowError)


# --------------------------------------------------------------- Ego4D NLQ
def ego4d(queries):
    return {
        'version': 'v2',
        'date': '2022-08-23',
        'videos': [{
            'video_uid': 'vu1',
            'split': 'train',
            'clips': [{
                'clip_uid': 'cu1',
                'video_start_sec': 100.0,
                'video_end_sec': 580.0,
                'clip_start_sec': 0.0,
                'clip_end_sec': 480.0,
                'annotations': [{
                    'annotation_uid': 'au1',
                    'language_queries': queries
                }]
            }]
        }]
    }


EGO4D_QUERIES = [
    dict(clip_start_sec=10.5, clip_end_sec=12.0, video_start_sec=110.5,
         video_end_sec=112.0, template='Objects: Where is object X?',
         query='where did I put the knife?'),
    # no query text: skipped as the official preparation does
    dict(clip_start_sec=1.0, clip_end_sec=2.0, template='Objects'),
    dict(clip_start_sec=470.0, clip_end_sec=481.0, query='what did I cut? '),
]
EGO4D_RECORD = ("videos[0] (video_uid='vu1') clips[0] (clip_uid='cu1') "
                "annotations[0] (annotation_uid='au1') language_queries")


def test_ego4d_nlq(tmp_path):
    path = write_json(tmp_path / 'nlq_train.json', ego4d(EGO4D_QUERIES))
    converted = convert_ego4d_nlq(path)
    assert converted.rows == [
        dict(qid=0, query='where did I put the knife?', vid='cu1',
             duration=480.0, relevant_windows=[[10.5, 12.0]]),
        dict(qid=1, query='what did I cut?', vid='cu1', duration=480.0,
             relevant_windows=[[470.0, 480.0]]),
    ]
    assert len(converted.skipped) == 1
    assert converted.skipped[0].startswith(
        f'{path} {EGO4D_RECORD}[1]: field \'query\' is missing')
    assert len(read_back(tmp_path, converted.rows)) == 2


def test_ego4d_nlq_errors(tmp_path):
    queries = EGO4D_QUERIES + [dict(clip_start_sec=3.0, query='q')]
    path = write_json(tmp_path / 'bad.json', ego4d(queries))
    raises_named(convert_ego4d_nlq, path, file=path,
                 record=f'{EGO4D_RECORD}[3]', field='clip_end_sec',
                 problem='is missing')
    data = ego4d(EGO4D_QUERIES)
    data['videos'][0]['clips'][0]['video_end_sec'] = 100.0
    path = write_json(tmp_path / 'bad2.json', data)
    raises_named(convert_ego4d_nlq, path, file=path,
                 record="videos[0] (video_uid='vu1') clips[0] "
                 "(clip_uid='cu1')", field='video_end_sec',
                 problem='must be > video_start_sec')
    path = write_json(tmp_path / 'bad3.json', {'version': 'v1'})
    raises_named(convert_ego4d_nlq, path, file=path, record='top level',
                 field='videos', problem='is missing')


# -------------------------------------------------- QVHighlights, CLI
def test_qvhighlights_requires_saliency_by_default(tmp_path):
    path = write_json(tmp_path / 'val_1.json', ACTIVITYNET)
    out = tmp_path / 'a.jsonl'
    write_qvh_jsonl(convert_activitynet(path).rows, str(out))
    with pytest.raises(AnnotationError,
                       match=f"{out} line 1 .qid=0.: field "
                       "'relevant_clip_ids' is missing"):
        QVHighlightsDataset(ann_file=str(out))
    # with require_saliency=False, saliency is still checked when present
    line = dict(qid=5, query='q', vid='v', duration=10,
                relevant_windows=[[0, 2]], relevant_clip_ids=[0])
    out.write_text(json.dumps(line) + '\n')
    with pytest.raises(AnnotationError,
                       match="field 'saliency_scores' is missing"):
        QVHighlightsDataset(ann_file=str(out), require_saliency=False)


def test_cli(tmp_path, cli, capsys):
    source = write_json(tmp_path / 'train.json', dict(
        ACTIVITYNET, v_bad=dict(duration=9, timestamps=[[5, 4]],
                                sentences=['x'])))
    out = tmp_path / 'out.jsonl'
    assert cli.main(['--source', 'activitynet', source, str(out)]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert "video 'v_bad' sentence 0" in err and '--skip-invalid' in err
    assert cli.main(['--source', 'activitynet', source, str(out),
                     '--skip-invalid']) == 0
    printed = capsys.readouterr().out
    assert 'wrote 4 queries of 2 videos' in printed
    assert 'skipped 1' in printed
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row['qid'] for row in rows] == [0, 1, 2, 3]
    didemo = write_json(tmp_path / 'didemo.json', DIDEMO)
    assert cli.main(['--source', 'didemo', didemo, str(out),
                     '--didemo-windows', 'mode', '--vid-format',
                     'didemo/{vid}']) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]['vid'] == 'didemo/35034348999@N01_6060447507_dc1a90b8ef'
    assert rows[1]['relevant_windows'] == [[20.0, 25.0]]
    with pytest.raises(SystemExit):
        cli.main(['--source', 'tacos', didemo, str(out), '--hirest-steps'])
    assert '--hirest-steps is only for hirest' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(['--source', 'queryd', didemo, str(out)])
    assert 'queryd needs --times and --durations' in capsys.readouterr().err
