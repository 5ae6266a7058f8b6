import pytest

from tests._shared import load_conformance
from tpo.evaluation.functional import (mvbench_accuracy, mvbench_check_answer,
                                       mvbench_format_prediction)


@pytest.fixture(scope='module')
def mvbench():
    return load_conformance('mvbench_mcq_acc.json')


def test_format_prediction(mvbench):
    for row in mvbench['rows']:
        assert mvbench_format_prediction(
            row['raw_model_output']) == row['pred'], row['raw_model_output']


def test_check_answer(mvbench):
    for row in mvbench['rows']:
        assert mvbench_check_answer(row['pred'],
                                    row['gt']) == row['check_ans'], row['pred']


def test_accuracy(mvbench):
    rows = mvbench['rows']
    res = mvbench_accuracy([r['pred'] for r in rows], [r['gt'] for r in rows],
                           [r['task_type'] for r in rows])
    expect = mvbench['reference_output']['final_res']
    assert res == expect
    assert list(res) == list(expect)


@pytest.mark.parametrize(
    'raw, gt, correct',
    [
        ('', '(B) x', True),  # "(" is inside "(b)"
        ('B', '(B) x', True),  # truncated "(b"
        ('b) x', '(B) x', True),  # lower-cased
        ('B.) x', '(B) x', True),  # dots removed from the prediction
        ('B)x.', '(B) x', True),  # "(b)x." contains "(b)"
        ('AB) x', '(B) x', False),
        ('Answer: B', '(B) x', False),
        ('  B) x\nbecause C', '(B) x', True),  # stripped, first line only
        ('C) x\n(B)', '(B) x', False),
    ])
def test_quirks(raw, gt, correct):
    assert mvbench_check_answer(mvbench_format_prediction(raw), gt) is correct


def test_accuracy_is_pooled():
    res = mvbench_accuracy(['(A)', '(B)', '(C)', '(D)'],
                           ['(A) a', '(A) a', '(A) a', '(D) d'],
                           ['x', 'x', 'x', 'y'])
    assert res == {'x': 1 / 3 * 100, 'y': 100.0, 'Avg': 2 / 4 * 100}


def test_accuracy_errors():
    with pytest.raises(ValueError, match='no items'):
        mvbench_accuracy([], [], [])
    with pytest.raises(ValueError, match='1 predictions, 2 GT'):
        mvbench_accuracy(['(A)'], ['(A) a', '(B) b'], ['x', 'x'])
    with pytest.raises(ValueError, match='reserved'):
        mvbench_accuracy(['(A)'], ['(A) a'], ['Avg'])
