"""Answer extraction and aggregation of VideoMME, MLVU, MMIU and
SEED-Bench-2. Expected values are worked out by hand from each benchmark's
official rule (see tpo/evaluation/functional/mcq_benchmarks.py)."""
import pytest
from mmengine.evaluator import Evaluator

from tpo.evaluation.functional import (mlvu_accuracy, mlvu_check_answer,
                                       mlvu_extract_answer, mmiu_accuracy,
                                       mmiu_check_answer, mmiu_extract_choice,
                                       mmiu_match_option, seedbench2_accuracy,
                                       seedbench2_extract_answer,
                                       videomme_accuracy,
                                       videomme_extract_answer)
from tpo.evaluation.metrics import (MLVUAccuracy, MMIUAccuracy,
                                    SEEDBench2Accuracy, VideoMMEAccuracy)
from tpo.registry import METRICS


def evaluate(metric, data_samples):
    evaluator = Evaluator(metric)
    evaluator.process(data_samples)
    return evaluator.evaluate(len(data_samples))


def approx(values):
    return {key: pytest.approx(value) for key, value in values.items()}


# ------------------------------------------------------------------ VideoMME
@pytest.mark.parametrize('response, letter', [
    ('D', 'D'),
    ('  C. Four.\n', 'C'),
    ('The best answer is C.', 'C'),
    ('The correct answer is (D)', 'D'),
    ('The answer: D', 'D'),  # "The answer" is removed too
    ('The answer is E', ''),  # only A-D count
    # 'Best answer:' alone is never removed (missing comma in the official
    # list), so the B of "Best" is the first capital A-D
    ('Best answer: C', 'B'),
    ('Best option: D', 'B'),
    ('Best answer:Best option: C', 'C'),  # the joined prefix is removed
    ('Answer: C', 'A'),  # the A of "Answer"
    ('Due to the poppies, A', 'D'),
    ('c', ''),  # lower case never matches
    ('I think it is (b).', ''),
    ('', ''),
    ('B) Two.', 'B'),  # a "Best option:(" continuation
])
def test_videomme_extract_answer(response, letter):
    assert videomme_extract_answer(response) == letter


VIDEOMME_ITEMS = [
    # response, gt, duration, domain, task type, sub-category
    ('A', 'A', 'short', 'Knowledge', 'Counting', 'Law'),  # right
    ('C', 'B', 'short', 'Knowledge', 'OCR', 'Law'),  # wrong
    ('xyz', 'C', 'medium', 'Sports', 'Counting', 'Football'),  # no letter
    ('The answer is D', 'D', 'medium', 'Sports', 'OCR', 'Football'),  # right
    ('Best answer: A', 'A', 'long', 'Knowledge', 'Counting', 'Law'),  # B
    ('b', 'B', 'long', 'Sports', 'Counting', 'Esports'),  # no letter
]


def videomme_columns(items):
    return [list(column) for column in zip(*items)]


def test_videomme_accuracy_official_skips_unanswered():
    res = videomme_accuracy(*videomme_columns(VIDEOMME_ITEMS))
    # answered: items 0, 1, 3, 4; right: 0, 3
    assert res == approx({
        'overall': 50.0,
        'short': 50.0,  # 0 right, 1 wrong
        'medium': 100.0,  # 3 right, 2 unanswered
        'long': 0.0,  # 4 wrong, 5 unanswered
        'domain/Knowledge': 100 / 3,  # 0, 1, 4
        'domain/Sports': 100.0,  # 3 (2 and 5 unanswered)
        'sub_category/Law': 100 / 3,
        'sub_category/Football': 100.0,
        'sub_category/Esports': 0.0,  # nothing answered
        'task_type/Counting': 50.0,  # 0, 4
        'task_type/OCR': 50.0,  # 1, 3
        'unanswered': 100 / 3,
    })
    assert list(res)[:4] == ['overall', 'short', 'medium', 'long']


def test_videomme_accuracy_lmms_eval_counts_unanswered_wrong():
    columns = videomme_columns(VIDEOMME_ITEMS)
    res = videomme_accuracy(*columns[:5], skip_unanswered=False)
    assert res == approx({
        'overall': 2 / 6 * 100,
        'short': 50.0,
        'medium': 50.0,
        'long': 0.0,
        'domain/Knowledge': 100 / 3,
        'domain/Sports': 100 / 3,
        'task_type/Counting': 25.0,
        'task_type/OCR': 50.0,
        'unanswered': 100 / 3,
    })


def test_videomme_accuracy_errors():
    columns = videomme_columns(VIDEOMME_ITEMS)
    with pytest.raises(ValueError, match='different lengths'):
        videomme_accuracy(columns[0][:2], *columns[1:5])
    with pytest.raises(ValueError, match='no items'):
        videomme_accuracy([], [], [], [], [])
    with pytest.raises(ValueError, match='duration categories'):
        videomme_accuracy(['A'], ['A'], ['tiny'], ['K'], ['T'])


def test_videomme_metric():
    samples = [
        dict(pred_text=r, gt_answer=g, duration_category=d, domain=dom,
             task_type=t, sub_category=s, task='mcq', source='videomme')
        for r, g, d, dom, t, s in VIDEOMME_ITEMS
    ]
    samples.append(dict(samples[0], source='mvbench', gt_answer='B'))
    metric = dict(type='tpo.VideoMMEAccuracy', tasks=['mcq'],
                  sources=['videomme'])
    res = evaluate(metric, samples)
    assert res['videomme/overall'] == pytest.approx(50.0)
    assert res['videomme/sub_category/Esports'] == 0.0
    # without sub_category in every sample, no sub-category breakdown
    del samples[0]['sub_category']
    res = evaluate(VideoMMEAccuracy(skip_unanswered=False, prefix='vmme'),
                   samples)
    assert res['vmme/overall'] == pytest.approx(2 / 7 * 100)
    assert not any('sub_category' in key for key in res)
    with pytest.raises(KeyError, match="needs 'duration_category'"):
        evaluate(VideoMMEAccuracy(), [dict(pred_text='A', gt_answer='A')])
    with pytest.raises(ValueError, match='no results'):
        evaluate(VideoMMEAccuracy(sources=['none']), samples)


# ---------------------------------------------------------------------- MLVU
@pytest.mark.parametrize('output, pred, correct', [
    ('B) blue', 'B', True),
    ('B', 'B', True),  # no ")": the whole output
    (' B \n', 'B', True),  # stripped
    ('b) blue', 'b', False),  # case-sensitive
    ('(B) blue', 'B', True),  # the character before the first ")"
    ('AB) blue', 'B', True),
    ('B x)', 'x', False),
    (') B', '', False),
    ('B.', 'B.', False),
    ('The answer is (B)', 'B', True),
    ('', '', False),
])
def test_mlvu_extract_and_check(output, pred, correct):
    assert mlvu_extract_answer(output) == pred
    assert mlvu_check_answer(output, 'B') is correct
    # the official GT string "(X) answer" gives the same letter
    assert mlvu_check_answer(output, '(B) blue') is correct


def test_mlvu_accuracy():
    res = mlvu_accuracy(
        ['A)', 'B)', 'C)', 'D) x', 'A'],
        ['A', 'A', 'A', 'D', 'B'],
        ['plotQA', 'plotQA', 'plotQA', 'order', 'findNeedle'])
    assert res == approx({
        'plotQA': 100 / 3,
        'order': 100.0,
        'findNeedle': 0.0,
        'M-Avg': (100 / 3 + 100 + 0) / 3,  # mean of the tasks
        'Avg': 2 / 5 * 100,  # pooled
    })
    assert list(res) == ['plotQA', 'order', 'findNeedle', 'M-Avg', 'Avg']
    with pytest.raises(ValueError, match='M-Avg'):
        mlvu_accuracy(['A'], ['A'], ['M-Avg'])


def test_mlvu_metric():
    samples = [
        dict(pred_text='A) x', gt_answer='A', task_type='count', task='mcq'),
        dict(pred_text='C) x', gt_answer='A', task_type='count', task='mcq'),
        dict(pred_text='B', gt_answer='B', task_type='ego', task='mcq'),
        dict(pred_text='B', gt_answer='B', task_type='ego', task='region'),
    ]
    res = evaluate(dict(type='tpo.MLVUAccuracy', tasks=['mcq']), samples)
    assert res == approx({
        'mlvu/count': 50.0, 'mlvu/ego': 100.0, 'mlvu/M-Avg': 75.0,
        'mlvu/Avg': 2 / 3 * 100
    })


# ---------------------------------------------------------------------- MMIU
@pytest.mark.parametrize('output, options, choice', [
    ('A', None, 'A'),
    ('b', None, 'b'),  # a bare letter is kept as written
    ('(C)', None, 'C'),  # leading / trailing ".,()" removed
    ('((B)).', None, 'B'),
    ('D.', None, 'D'),
    ('B\u00a0.', None, 'B'),  # non-breaking space removed
    ('  image none ', None, 'Z'),  # a failed output
    ('model error', None, 'Z'),
    ('', None, 'Z'),
    ('N', None, 'N'),  # a-n are letters
    ('O', None, 'Z'),  # o is not
    # not a bare letter: the offline matcher
    ('B: the second image', ['first', 'second'], 'B'),
    ('The answer is C.', ['x', 'y', 'z'], 'C'),
    ('The answer is C.', ['x', 'y'], 'Z'),  # no option C
    ('A cat on a mat', ['a dog', 'a cat on a mat'], 'B'),
    ('both dogs', ['a dog', 'two dogs'], 'Z'),
    ('a dog and two dogs', ['a dog', 'two dogs'], 'Z'),  # two options match
])
def test_mmiu_extract_choice(output, options, choice):
    assert mmiu_extract_choice(output, options) == choice


def test_mmiu_custom_matcher_and_check():
    def matcher(prediction, options):
        return 'D' if 'fourth' in prediction else ''

    assert mmiu_extract_choice('the fourth image', None, matcher) == 'D'
    assert mmiu_extract_choice('no idea', None, matcher) == 'Z'
    assert mmiu_match_option('(C) x', ['a', 'b', 'c']) == 'C'
    # substring test of the lower-cased strings
    assert mmiu_check_answer('b', 'B')
    assert mmiu_check_answer(' A', 'a ')
    assert not mmiu_check_answer('Z', 'A')


def test_mmiu_accuracy():
    res = mmiu_accuracy(
        ['A', 'b', 'C', 'image none'],
        ['A', 'B', 'D', 'A'],
        ['t2', 't1', 't2', 't2'])
    # t1: 1/1; t2: 1/3; Overall is the mean of the tasks, not 2/4
    assert res == approx({'t1': 100.0, 't2': 100 / 3,
                          'Overall': (100 + 100 / 3) / 2})
    assert list(res) == ['t1', 't2', 'Overall']  # tasks sorted by name


def test_mmiu_metric():
    samples = [
        dict(pred_text='The second image', gt_answer='B', task_type='t',
             candidates=['the first image', 'the second image']),
        dict(pred_text='B', gt_answer='A', task_type='t'),
    ]
    assert evaluate(dict(type='tpo.MMIUAccuracy'), samples) == approx({
        'mmiu/t': 50.0, 'mmiu/Overall': 50.0
    })


# --------------------------------------------------------------- SEED-Bench-2
@pytest.mark.parametrize('output, letter', [
    ('B', 'B'),
    (' C. Three', 'C'),
    ('b', 'b'),
    ('(A)', '('),
    ('The answer is A', 'T'),
    ('', ''),
])
def test_seedbench2_extract_answer(output, letter):
    assert seedbench2_extract_answer(output) == letter


def test_seedbench2_accuracy():
    res = seedbench2_accuracy(
        ['A', ' B.', 'b', '(C)', 'D'],
        ['A', 'B', 'B', 'C', 'D'],
        ['Difference Spotting', 'Difference Spotting', 'Action Recognition',
         'Action Recognition', 'Action Recognition'],
        ['Multi', 'Multi', 'Video', 'Video', 'Video'])
    assert res == approx({
        'Difference Spotting': 100.0,
        'Action Recognition': 100 / 3,
        'subpart/Multi': 100.0,
        'subpart/Video': 100 / 3,
        'Overall': 3 / 5 * 100,  # pooled
    })


def test_seedbench2_metric():
    samples = [
        dict(pred_text='A', gt_answer='A', task_type='Scene Understanding',
             subpart='Single'),
        dict(pred_text='C', gt_answer='A', task_type='Action Recognition'),
    ]
    assert METRICS.get('SEEDBench2Accuracy') is SEEDBench2Accuracy
    res = evaluate(SEEDBench2Accuracy(), samples)
    assert res == approx({
        'seedbench2/Scene Understanding': 100.0,
        'seedbench2/Action Recognition': 0.0,
        'seedbench2/Overall': 50.0
    })


def test_metrics_are_registered():
    for metric in (VideoMMEAccuracy, MLVUAccuracy, MMIUAccuracy,
                   SEEDBench2Accuracy):
        assert METRICS.get(metric.__name__) is metric
