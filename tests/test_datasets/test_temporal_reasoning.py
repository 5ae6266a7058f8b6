"""Stage 3's temporal-reasoning data (YouCook2, ActivityNet) converted from
dense captions into VideoChat2-IT conversations, read by its reader."""
import json
import subprocess
import sys

import pytest

from tests.conftest import CONFIGS
from tpo.datasets import VideoChat2ITDataset
from tpo.datasets.annotation import AnnotationError
from tpo.datasets.converters.temporal_reasoning import (
    read_activitynet, read_youcook2, reasoning_conversations)

ROOT = CONFIGS.parent
YOUCOOK2 = {'database': {
    'GLd3aX16zBg': {'duration': 241.62, 'subset': 'training',
                    'recipe_type': '113', 'annotations': [
                        {'segment': [90, 102], 'id': 0,
                         'sentence': 'spread margarine on two slices'},
                        {'segment': [114, 127], 'id': 1,
                         'sentence': 'place a slice of cheese'},
                        {'segment': [10, 30], 'id': 2,
                         'sentence': 'cut the bread'}]},
    'xHr8X2Wpmno': {'duration': 70.0, 'subset': 'validation',
                    'annotations': [{'segment': [1, 5], 'id': 0,
                                     'sentence': 'boil water'}]}}}
ACTIVITYNET = {'v_QOlSCBRmfWY': {
    'duration': 82.73, 'timestamps': [[0.83, 19.86], [17.37, 60.81],
                                      [56.26, 83.0]],
    'sentences': [' A young woman is seen standing in a room.',
                  ' She then begins to dance.', ' She ends by bowing.']}}


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_youcook2_events_in_time_order_of_the_subset(tmp_path):
    videos = read_youcook2(write(tmp_path, 'yc2.json', YOUCOOK2)).videos
    assert [v.vid for v in videos] == ['GLd3aX16zBg']
    assert videos[0].events == [(10.0, 30.0, 'cut the bread'),
                                (90.0, 102.0, 'spread margarine on two '
                                 'slices'),
                                (114.0, 127.0, 'place a slice of cheese')]
    assert len(read_youcook2(str(tmp_path / 'yc2.json'), None).videos) == 2


def test_conversations_are_dense_captions_segments_and_order(tmp_path):
    videos = read_activitynet(write(tmp_path, 'anet.json',
                                    ACTIVITYNET)).videos
    assert videos[0].events[-1] == (56.26, 82.73, 'She ends by bowing.')
    entries = reasoning_conversations(videos, seed=0)
    assert len(entries) == 1 + 3  # dense + one per event
    dense = entries[0]['QA'][0]
    assert entries[0]['video'] == 'v_QOlSCBRmfWY.mp4'
    assert dense['a'] == (
        '0.8 - 19.9 seconds, A young woman is seen standing in a room. '
        '17.4 - 60.8 seconds, She then begins to dance. '
        '56.3 - 82.7 seconds, She ends by bowing.')
    answers = {e['QA'][0]['q']: e['QA'][0]['a'] for e in entries[1:]}
    for question, answer in answers.items():
        if 'seconds' in question or ' s to ' in question:
            assert answer in {'A young woman is seen standing in a room.',
                              'She then begins to dance.',
                              'She ends by bowing.'}
        else:  # order: the next event starting after this one ends
            assert 'after' in question or 'follows' in question
            assert '"A young woman is seen standing in a room"' in question
            assert answer == 'She ends by bowing.'
    # the same seed gives the same data
    assert reasoning_conversations(videos, seed=0) == entries


def test_cli_output_is_read_by_the_videochat2_it_reader(tmp_path):
    source = write(tmp_path, 'yc2.json', YOUCOOK2)
    out = tmp_path / 'youcook2/train_it.json'
    done = subprocess.run(
        [sys.executable, str(ROOT / 'tools/dataset_converters/'
                             'dense_captions_to_it.py'), '--source',
         'youcook2', source, str(out)], capture_output=True, text=True,
        cwd=str(ROOT))
    assert done.returncode == 0, done.stderr
    assert '1 videos -> 4 conversations' in done.stdout
    assert 'skipped 0 events' in done.stdout
    dataset = VideoChat2ITDataset(ann_file=str(out),
                                  data_prefix=dict(video=str(tmp_path)),
                                  source='youcook2')
    assert len(dataset) == 4
    item = dataset[0]
    assert item['task'] == 'chat'
    assert item['video_path'].endswith('GLd3aX16zBg.mp4')
    assert item['conversation'][0]['answer'].startswith(
        '10.0 - 30.0 seconds, cut the bread.')


@pytest.mark.parametrize('change,pattern', [
    (lambda d: d['database']['GLd3aX16zBg']['annotations'][1].update(
        segment=[130, 120]), r"video 'GLd3aX16zBg' event 1: field 'segment' "
     r'has window \[130, 120\]'),
    (lambda d: d['database']['GLd3aX16zBg'].pop('duration'),
     r"video 'GLd3aX16zBg': field 'duration' is missing"),
    (lambda d: d['database']['GLd3aX16zBg']['annotations'][0].update(
        sentence=' '), r"video 'GLd3aX16zBg' event 0: field 'sentence' is "
     r'empty'),
])
def test_bad_records_name_the_file_record_and_field(tmp_path, change,
                                                    pattern):
    data = json.loads(json.dumps(YOUCOOK2))
    change(data)
    path = write(tmp_path, 'bad.json', data)
    with pytest.raises(AnnotationError, match=r'bad.json ' + pattern):
        read_youcook2(path)


def test_cli_stops_on_a_bad_record_and_writes_nothing(tmp_path):
    data = json.loads(json.dumps(YOUCOOK2))
    data['database']['GLd3aX16zBg']['annotations'][0]['segment'] = [5]
    path = write(tmp_path, 'bad.json', data)
    done = subprocess.run(
        [sys.executable, str(ROOT / 'tools/dataset_converters/'
                             'dense_captions_to_it.py'), '--source',
         'youcook2', path, str(tmp_path / 'out.json')], capture_output=True,
        text=True, cwd=str(ROOT))
    assert done.returncode == 1
    assert "bad.json video 'GLd3aX16zBg' event 0: field 'segment'" in \
        done.stderr
    assert not (tmp_path / 'out.json').exists()


def test_invalid_windows_raise_or_are_skipped_and_listed(tmp_path):
    data = json.loads(json.dumps(ACTIVITYNET))
    data['v_QOlSCBRmfWY']['timestamps'][1] = [61.0, 17.4]  # start > end
    path = write(tmp_path, 'anet.json', data)
    with pytest.raises(AnnotationError, match='event 1'):
        read_activitynet(path)
    read = read_activitynet(path, skip_invalid=True)
    assert [e[2] for e in read.videos[0].events] == [
        'A young woman is seen standing in a room.', 'She ends by bowing.']
    assert len(read.skipped) == 1 and 'event 1' in read.skipped[0]
    cli = [sys.executable, str(ROOT / 'tools/dataset_converters/'
                               'dense_captions_to_it.py'), '--source',
           'activitynet', path, str(tmp_path / 'out.json')]
    done = subprocess.run(cli, capture_output=True, text=True, cwd=str(ROOT))
    assert done.returncode == 1 and '--skip-invalid' in done.stderr
    done = subprocess.run(cli + ['--skip-invalid'], capture_output=True,
                          text=True, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr
    assert '1 videos -> 3 conversations' in done.stdout
    assert 'skipped 1 events' in done.stdout and 'event 1' in done.stdout
