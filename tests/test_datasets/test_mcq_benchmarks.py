"""Readers of VideoMME, MLVU, MMIU and SEED-Bench-2 on small hand-made files
in each benchmark's released annotation format, and the multi-image
loader."""
import json
import os.path as osp
import re

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from PIL import Image

from tpo.datasets import (AnnotationError, MLVUDataset, MMIUDataset,
                          SEEDBench2Dataset, VideoMMEDataset)
from tpo.datasets.transforms import LoadImageSequence, VideoReadError
from tpo.registry import DATASETS, TRANSFORMS


def write_json(path, data):
    path.write_text(json.dumps(data, indent=1))
    return str(path)


def assert_error(excinfo, file, record, field, problem):
    message = str(excinfo.value)
    assert message.startswith(f'{file} {record}'), message
    if field is not None:
        assert f'field {field!r}' in message, message
    assert re.search(problem, message), message


# ------------------------------------------------------------------ VideoMME
def videomme_row(**overrides):
    """One question as in lmms-lab/Video-MME (videomme/test-*.parquet)."""
    row = dict(
        video_id='001',
        duration='short',
        domain='Knowledge',
        sub_category='Humanity & History',
        url='https://www.youtube.com/watch?v=fFjv93ACGo8',
        videoID='fFjv93ACGo8',
        question_id='001-1',
        task_type='Counting Problem',
        question='How many poppies are shown?',
        options=['A. Three.', 'B. Two.', 'C. One.', 'D. Four.'],
        answer='D')
    row.update(overrides)
    return row


VIDEOMME_ROWS = [
    videomme_row(),
    videomme_row(question_id='001-2', task_type='OCR Problems',
                 question='What is written?', answer='A'),
    videomme_row(video_id='301', duration='medium',
                 domain='Sports Competition',
                 sub_category='Football', videoID='xyz_MEDIUM',
                 question_id='301-1', answer='B'),
    videomme_row(video_id='601', duration='long', domain='Life Record',
                 sub_category='Travel', videoID='LoNg-1', question_id='601-3',
                 options=['A. x', 'B. y', 'C. z', 'D. w'], answer='C'),
]
VIDEOMME_PROMPT = (
    'Select the best answer to the following multiple-choice question based '
    'on the video. Respond with only the letter (A, B, C, or D) of the '
    'correct option.\nHow many poppies are shown?\nA. Three.\nB. Two.\n'
    'C. One.\nD. Four.')


def test_videomme_reader(tmp_path):
    ann_file = write_json(tmp_path / 'videomme.json', VIDEOMME_ROWS)
    videos = tmp_path / 'data'
    videos.mkdir()
    (videos / 'xyz_MEDIUM.MP4').write_bytes(b'')  # found by video_exts
    dataset = VideoMMEDataset(
        ann_file=ann_file, data_prefix=dict(video=str(videos)))
    assert DATASETS.get('VideoMMEDataset') is VideoMMEDataset
    assert len(dataset) == 4 and dataset.metainfo['dataset_name'] == 'videomme'
    info = dataset[0]
    assert info['task'] == 'mcq' and info['source'] == 'videomme'
    assert info['video_path'] == str(videos / 'fFjv93ACGo8.mp4')
    assert info['video_id'] == '001' and info['youtube_id'] == 'fFjv93ACGo8'
    assert info['question_id'] == '001-1'
    assert info['duration_category'] == 'short'
    assert (info['domain'], info['sub_category'], info['task_type']) == (
        'Knowledge', 'Humanity & History', 'Counting Problem')
    assert info['options'] == ['Three.', 'Two.', 'One.', 'Four.']
    assert info['candidates'] == info['options']
    assert info['gt_answer'] == 'D' and info['answer'] == 'Four.'
    assert info['question_text'] == VIDEOMME_PROMPT
    assert info['conversation'] == [
        dict(question=VIDEOMME_PROMPT + '\nThe best answer is:', answer='D')
    ]
    assert info['answer_prefix'] == '' and 'subtitles' not in info
    assert dataset[2]['video_path'] == str(videos / 'xyz_MEDIUM.MP4')
    assert dataset[3]['options'] == ['x', 'y', 'z', 'w']
    short_long = VideoMMEDataset(
        ann_file=ann_file, durations=['short', 'long'],
        answer_prefix='Best option:(')
    assert [short_long[i]['question_id'] for i in range(3)] == [
        '001-1', '001-2', '601-3']
    assert short_long[0]['answer_prefix'] == 'Best option:('
    with pytest.raises(ValueError, match='durations'):
        VideoMMEDataset(ann_file=ann_file, durations=['tiny'])


def test_videomme_jsonl_and_subtitles(tmp_path):
    ann_file = tmp_path / 'videomme.jsonl'
    ann_file.write_text(''.join(json.dumps(r) + '\n' for r in VIDEOMME_ROWS))
    subtitles = tmp_path / 'subtitle'
    subtitles.mkdir()
    (subtitles / 'fFjv93ACGo8.srt').write_text(
        '1\n00:00:00,000 --> 00:00:02,000\n'
        '<font color="white" size=".72c">In Flanders fields</font>\n\n'
        '2\n00:00:02,500 --> 00:00:04,000\n'
        '<font color="white" size=".72c">the poppies blow</font>\n')
    dataset = VideoMMEDataset(
        ann_file=str(ann_file),
        data_prefix=dict(video='videos', subtitle=str(subtitles)))
    info = dataset[0]
    assert info['subtitles'] == 'In Flanders fields\nthe poppies blow'
    assert info['question_text'] == (
        "This video's subtitles are listed below:\n"
        'In Flanders fields\nthe poppies blow\n' + VIDEOMME_PROMPT)
    assert dataset[2]['subtitles'] == 'No subtitles available'


def test_videomme_release_json(tmp_path):
    """The official release JSON: one record per video."""
    videos = [
        dict(video_id='001', duration_category='short',
             video_category='Knowledge',
             video_sub_category='Humanity & History',
             url='https://www.youtube.com/watch?v=fFjv93ACGo8',
             questions=[
                 dict(question_id='001-1', task_type='Counting Problem',
                      question='How many poppies are shown?',
                      choices=VIDEOMME_ROWS[0]['options'], answer='D'),
                 dict(question_id='001-2', task_type='OCR Problems',
                      question='What is written?',
                      choices=['A. a', 'B. b', 'C. c', 'D. d'], answer='A')
             ]),
        # the evaluation template's spelling of the sub-category
        dict(video_id='601', duration_category='long',
             video_category='Life Record', video_subcategory='Travel',
             url='https://youtu.be/LoNg-1?t=3', questions=[
                 dict(question_id='601-1', task_type='Action Reasoning',
                      question='Why?', choices=['A. x', 'B. y'],
                      answer='B')
             ]),
    ]
    ann_file = write_json(tmp_path / 'videomme_release.json', videos)
    dataset = VideoMMEDataset(ann_file=ann_file,
                              data_prefix=dict(video='/data'))
    assert len(dataset) == 3
    info = dataset[0]
    assert info['video_path'] == '/data/fFjv93ACGo8.mp4'
    assert (info['video_id'], info['question_id'], info['duration_category'],
            info['domain'], info['sub_category']) == (
                '001', '001-1', 'short', 'Knowledge', 'Humanity & History')
    assert info['question_text'] == VIDEOMME_PROMPT
    assert info['gt_answer'] == 'D' and info['answer'] == 'Four.'
    last = dataset[2]
    assert last['video_path'] == '/data/LoNg-1.mp4'
    assert last['sub_category'] == 'Travel' and last['answer'] == 'y'
    # errors name the video record and the question
    videos[1]['questions'][0]['answer'] = 'C'
    write_json(tmp_path / 'videomme_release.json', videos)
    with pytest.raises(AnnotationError) as excinfo:
        VideoMMEDataset(ann_file=ann_file)
    assert_error(excinfo, ann_file,
                 "index 1 (video_id='601') questions[0] (question_id='601-1')",
                 'answer', r"\['A', 'B'\], got 'C'")
    videos[1].update(url='https://example.com/video', questions=[])
    write_json(tmp_path / 'videomme_release.json', videos)
    with pytest.raises(AnnotationError) as excinfo:
        VideoMMEDataset(ann_file=ann_file)
    assert_error(excinfo, ann_file, "index 1 (video_id='601')", 'url',
                 'has no YouTube video id')


def test_videomme_parquet(tmp_path):
    pq = pytest.importorskip('pyarrow.parquet')
    pa = pytest.importorskip('pyarrow')
    path = tmp_path / 'test-00000-of-00001.parquet'
    pq.write_table(pa.Table.from_pylist(VIDEOMME_ROWS), str(path))
    dataset = VideoMMEDataset(ann_file=str(path))
    assert len(dataset) == 4 and dataset[3]['gt_answer'] == 'C'


@pytest.mark.parametrize('bad, field, problem', [
    (dict(duration='tiny'), 'duration', "must be one of .* got 'tiny'"),
    (dict(options=['Three.', 'B. Two.']), 'options',
     'entry 0 must start with "A."'),
    (dict(options=['A. x', 'C. y']), 'options',
     'entry 1 must start with "B."'),
    (dict(options='A. x B. y'), 'options', 'must be list'),
    (dict(answer='E'), 'answer', r"option letters \['A', 'B', 'C', 'D'\]"),
    (dict(videoID=None), 'videoID', 'must be str'),
    (dict(question=''), 'question', 'is empty'),
    ('missing task_type', 'task_type', 'is missing'),
])
def test_videomme_errors(tmp_path, bad, field, problem):
    if isinstance(bad, str):
        row = videomme_row(question_id='002-3')
        del row['task_type']
    else:
        row = videomme_row(question_id='002-3', **bad)
    ann_file = write_json(tmp_path / 'videomme.json',
                          VIDEOMME_ROWS[:2] + [row])
    with pytest.raises(AnnotationError) as excinfo:
        VideoMMEDataset(ann_file=ann_file)
    assert_error(excinfo, ann_file, "index 2 (question_id='002-3')", field,
                 problem)


def test_videomme_jsonl_error_names_the_line(tmp_path):
    ann_file = tmp_path / 'videomme.jsonl'
    ann_file.write_text(json.dumps(VIDEOMME_ROWS[0]) + '\n\n' +
                        json.dumps(videomme_row(answer=3)) + '\n')
    with pytest.raises(AnnotationError) as excinfo:
        VideoMMEDataset(ann_file=str(ann_file))
    assert_error(excinfo, ann_file, "line 3 (question_id='001-1')", 'answer',
                 'must be str')


# ---------------------------------------------------------------------- MLVU
def mlvu_row(**overrides):
    """One question as in MLVU/data/N_task.json."""
    row = dict(
        video='plotQA_1.mp4',
        duration=665.34,
        question='What color is the dress?',
        candidates=['red', 'blue', 'green', 'blue'],
        answer='blue',
        question_type='plotQA')
    row.update(overrides)
    return row


def write_mlvu_dev(root):
    root.mkdir()
    write_json(root / '1_plotQA.json', [
        mlvu_row(),
        mlvu_row(video='plotQA_2.mp4', candidates=['a', 'b'], answer='a')
    ])
    write_json(root / '5_order.json', [
        mlvu_row(video='order_126.mp4', question='Arrange the events.',
                 candidates=['2->1', '1->2'], answer='1->2',
                 question_type='order')
    ])
    write_json(root / '9_summary.json', [
        dict(video='217.mp4', duration=480.0, question='Summarize it.',
             answer='A whale.', question_type='summary')
    ])
    return str(root)


def test_mlvu_dev_folder(tmp_path):
    root = write_mlvu_dev(tmp_path / 'json')
    dataset = MLVUDataset(
        data_root=root, data_prefix=dict(video=str(tmp_path / 'video')))
    assert len(dataset) == 3  # the summary (generation) task is skipped
    info = dataset[0]
    assert info['task'] == 'mcq' and info['source'] == 'mlvu'
    assert info['video_path'] == str(tmp_path / 'video' / '1_plotQA' /
                                     'plotQA_1.mp4')
    assert info['task_type'] == 'plotQA'
    assert info['video_duration'] == 665.34
    # the last candidate equal to the answer, as the official qa_template
    assert info['gt_answer'] == 'D' and info['answer'] == 'blue'
    assert info['question_text'] == (
        'Question: What color is the dress?\nOptions:\n(A) red\n(B) blue\n'
        '(C) green\n(D) blue')
    assert info['conversation'] == [
        dict(question=info['question_text'] + '\nOnly give the best option.',
             answer='D) blue')
    ]
    assert info['answer_prefix'] == 'Best option:('
    assert info['instruction'].startswith('Carefully watch this video')
    assert dataset[2]['video_path'].endswith(
        osp.join('video', '5_order', 'order_126.mp4'))
    assert dataset[2]['gt_answer'] == 'B'
    only_order = MLVUDataset(data_root=root, task_types=['order'])
    assert len(only_order) == 1 and only_order[0]['task_type'] == 'order'
    one_file = MLVUDataset(ann_file=osp.join(root, '5_order.json'),
                           video_subfolder='')
    assert one_file[0]['video_path'] == osp.abspath('order_126.mp4')


def test_mlvu_test_split_without_answers(tmp_path):
    rows = [
        dict(question_id='AR_0', question_type='anomaly_reco',
             video='AR_0.mp4', question='Which anomaly?',
             candidates=['a', 'b', 'c', 'd', 'e', 'f']),
        dict(question_id='SQA_3', question_type='sportsQA',
             video='SQA_3.mp4', question='Who scored?',
             candidates=['x', 'y'])
    ]
    ann_file = write_json(tmp_path / 'test_question.json', rows)
    dataset = MLVUDataset(ann_file=ann_file, video_subfolder='',
                          data_prefix=dict(video='/videos'), test_mode=True)
    info = dataset[0]
    assert info['question_id'] == 'AR_0' and 'gt_answer' not in info
    assert info['video_path'] == '/videos/AR_0.mp4'
    assert info['question_text'].endswith('(E) e\n(F) f')
    assert info['conversation'][0]['answer'] == ''
    with pytest.raises(AnnotationError) as excinfo:
        MLVUDataset(ann_file=ann_file)
    assert_error(excinfo, ann_file, "index 0 (question_id='AR_0')", 'answer',
                 'is missing')


@pytest.mark.parametrize('bad, field, problem', [
    (dict(answer='purple'), 'answer',
     r"'purple' is not among the candidates"),
    (dict(candidates=[]), 'candidates', 'must be a non-empty list'),
    (dict(candidates=['a', 2]), 'candidates', 'must be a non-empty list'),
    (dict(question_type=None), 'question_type', 'must be str'),
    (dict(video=''), 'video', 'is empty'),
    (dict(duration='long'), 'duration', 'must be int or float'),
    ('no candidates', 'candidates', 'is missing'),
])
def test_mlvu_errors(tmp_path, bad, field, problem):
    if isinstance(bad, str):
        row = mlvu_row()
        del row['candidates']
    else:
        row = mlvu_row(**bad)
    root = tmp_path / 'json'
    root.mkdir()
    write_json(root / '1_plotQA.json', [mlvu_row()])
    path = write_json(root / '2_needle.json', [mlvu_row(), row])
    with pytest.raises(AnnotationError) as excinfo:
        MLVUDataset(data_root=str(root))
    assert_error(excinfo, path, 'index 1', field, problem)


def test_mlvu_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'no \*.json file'):
        MLVUDataset(data_root=str(tmp_path))


# ---------------------------------------------------------------------- MMIU
def mmiu_row(**overrides):
    """One question as in MMIU's all.json / metadata_info.json."""
    options = 'A: the first image\nB: the second image'
    row = dict(
        task='forensic_detection_blink',
        visual_input_component='natural image and synthetic image',
        source='blink',
        options=options,
        question='Which image is most likely to be a real photograph?',
        context='You are a judge.\nSelect from the following choices.\n' +
        options + '\n',
        input_image_path=[
            '../MMIU-Benchmark/forensic_detection_blink/f_0_0.jpg',
            '../MMIU-Benchmark/forensic_detection_blink/f_0_1.jpg'
        ],
        output='B')
    row.update(overrides)
    return row


def test_mmiu_reader(tmp_path):
    bench = tmp_path / 'MMIU-Benchmark'
    ann_file = write_json(tmp_path / 'all.json', [
        mmiu_row(),
        mmiu_row(task='spot_the_diff', source='spot_the_diff',
                 options='A: the guy left\nhis car\nB: a bicycle\nC: none',
                 context=None, question='Which one is incorrect?',
                 input_image_path=['./High-level-obj-semantic/s_0_0.png'],
                 output=' A ')
    ])
    dataset = MMIUDataset(ann_file=ann_file,
                          data_prefix=dict(video=str(bench)))
    assert len(dataset) == 2
    info = dataset[0]
    assert info['task'] == 'mcq' and info['source'] == 'mmiu'
    assert info['task_type'] == 'forensic_detection_blink'
    assert info['origin'] == 'blink'
    # '../MMIU-Benchmark/x' under the MMIU-Benchmark folder is that folder/x
    assert info['image_paths'] == [
        str(bench / 'forensic_detection_blink' / 'f_0_0.jpg'),
        str(bench / 'forensic_detection_blink' / 'f_0_1.jpg')
    ]
    assert info['video_path'] == info['image_paths'][0]
    assert info['options'] == ['the first image', 'the second image']
    assert info['gt_answer'] == 'B' and info['answer'] == 'the second image'
    assert info['question_text'] == (
        'Which image is most likely to be a real photograph?\nYou are a '
        'judge.\nSelect from the following choices.\nA: the first image\n'
        'B: the second image')
    assert info['conversation'] == [
        dict(question=info['question_text'] + "\nAnswer with the option's "
             'letter from the given choices directly.', answer='B')
    ]
    second = dataset[1]
    assert second['image_paths'] == [
        str(bench / 'High-level-obj-semantic' / 's_0_0.png')
    ]
    # a line not starting with the next letter continues the option
    assert second['options'] == ['the guy left\nhis car', 'a bicycle', 'none']
    assert second['gt_answer'] == 'A'
    assert second['question_text'] == (
        'Which one is incorrect?\nSelect from the following choices.\n'
        'A: the guy left\nhis car\nB: a bicycle\nC: none')
    only = MMIUDataset(ann_file=ann_file, task_types=['spot_the_diff'])
    assert len(only) == 1


@pytest.mark.parametrize('bad, field, problem', [
    (dict(options='B: x\nA: y'), 'options', 'must start with "A:"'),
    (dict(options=' '), 'options', 'is empty'),
    (dict(output='C'), 'output', r"option letters \['A', 'B'\], got 'C'"),
    (dict(output='first'), 'output', 'option letters'),
    (dict(input_image_path=[]), 'input_image_path',
     'must be a non-empty list'),
    (dict(input_image_path='a.jpg'), 'input_image_path', 'must be list'),
    (dict(context=3), 'context', 'must be str'),
    (dict(task=None), 'task', 'must be str'),
])
def test_mmiu_errors(tmp_path, bad, field, problem):
    ann_file = write_json(tmp_path / 'all.json',
                          [mmiu_row(), mmiu_row(), mmiu_row(**bad)])
    with pytest.raises(AnnotationError) as excinfo:
        MMIUDataset(ann_file=ann_file)
    assert_error(excinfo, ann_file, 'index 2', field, problem)


# --------------------------------------------------------------- SEED-Bench-2
SEED_TYPES = {'Scene Understanding': 1, 'Instances Counting': 5,
              'Difference Spotting': 17, 'Global Video Understanding': 19}


def seed_row(**overrides):
    """One question as in SEED-Bench_v2_level1_2_3.json."""
    row = dict(
        answer='A', choice_a='One', choice_b='Two', choice_c='Three',
        choice_d='Four', data_id='1454426_2591111986', data_source='cc3m',
        data_type='Single Image', level='L1',
        question='How many towels are in the image?', question_id='5_0',
        question_type_id=5, subpart='Single-Image & Text Comprehension',
        version='v1')
    row.update(overrides)
    return row


SEED_ROWS = [
    seed_row(),
    seed_row(answer='B', data_id=['task17/SD_image/SD_IMG_00235_1.png',
                                  'task17/SD_image/SD_IMG_00235_2.png'],
             data_source='SEED-Bench v2', data_type='Multiple Images',
             question='What are the differences between the two images?',
             question_id='17_0', question_type_id=17,
             subpart='Multiple-Images & Text Comprehension', version='v2'),
    seed_row(answer='D', data_id=[f'task19/frames/WRQ95/{i}.png'
                                  for i in range(1, 9)],
             data_source='SEED-Bench v2', data_type='Video', level='L1',
             question='What did the person do?', question_id='19_0',
             question_type_id=19, subpart='Video & Text Comprehension',
             version='v2'),
    seed_row(question_id='25_0', question_type_id=25, level='L3',
             data_source='SEED-Bench v2', data_id=['task25/image/0/1.jpg'],
             subpart='Image Generation', data_type='Image Generation',
             version='v2'),
]


def test_seedbench2_reader(tmp_path):
    ann_file = write_json(tmp_path / 'SEED-Bench_v2_level1_2_3.json',
                          dict(questions=SEED_ROWS, question_type=SEED_TYPES))
    prefix = dict(cc3m=str(tmp_path / 'cc3m-image'),
                  video=str(tmp_path / 'SEED-Bench-2-image'))
    dataset = SEEDBench2Dataset(ann_file=ann_file, data_prefix=prefix)
    assert len(dataset) == 4
    info = dataset[0]
    assert info['task'] == 'mcq' and info['source'] == 'seedbench2'
    assert info['image_paths'] == [
        str(tmp_path / 'cc3m-image' / '1454426_2591111986')
    ]
    assert info['task_type'] == 'Instances Counting'
    assert info['question_type_id'] == 5 and info['question_id'] == '5_0'
    assert (info['subpart'], info['level'], info['version']) == (
        'Single-Image & Text Comprehension', 'L1', 'v1')
    assert info['options'] == ['One', 'Two', 'Three', 'Four']
    assert info['gt_answer'] == 'A' and info['answer'] == 'One'
    assert info['question_text'] == (
        'How many towels are in the image?\nA. One\nB. Two\nC. Three\n'
        'D. Four')
    assert info['conversation'] == [
        dict(question=info['question_text'] + "\nAnswer with the option's "
             'letter from the given choices directly.', answer='A')
    ]
    multi = dataset[1]
    assert multi['image_paths'] == [
        str(tmp_path / 'SEED-Bench-2-image' / 'task17' / 'SD_image' /
            f'SD_IMG_00235_{i}.png') for i in (1, 2)
    ]
    assert multi['task_type'] == 'Difference Spotting'
    assert len(dataset[2]['image_paths']) == 8
    # a dimension missing from the file's table takes the published name
    assert dataset[3]['task_type'] == 'Text-to-Image Generation'
    video_multi = SEEDBench2Dataset(ann_file=ann_file, data_prefix=prefix,
                                    question_type_ids=range(17, 23))
    assert [video_multi[i]['question_id'] for i in range(2)] == ['17_0',
                                                                 '19_0']
    assert len(video_multi) == 2
    l1_l2 = SEEDBench2Dataset(ann_file=ann_file, levels=['L1', 'L2'])
    assert len(l1_l2) == 3
    by_subpart = SEEDBench2Dataset(
        ann_file=ann_file, subparts=['Video & Text Comprehension'])
    assert len(by_subpart) == 1
    # a plain list of questions reads too
    as_list = write_json(tmp_path / 'list.json', SEED_ROWS)
    assert len(SEEDBench2Dataset(ann_file=as_list)) == 4


@pytest.mark.parametrize('bad, field, problem', [
    (dict(answer='E'), 'answer', 'option letters'),
    (dict(data_source='coco'), 'data_source', "got 'coco'"),
    (dict(question_type_id=99), 'question_type_id',
     'is not a SEED-Bench-2 dimension'),
    (dict(question_type_id='5'), 'question_type_id', 'must be int'),
    (dict(data_id=[]), 'data_id', 'must be a file name or a non-empty list'),
    (dict(data_id=['a.png', 3]), 'data_id', 'non-empty list'),
    (dict(choice_c=None), 'choice_c', 'must be str'),
    (dict(subpart=''), 'subpart', 'is empty'),
])
def test_seedbench2_errors(tmp_path, bad, field, problem):
    ann_file = write_json(tmp_path / 'seed.json', dict(
        questions=[seed_row(), seed_row(question_id='5_1', **bad)],
        question_type=SEED_TYPES))
    with pytest.raises(AnnotationError) as excinfo:
        SEEDBench2Dataset(ann_file=ann_file)
    assert_error(excinfo, ann_file, "index 1 (question_id='5_1')", field,
                 problem)


def test_seedbench2_bad_top_level(tmp_path):
    ann_file = write_json(tmp_path / 'seed.json', dict(question_type={}))
    with pytest.raises(AnnotationError, match="a 'questions' list"):
        SEEDBench2Dataset(ann_file=ann_file)


# ---------------------------------------------------------- multi-image load
def write_image(path, size, colour):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', size, colour).save(str(path))
    return str(path)


def test_load_image_sequence(tmp_path):
    first = write_image(tmp_path / 'a.png', (40, 30), (255, 0, 0))
    # no extension, another size (SEED-Bench's cc3m ids have no suffix)
    second = tmp_path / 'b'
    write_image(tmp_path / 'b.jpg', (20, 50), (0, 0, 255))
    (tmp_path / 'b.jpg').rename(second)
    assert TRANSFORMS.get('LoadImageSequence') is LoadImageSequence
    results = LoadImageSequence()(dict(image_paths=[first, str(second)]))
    assert results['frames'].shape == (2, 30, 40, 3)
    assert results['frames'].dtype == np.uint8
    assert results['frames'][0, ..., 0].min() == 255
    assert results['frames'][1, ..., 2].min() > 200
    assert results['frame_inds'].tolist() == [0, 1]
    assert results['frame_times'].tolist() == [0.0, 1.0]
    assert (results['fps'], results['num_video_frames'],
            results['duration']) == (1.0, 2, 2.0)
    assert results['ori_shape'] == results['img_shape'] == (30, 40)
    # num_frames repeats images (centre of 3 segments of 2 images)
    results = LoadImageSequence(num_frames=3, size=16)(
        dict(image_paths=[first, str(second)]))
    assert results['frames'].shape == (3, 16, 16, 3)
    assert results['frame_inds'].tolist() == [0, 1, 1]
    one = LoadImageSequence(num_frames=4)(dict(image_paths=[first]))
    assert one['frame_inds'].tolist() == [0, 0, 0, 0]
    # 'start': the first image of each segment, so the clip starts at 0
    results = LoadImageSequence(num_frames=2, sampling='start')(
        dict(image_paths=[first, str(second), first, str(second)]))
    assert results['frame_inds'].tolist() == [0, 2]
    assert results['frames'][1, ..., 0].min() == 255  # image 2 = first


def test_load_image_sequence_errors(tmp_path):
    first = write_image(tmp_path / 'a.png', (8, 8), (0, 0, 0))
    missing = dict(image_paths=[first, str(tmp_path / 'nope.png')])
    assert LoadImageSequence()(dict(missing)) is None
    with pytest.raises(VideoReadError, match='image 1 .*nope.png'):
        LoadImageSequence(on_error='raise')(dict(missing))
    with pytest.raises(VideoReadError, match='empty'):
        LoadImageSequence(on_error='raise')(dict(image_paths=[]))
    with pytest.raises(ValueError, match='num_frames'):
        LoadImageSequence(num_frames=0)
    with pytest.raises(ValueError, match="sampling .*'centre'"):
        LoadImageSequence(sampling='centre')


def test_mmiu_pipeline_packs_images_as_a_clip(tmp_path):
    bench = tmp_path / 'MMIU-Benchmark'
    write_image(bench / 'forensic_detection_blink' / 'f_0_0.jpg', (32, 24),
                (10, 20, 30))
    write_image(bench / 'forensic_detection_blink' / 'f_0_1.jpg', (64, 64),
                (200, 100, 0))
    ann_file = write_json(tmp_path / 'all.json', [mmiu_row()])
    with DefaultScope.overwrite_default_scope('tpo'):  # as in a Runner
        dataset = MMIUDataset(
            ann_file=ann_file, data_prefix=dict(video=str(bench)),
            pipeline=[
                dict(type='LoadImageSequence', num_frames=4, size=(16, 16)),
                dict(type='FormatTaskConversation', train=False),
                dict(type='PackTPOInputs')
            ])
        packed = dataset[0]
    assert tuple(packed['inputs'].shape) == (4, 3, 16, 16)
    sample = packed['data_samples']
    assert sample.gt_answer == 'B' and sample.task_type == \
        'forensic_detection_blink'
    assert sample.candidates == ['the first image', 'the second image']
