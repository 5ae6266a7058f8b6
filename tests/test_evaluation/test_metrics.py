from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from tests._shared import load_conformance
from tpo.evaluation.metrics import (MultipleChoiceAccuracy,
                                    ReferringBoxAccuracy, TaskAssignAccuracy)
from tpo.structures import TPODataSample


def evaluate(metric, data_samples):
    evaluator = Evaluator(metric)
    evaluator.process(data_samples)
    return evaluator.evaluate(len(data_samples))


def box_samples():
    gt = torch.tensor([[0., 0., 10., 10.]])
    return [
        # top-1 by score has IoU exactly 0.5
        dict(pred_bboxes=torch.tensor([[0., 0., 10., 10.], [0., 0., 10.,
                                                            20.]]),
             pred_scores=torch.tensor([0.2, 0.9]),
             gt_bboxes=gt,
             source='refcoco'),
        # no scores: the first box is top-1
        dict(pred_bboxes=np.array([[0., 0., 10., 10.], [50., 50., 60.,
                                                        60.]]),
             gt_bboxes=gt,
             source='refcoco'),
        # no box at all: a miss
        dict(pred_bboxes=torch.zeros(0, 4), gt_bboxes=gt, source='refcocog'),
        # tied scores: the first box; several GT boxes: the first
        dict(pred_bboxes=torch.tensor([[0., 0., 10., 10.], [0., 0., 1.,
                                                            1.]]),
             pred_scores=torch.tensor([0.5, 0.5]),
             gt_bboxes=torch.tensor([[0., 0., 10., 10.], [5., 5., 6., 6.]]),
             source='refcocog'),
    ]


def test_referring_box_accuracy():
    assert evaluate(ReferringBoxAccuracy(), box_samples()) == {
        'refcoco/Acc@0.5': 75.0,
        'refcoco/refcoco/Acc@0.5': 100.0,
        'refcoco/refcocog/Acc@0.5': 50.0,
    }


def test_referring_box_accuracy_config():
    metric = dict(type='tpo.ReferringBoxAccuracy', iou_thr=0.75,
                  prefix='rec')
    samples = box_samples()
    for sample in samples:
        del sample['source']
    assert evaluate(metric, samples) == {'rec/Acc@0.75': 50.0}


def test_referring_box_accuracy_half_precision():
    samples = [
        dict(pred_bboxes=torch.tensor([[0., 0., 10., 20.]],
                                      dtype=torch.bfloat16),
             pred_scores=torch.tensor([1.], dtype=torch.bfloat16),
             gt_bboxes=torch.tensor([[0., 0., 10., 10.]]))
    ]
    assert evaluate(ReferringBoxAccuracy(), samples) == {
        'refcoco/Acc@0.5': 100.0
    }


def test_referring_box_accuracy_empty_gt():
    samples = [dict(pred_bboxes=torch.zeros(1, 4), gt_bboxes=torch.zeros(0),
                    sample_idx=7)]
    with pytest.raises(ValueError, match='empty gt_bboxes.*sample_idx=7'):
        evaluate(ReferringBoxAccuracy(), samples)


def test_multiple_choice_accuracy():
    samples = [
        dict(pred_text='B) foo', gt_answer='(B) foo', task_type='x'),
        dict(pred_text='', gt_answer='(A) foo', task_type='x'),
        dict(pred_text='AB) two', gt_answer='(A) foo', task_type='x'),
        dict(pred_text='Answer: C', gt_answer='(C) bar', task_type='y'),
    ]
    assert evaluate(MultipleChoiceAccuracy(), samples) == {
        'mvbench/x': 2 / 3 * 100,
        'mvbench/y': 0.0,
        'mvbench/Avg': 2 / 4 * 100,
    }


def test_multiple_choice_accuracy_conformance():
    data = load_conformance('mvbench_mcq_acc.json')
    samples = [
        dict(pred_text=row['raw_model_output'],
             gt_answer=row['gt'],
             task_type=row['task_type']) for row in data['rows']
    ]
    expect = data['reference_output']['final_res']
    assert evaluate(dict(type='tpo.MultipleChoiceAccuracy'),
                    samples) == {f'mvbench/{k}': v
                                 for k, v in expect.items()}


def test_task_assign_accuracy():
    pairs = [('<box_begin>', '<box_begin>'), ('<box_begin>', 'none'),
             ('none', 'none'), ('<temporal_begin>', '<box_begin>')]
    samples = [dict(gt_task=gt, pred_task=pred) for gt, pred in pairs]
    with mock.patch('tpo.evaluation.metrics.task_assign_accuracy.print_log'
                    ) as log:
        metrics = evaluate(TaskAssignAccuracy(), samples)
    assert metrics == {
        'task_assign/Acc': 50.0,
        'task_assign/<box_begin>/Recall': 50.0,
        'task_assign/none/Recall': 100.0,
        'task_assign/<temporal_begin>/Recall': 0.0,
    }
    message = log.call_args.args[0]
    assert '<box_begin> -> none: 1' in message
    assert '<temporal_begin> -> <box_begin>: 1' in message


@pytest.mark.parametrize('metric, sample, key', [
    (ReferringBoxAccuracy(), dict(gt_bboxes=torch.zeros(1, 4)),
     'pred_bboxes'),
    (ReferringBoxAccuracy(), dict(pred_bboxes=torch.zeros(1, 4)),
     'gt_bboxes'),
    (MultipleChoiceAccuracy(), dict(pred_text='A)', task_type='x'),
     'gt_answer'),
    (MultipleChoiceAccuracy(), dict(pred_text='A)', gt_answer='(A) a'),
     'task_type'),
    (TaskAssignAccuracy(), dict(gt_task='none'), 'pred_task'),
])
def test_missing_key(metric, sample, key):
    data_sample = TPODataSample(
        metainfo=dict(sample_idx=3, video_path='v.mp4'), **sample)
    name = type(metric).__name__
    with pytest.raises(KeyError, match=rf"{name} needs '{key}'.*"
                       r"sample_idx=3, video_path='v.mp4'"):
        Evaluator(metric).process([data_sample])


@pytest.mark.parametrize(
    'metric',
    [ReferringBoxAccuracy(),
     MultipleChoiceAccuracy(),
     TaskAssignAccuracy()])
def test_no_results(metric):
    with pytest.raises(ValueError, match='no results'):
        Evaluator(metric).evaluate(0)


def test_task_filter_scores_only_its_samples():
    """One evaluator over a mixed test set: each metric takes its task."""
    region = dict(task='region', pred_bboxes=np.array([[0., 0, 10, 10]]),
                  gt_bboxes=np.array([[0., 0, 10, 10]]), gt_task='<box_begin>',
                  pred_task='<box_begin>')
    mcq = dict(task='mcq', pred_text='B) blue', gt_answer='(B) blue',
               task_type='color', gt_task='none', pred_task='none')
    evaluator = Evaluator([
        dict(type='tpo.ReferringBoxAccuracy', tasks=('region', )),
        dict(type='tpo.MultipleChoiceAccuracy', tasks=('mcq', )),
        dict(type='tpo.TaskAssignAccuracy')
    ])
    evaluator.process([region, mcq, dict(mcq, pred_text='A) red')])
    metrics = evaluator.evaluate(3)
    assert metrics['refcoco/Acc@0.5'] == 100.0
    assert metrics['mvbench/Avg'] == 50.0
    assert metrics['task_assign/Acc'] == 100.0
