"""The registered task specs: lookup, tokens, aliases, and each task's text
form written and read back."""
import numpy as np
import pytest

from tpo.tasks import (MalformedAnswerError, TaskSpec, get_task,
                       registered_tasks, task_table)


def test_the_built_in_tasks_and_their_tokens():
    assert {'region', 'temporal', 'mask', 'track', 'chat', 'mcq'} <= set(
        registered_tasks())
    table = task_table(('region', 'temporal', 'mask'))
    assert [(s.begin, s.token) for s in table.values()] == [
        ('<box_begin>', '<boxes>'), ('<time_begin>', '<temp>'),
        ('<track_begin>', '<tracking>')]
    assert get_task('track').alias_of == 'mask'
    assert get_task('track').query_default == '<track_box>'
    assert get_task('chat').has_conversation
    assert not get_task('region').has_conversation


def test_lookup_errors_name_the_registry_and_the_tokens():
    with pytest.raises(KeyError, match=r"'regoin' is not in the tpo::task "
                       r"registry. Closest registered names: \['region'"):
        get_task('regoin')
    with pytest.raises(ValueError, match="task 'track' has no task tokens"):
        task_table(('region', 'track'))


def test_a_spec_without_a_text_form_says_so():
    class Bare(TaskSpec):
        name = 'bare'

    with pytest.raises(NotImplementedError, match="task 'bare' has no text "
                       r'form \(Bare.to_text\)'):
        Bare().to_text({})


@pytest.mark.parametrize('task, results, field, expected', [
    ('region', dict(ori_shape=(100, 200), gt_bboxes=[[20., 10., 120., 60.]]),
     'pred_bboxes', [[20., 10., 120., 60.]]),
    ('temporal', dict(relevant_windows=[[2., 6.], [8., 10.]]),
     'pred_windows', [[2., 6., 1.], [8., 10., 0.5]]),
    ('track', dict(ori_shape=(100, 200), gt_track_bboxes=[[20., 10., 100.,
                                                           50.]] * 2,
                   absent=[0, 1]),
     'pred_track_bboxes', [[20., 10., 100., 50.], [0., 0., 0., 0.]]),
])
def test_text_form_round_trip(task, results, field, expected):
    spec = get_task(task)
    text = spec.to_text(dict(results, task=task))
    sample = dict(results, task=task)
    spec.from_text(sample, f'It is here {text}.')
    np.testing.assert_allclose(sample[field], expected, rtol=1e-6)
    with pytest.raises(MalformedAnswerError):
        spec.from_text(dict(results), 'no structure here')
    spec.empty_prediction(sample)
    assert len(sample[field]) == 0 or not np.any(sample[field])


def test_mask_text_is_one_box_per_frame():
    spec = get_task('mask')
    masks = np.zeros((2, 10, 20), bool)
    masks[0, 2:5, 4:10] = True
    text = spec.to_text(dict(ori_shape=(10, 20), gt_masks=masks))
    assert text == '[0.20,0.20,0.50,0.50],[]'
    sample = dict(ori_shape=(10, 20), gt_masks=masks)
    spec.from_text(sample, text)
    assert np.array_equal(sample['pred_masks'], masks)


def test_track_question_takes_the_prompt_box_as_text():
    spec = get_task('track')
    question = spec.textualize_question(
        'Track the object in <track_box>.',
        dict(ori_shape=(10, 20), prompt_bboxes=[[0., 0., 10., 5.]]))
    assert question == 'Track the object in [0.00,0.00,0.50,0.50].'
