"""The textualized-task (P2S) baseline: structures as text and back, the
answer transform, the decoding metric and the second temporal source."""
import numpy as np
import pytest

from tpo.datasets.transforms import (FormatTaskConversation,
                                     TextualizeTaskAnswer)
from tpo.evaluation.metrics import TextAnswerMetric, decode_text_answer
from tpo.tasks.text_forms import (MalformedAnswerError, box_sequence_to_text,
                                  box_to_text, boxes_to_masks, mask_to_box,
                                  text_to_box_sequence, text_to_boxes,
                                  text_to_windows, windows_to_text)


def test_box_round_trip_values():
    text = box_to_text([32, 16, 96, 128], img_w=128, img_h=64)
    assert text == '[0.25,0.25,0.75,1.00]'
    # clipped to the frame, then rounded to 2 decimals (0.01 of the size)
    assert box_to_text([-5, 0, 200, 63.4], 128, 64) == '[0.00,0.00,1.00,0.99]'
    assert text_to_boxes(text, 128, 64) == [[32.0, 16.0, 96.0, 64.0]]
    box = [13.0, 7.0, 81.0, 50.0]
    back = text_to_boxes(box_to_text(box, 100, 100), 100, 100)[0]
    np.testing.assert_allclose(back, box)


def test_decoding_ignores_words_and_tokenizer_spaces():
    # what the word-level tokenizer decodes '[0.12,...]' into
    text = 'it is here [ 0. 1 2, 0. 3 4, 0. 5 6, 0. 7 8 ].'
    np.testing.assert_allclose(
        text_to_boxes(text, 200, 100), [[24.0, 34.0, 112.0, 78.0]])
    assert text_to_boxes('[0.1,0.1,0.2,0.2] or [0.5,0.5,1,1]', 10, 10) == [
        [1.0, 1.0, 2.0, 2.0], [5.0, 5.0, 10.0, 10.0]
    ]


@pytest.mark.parametrize('text', [
    'it is here.', '[0.1,0.2,0.3]', '[0.1,0.2,0.3,0.4,0.5]',
    '[0.5,0.2,0.3,0.4]', '[0.1,0.2,1.3,0.4]', '[0.1,a,0.3,0.4]',
    '[0.1,0.2,0.3,0.4', '[]', '[0.1,,0.3,0.4]'
])
def test_malformed_boxes_raise(text):
    with pytest.raises(MalformedAnswerError, match='in'):
        text_to_boxes(text, 64, 64)


def test_windows_round_trip_values():
    text = windows_to_text([[2, 6], [8.04, 10]])
    assert text == '[2.0,6.0],[8.0,10.0]'
    assert text_to_windows(text) == [[2.0, 6.0], [8.0, 10.0]]
    assert text_to_windows('the moment is [ 1. 5, 3. 0 ].') == [[1.5, 3.0]]
    for bad in ('the moment is', '[3.0,1.0]', '[1.0]', '[1.0,2.0,3.0]'):
        with pytest.raises(MalformedAnswerError):
            text_to_windows(bad)
    with pytest.raises(ValueError, match='start <= end'):
        windows_to_text([[5, 1]])


def test_box_sequence_round_trip_with_absent_frames():
    boxes = [[0, 0, 32, 16], None, [64, 32, 128, 64]]
    text = box_sequence_to_text(boxes, 128, 64)
    assert text == '[0.00,0.00,0.25,0.25],[],[0.50,0.50,1.00,1.00]'
    assert text_to_box_sequence(text, 128, 64, 3) == [
        [0.0, 0.0, 32.0, 16.0], None, [64.0, 32.0, 128.0, 64.0]
    ]
    with pytest.raises(MalformedAnswerError, match='expected one per frame'):
        text_to_box_sequence(text, 128, 64, 4)


def test_mask_box_round_trip():
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    assert mask_to_box(mask) == [3.0, 2.0, 9.0, 5.0]
    assert mask_to_box(np.zeros((4, 4), bool)) is None
    masks = boxes_to_masks([mask_to_box(mask), None], 10, 12)
    np.testing.assert_array_equal(masks[0], mask)
    assert not masks[1].any()


def _formatted(results: dict) -> dict:
    results.setdefault('sample_idx', 0)
    return FormatTaskConversation(train=False).transform(results)


def test_transform_region_and_temporal():
    region = _formatted(
        dict(task='region', expressions=['the red circle'],
             gt_bboxes=np.array([[32., 16., 96., 64.]]), ori_shape=(64, 128)))
    assert region['conversation'][0]['answer'].endswith('<box_begin><boxes>.')
    out = TextualizeTaskAnswer().transform(region)
    assert out['conversation'][0]['answer'] == \
        'It is here [0.25,0.25,0.75,1.00].'
    assert out['gt_task'] == 'none'
    temporal = _formatted(
        dict(task='temporal', query='the red circle appears',
             relevant_windows=np.array([[2., 6.]]), ori_shape=(64, 64)))
    out = TextualizeTaskAnswer().transform(temporal)
    assert out['conversation'][0]['answer'] == 'The moment is [2.0,6.0].'


def test_transform_mask_and_track():
    masks = np.zeros((2, 8, 8), bool)
    masks[0, 0:4, 2:6] = True
    mask = _formatted(
        dict(task='mask', expression='the red circle', gt_masks=masks,
             ori_shape=(8, 8)))
    out = TextualizeTaskAnswer().transform(mask)
    assert out['conversation'][0]['answer'] == \
        'The object is [0.25,0.00,0.75,0.50],[].'
    track = _formatted(
        dict(task='track', ori_shape=(100, 200),
             gt_track_bboxes=np.array([[20., 10., 40., 30.], [0, 0, 0, 0]]),
             absent=np.array([0, 1]),
             prompt_bboxes=np.array([[20., 10., 60., 40.]])))
    assert '<track_box>' in track['conversation'][0]['question']
    out = TextualizeTaskAnswer().transform(track)
    turn = out['conversation'][0]
    assert '<track_box>' not in turn['question']
    assert '[0.10,0.10,0.30,0.40]' in turn['question']
    assert turn['answer'] == 'The trajectory is [0.10,0.10,0.30,0.40],[].'


def test_transform_errors_name_the_missing_step():
    chat = dict(task='chat', conversation=[dict(question='q', answer='a')])
    assert TextualizeTaskAnswer().transform(dict(chat)) == chat
    sample = _formatted(
        dict(task='mask', expression='the red circle', ori_shape=(8, 8),
             video_path='v.mp4'))
    with pytest.raises(KeyError, match="'gt_masks'.*DecodeRLEMasks|gt_masks"):
        TextualizeTaskAnswer().transform(sample)
    unformatted = dict(task='region', gt_bboxes=np.zeros((1, 4)),
                       ori_shape=(8, 8),
                       conversation=[dict(question='q', answer='a')])
    with pytest.raises(ValueError, match='FormatTaskConversation'):
        TextualizeTaskAnswer().transform(unformatted)


def test_decode_text_answer_per_task():
    region = dict(task='region', ori_shape=(64, 128),
                  pred_text='it is here [ 0. 2 5, 0. 2 5, 0. 7 5, 1. 0 0 ].')
    assert decode_text_answer(region) is False
    np.testing.assert_allclose(region['pred_bboxes'], [[32, 16, 96, 64]])
    temporal = dict(task='temporal', pred_text='[1.0,2.0],[3.0,4.0]')
    assert decode_text_answer(temporal) is False
    np.testing.assert_allclose(temporal['pred_windows'],
                               [[1, 2, 1.0], [3, 4, 0.5]])
    mask = dict(task='mask', ori_shape=(8, 8), gt_masks=np.zeros((2, 8, 8)),
                pred_text='[0.25,0.00,0.75,0.50],[]')
    assert decode_text_answer(mask) is False
    assert mask['pred_masks'].shape == (2, 8, 8)
    assert mask['pred_masks'][0].sum() == 16
    assert not mask['pred_masks'][1].any()
    track = dict(task='track', ori_shape=(100, 200),
                 gt_track_bboxes=np.zeros((2, 4)),
                 pred_text='[0.10,0.10,0.30,0.40],[]')
    assert decode_text_answer(track) is False
    np.testing.assert_allclose(track['pred_track_bboxes'],
                               [[20, 10, 40, 30], [0, 0, 0, 0]])


def test_malformed_answers_are_misses_and_counted():
    metric = TextAnswerMetric(
        metric=dict(type='ReferringBoxAccuracy', tasks=('region', )))
    gt = np.array([[32., 16., 96., 64.]])
    samples = [
        dict(task='region', ori_shape=(64, 128), gt_bboxes=gt,
             pred_text='it is here [0.25,0.25,0.75,1.00].'),  # hit
        dict(task='region', ori_shape=(64, 128), gt_bboxes=gt,
             pred_text='it is here [0.25,0.25,0.75].'),  # malformed
        dict(task='region', ori_shape=(64, 128), gt_bboxes=gt,
             pred_text='it is here'),  # malformed
        dict(task='region', ori_shape=(64, 128), gt_bboxes=gt,
             pred_text='[0.00,0.00,0.10,0.10]'),  # well formed miss
        dict(task='mcq', pred_text='(A)'),  # not this metric's task
    ]
    metric.process({}, samples)
    assert 'pred_bboxes' not in samples[0]  # the inputs are not modified
    out = metric.evaluate(len(samples))
    assert out == {'refcoco/Acc@0.5': 25.0, 'refcoco/malformed': 2,
                   'refcoco/answers': 4}


def test_text_answer_metric_scores_windows_like_the_head():
    metric = TextAnswerMetric(metric=dict(
        type='TemporalGroundingRecall', tasks=('temporal', ), ks=(1, ),
        thresholds=(0.5, ), prefix='temporal'))
    gt = np.array([[2., 6.]])
    metric.process({}, [
        dict(task='temporal', gt_windows=gt, pred_text='[2.0,6.0]'),
        dict(task='temporal', gt_windows=gt, pred_text='[6.0,2.0]'),
    ])
    out = metric.evaluate(2)
    assert out['temporal/R@1,IoU=0.5'] == 50.0
    assert out['temporal/mIoU'] == 50.0
    assert out['temporal/malformed'] == 1
    with pytest.raises(TypeError, match='TaskMetric'):
        TextAnswerMetric(
            metric=dict(type='DumpPredictions', out_file='x.json'))


def test_multiple_choice_answers_without_an_option_are_misses():
    metric = TextAnswerMetric(
        metric=dict(type='MultipleChoiceAccuracy', tasks=('mcq', )))
    samples = [
        dict(task='mcq', gt_answer='(B) red', task_type='color',
             candidates=['blue', 'red', 'green'], pred_text=text)
        for text in ('b) red', 'B', '', ' ) red', 'blue', 'd) pink',
                     'a) blue')
    ]
    metric.process({}, samples)
    assert samples[2]['pred_text'] == ''  # the inputs are not modified
    out = metric.evaluate(len(samples))
    assert out['mvbench/Avg'] == pytest.approx(200 / 7)
    assert out['mvbench/malformed'] == 4  # '', ' ) red', 'blue', 'd) pink'


def test_mvbench_rule_alone_scores_empty_answers_as_correct():
    """Why the ablations wrap MultipleChoiceAccuracy (docs/ablations.md)."""
    from tpo.evaluation.metrics import MultipleChoiceAccuracy
    plain = MultipleChoiceAccuracy(tasks=('mcq', ))
    wrapped = TextAnswerMetric(metric=dict(type='MultipleChoiceAccuracy',
                                           tasks=('mcq', )))
    samples = [dict(task='mcq', gt_answer=gt, task_type='color',
                    candidates=['blue', 'red'], pred_text='')
               for gt in ('(A) blue', '(B) red')]
    for metric in (plain, wrapped):
        metric.process({}, samples)
    assert plain.evaluate(2)['mvbench/Avg'] == 100.0
    assert wrapped.evaluate(2)['mvbench/Avg'] == 0.0
