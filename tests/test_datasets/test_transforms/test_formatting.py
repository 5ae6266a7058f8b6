import numpy as np
import pytest
import torch

from tpo.datasets.transforms.formatting import (FormatTaskConversation,
                                                PackTPOInputs)
from tpo.registry import TASKS, TRANSFORMS
from tpo.structures import TPODataSample
from tpo.tasks import TaskSpec
from tpo.tasks.templates import load_templates

TEMPLATES = load_templates()


class CountTask(TaskSpec):
    """A task declared in a test: its own tokens and templates."""

    name = 'test_count'
    begin, token = '<count_begin>', '<count>'
    query_key, placeholder = 'object', 'obj'
    questions = ('How many {obj} are there?', )
    answers = ('There are {begin}{token}.', )


def region(idx=0):
    return dict(
        sample_idx=idx,
        task='region',
        video_path='/x/1.jpg',
        expressions=['the red cube', 'left cube', 'big one'])


def temporal(idx=0):
    return dict(
        sample_idx=idx,
        task='temporal',
        video_path='/x/v.mp4',
        query='a girl cooks')


def mask(idx=0):
    return dict(
        sample_idx=idx,
        task='mask',
        video_path='/x/v.mp4',
        expression='the ball rolling left')


def conversations(transform, samples):
    return [transform(s)['conversation'][0] for s in samples]


def test_test_mode_is_fixed_by_sample_idx():
    transform = FormatTaskConversation(train=False)
    for idx in range(12):
        turn = transform(region(idx))['conversation'][0]
        questions = TEMPLATES['region']['questions']
        assert turn['question'] == questions[idx % len(questions)].format(
            expr='the red cube')  # the first expression at test
        assert turn['answer'] == 'It is here <box_begin><boxes>.'
    again = FormatTaskConversation(train=False)
    samples = [temporal(i) for i in range(7)]
    assert conversations(transform, samples) == conversations(again, samples)


@pytest.mark.parametrize('make, begin, token, filler', [
    (temporal, '<time_begin>', '<temp>', 'a girl cooks'),
    (mask, '<track_begin>', '<tracking>', 'the ball rolling left'),
    (lambda idx: dict(task='track', sample_idx=idx, track_box='[1, 2, 3, 4]'),
     '<track_begin>', '<tracking>', '[1, 2, 3, 4]'),
])
def test_tasks_fill_their_placeholder_and_tokens(make, begin, token, filler):
    results = FormatTaskConversation(train=False)(make(3))
    turn = results['conversation'][0]
    assert filler in turn['question'] and '{' not in turn['question']
    assert turn['answer'].endswith(f'{begin}{token}.')
    assert results['gt_task'] == begin


def test_train_mode_is_random_but_seeded():
    samples = [region(0) for _ in range(40)]
    first = conversations(FormatTaskConversation(seed=3), samples)
    second = conversations(FormatTaskConversation(seed=3), samples)
    other = conversations(FormatTaskConversation(seed=4), samples)
    assert first == second != other
    questions = {turn['question'] for turn in first}
    assert len(questions) > 5  # templates and expressions vary
    for expr in region()['expressions']:
        assert any(expr in q for q in questions)
    assert all(t['answer'] == 'It is here <box_begin><boxes>.' for t in first)


def test_chat_and_mcq_keep_their_conversation():
    transform = FormatTaskConversation()
    for task in ('chat', 'mcq'):
        conversation = [dict(question='What?', answer='This.')]
        results = transform(
            dict(task=task, sample_idx=0, conversation=conversation))
        assert results['conversation'] is conversation
        assert results['gt_task'] == 'none'


def test_unknown_task_or_missing_query_is_named():
    transform = FormatTaskConversation()
    with pytest.raises(KeyError, match=r"'regoin' is not in the tpo::task "
                       r"registry. Closest registered names: \['region'"):
        transform(dict(region(5), task='regoin'))
    with pytest.raises(KeyError, match=r"'query'.*sample_idx=2"):
        transform(dict(task='temporal', sample_idx=2, video_path='/x/v.mp4'))


def test_a_registered_task_spec_is_formatted_without_code_changes():
    TASKS.register_module(name=CountTask.name, module=CountTask, force=True)
    results = FormatTaskConversation(train=False)(
        dict(task='test_count', sample_idx=0, object='red cubes'))
    assert results['conversation'] == [dict(
        question='How many red cubes are there?',
        answer='There are <count_begin><count>.')]
    assert results['gt_task'] == '<count_begin>'

    class Untemplated(TaskSpec):
        name = 'test_untemplated'
        begin, token, query_key, placeholder = '<u>', '<v>', 'x', 'x'

    TASKS.register_module(name=Untemplated.name, module=Untemplated,
                          force=True)
    with pytest.raises(KeyError, match="no templates for task "
                       "'test_untemplated'"):
        FormatTaskConversation()(dict(task='test_untemplated', x='y',
                                      sample_idx=0))


def test_custom_template_file(tmp_path):
    path = tmp_path / 'templates.json'
    path.write_text('{"temporal": {"questions": ["When does {query} occur?"],'
                    ' "answers": ["At {begin}{token}"]}}')
    transform = FormatTaskConversation(template_file=str(path))
    assert transform(temporal())['conversation'] == [
        dict(
            question='When does a girl cooks occur?',
            answer='At <time_begin><temp>')
    ]


def test_pack_inputs():
    frames = np.random.default_rng(0).integers(
        0, 256, (4, 6, 8, 3), dtype=np.uint8)
    results = dict(
        region(7),
        frames=frames,
        gt_bboxes=np.array([[1, 2, 5, 6]], np.float32),
        relevant_windows=[[0, 2.5], [4, 8]],
        ori_shape=(6, 8),
        source='refcoco',
        not_a_meta_key=1)
    results = FormatTaskConversation(train=False)(results)
    packed = TRANSFORMS.build(dict(type='PackTPOInputs'))(results)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert set(packed) == {'inputs', 'data_samples'}
    assert inputs.dtype == torch.uint8 and inputs.shape == (4, 3, 6, 8)
    assert torch.equal(inputs, torch.from_numpy(frames).permute(0, 3, 1, 2))
    assert isinstance(sample, TPODataSample)
    assert sample.gt_bboxes.dtype == torch.float32
    assert sample.gt_bboxes.tolist() == [[1, 2, 5, 6]]
    assert sample.gt_windows.tolist() == [[0, 2.5], [4, 8]]
    assert sample.sample_idx == 7 and sample.task == 'region'
    assert sample.gt_task == '<box_begin>'
    assert sample.conversation == results['conversation']
    assert 'not_a_meta_key' not in sample.metainfo
    assert 'expressions' not in sample.metainfo


def test_pack_inputs_meta_keys_and_missing_frames():
    results = dict(mask(1), frames=np.zeros((1, 2, 2, 3), np.uint8))
    sample = PackTPOInputs(meta_keys=('task',
                                      'expression'))(results)['data_samples']
    assert sample.metainfo == dict(
        task='mask', expression='the ball rolling left')
    assert 'gt_bboxes' not in sample and 'gt_windows' not in sample
    with pytest.raises(KeyError, match='LoadVideoFrames'):
        PackTPOInputs()(mask(1))
