import json

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from tests._shared import SHARED, load_conformance
from tpo.evaluation.functional import (charades_recall, qvhighlights_eval,
                                       qvhighlights_highlight_detection,
                                       qvhighlights_moment_retrieval,
                                       temporal_iou)
from tpo.evaluation.metrics import (MomentRetrievalMetric,
                                    TemporalGroundingRecall)


@pytest.fixture(scope='module')
def charades():
    return load_conformance('charades_sta_grounding.json')


@pytest.fixture(scope='module')
def qvh():
    return load_conformance('qvhighlights_mr_hl.json')


def charades_split(data, name):
    start, stop = data['inputs']['boundary_slice']
    sl = dict(
        main_500=slice(0, start),
        boundary_cases=slice(start, stop),
        all=slice(0, None))[name]
    return (data['inputs']['ranked_segments'][sl],
            [d['times'] for d in data['inputs']['data'][sl]])


def test_temporal_iou():
    assert temporal_iou([10, 15], [10, 20]) == 0.5
    assert temporal_iou([5, 25], [10, 20]) == 0.5
    # disjoint and zero-length windows have IoU 0, never negative
    assert temporal_iou([21, 25], [10, 20]) == 0
    assert temporal_iou([12, 12], [10, 20]) == 0
    assert temporal_iou([3, 3], [3, 3]) == 0
    np.testing.assert_array_equal(
        temporal_iou([[0, 2], [1, 3]], [0, 4]), [0.5, 0.5])


@pytest.mark.parametrize('name', ['main_500', 'boundary_cases', 'all'])
def test_charades_top1_iou(charades, name):
    windows, gts = charades_split(charades, name)
    ious = [float(temporal_iou(w[0], gt)) for w, gt in zip(windows, gts)]
    expect = charades['reference_output'][name]['per_query_top1_iou_2dtan']
    np.testing.assert_allclose(ious, expect, rtol=0, atol=1e-12)


@pytest.mark.parametrize('name', ['main_500', 'boundary_cases', 'all'])
def test_charades_recall_at_1_ge(charades, name):
    windows, gts = charades_split(charades, name)
    out = charades_recall(windows, gts)
    ref = charades['reference_output'][name]
    for thr in ('0.3', '0.5', '0.7'):
        r1 = out[f'R@1,IoU={thr}']
        assert r1 == pytest.approx(
            ref['timechat_eval_tvg'][f'R@1,IoU>={thr}'], abs=1e-6)
        assert round(r1, 2) == ref['moment_detr_compute_mr_r1'][thr]
    assert out['mIoU'] == pytest.approx(
        ref['2dtan_nms1.0']['mIoU_top1'], abs=1e-6)


def test_charades_recall_at_5_ge(charades):
    # without ties (main set) `>=` equals 2D-TAN's `>` without NMS
    windows, gts = charades_split(charades, 'main_500')
    out = charades_recall(windows, gts)
    ref = charades['reference_output']['main_500']['2dtan_nms1.0']
    for thr in ('0.3', '0.5', '0.7'):
        assert out[f'R@5,IoU={thr}'] == pytest.approx(
            ref[f'R@5,IoU>{thr}'], abs=1e-6)
    # exact ties count as hits: IoU 0.5, 0.7, 0.3, 0.5, 0, 0, rank-4 hit,
    # rank-3 hit
    windows, gts = charades_split(charades, 'boundary_cases')
    boundary = charades_recall(windows, gts)
    assert [boundary[f'R@5,IoU={t}'] for t in (0.3, 0.5, 0.7)] == \
        [75.0, 62.5, 37.5]
    windows, gts = charades_split(charades, 'all')
    out_all = charades_recall(windows, gts)
    for thr in (0.3, 0.5, 0.7):
        hits = (out[f'R@5,IoU={thr}'] * 500 +
                boundary[f'R@5,IoU={thr}'] * 8) / 100
        assert out_all[f'R@5,IoU={thr}'] == pytest.approx(
            hits / 508 * 100, abs=1e-6)


def test_charades_recall_empty_prediction_is_miss():
    out = charades_recall([[], [[0, 4]]], [[0, 4], [0, 4]], ks=(1, ))
    assert out == {
        'R@1,IoU=0.3': 50.0,
        'R@1,IoU=0.5': 50.0,
        'R@1,IoU=0.7': 50.0,
        'mIoU': 50.0
    }


def test_qvhighlights_eval_reference(qvh):
    out = qvhighlights_eval(qvh['inputs']['submission'],
                            qvh['inputs']['ground_truth'])
    ref = qvh['reference_output']
    assert out == ref
    # same key order as the reference (brief first, then sorted)
    assert list(out) == list(ref)
    assert list(out['brief']) == list(ref['brief'])


def test_qvhighlights_parts(qvh):
    sub, gt = qvh['inputs']['submission'], qvh['inputs']['ground_truth']
    ref = qvh['reference_output']
    mr = qvhighlights_moment_retrieval(sub, gt)
    assert mr == {k: ref[k] for k in ('short', 'middle', 'long', 'full')}
    hl = qvhighlights_highlight_detection(sub, gt)
    assert hl == {k: v for k, v in ref.items() if k.startswith('HL-')}
    # highlight only: no MR numbers in brief
    sub_hl = [
        dict(qid=r['qid'], pred_saliency_scores=r['pred_saliency_scores'])
        for r in sub
    ]
    brief = qvhighlights_eval(sub_hl, gt)['brief']
    assert brief == {k: v for k, v in ref['brief'].items() if 'HL' in k}


def test_qvhighlights_mismatched_queries(qvh):
    sub, gt = qvh['inputs']['submission'], qvh['inputs']['ground_truth']
    with pytest.raises(ValueError, match='same queries'):
        qvhighlights_eval(sub[1:], gt)


def test_qvhighlights_empty_prediction_is_a_miss():
    """A query whose answer did not call the temporal task (no window)."""
    gt = [dict(qid=1, duration=150, relevant_windows=[[10, 20]]),
          dict(qid=2, duration=150, relevant_windows=[[30, 40]])]
    sub = [dict(qid=1, pred_relevant_windows=[[10, 20, 0.9]]),
           dict(qid=2, pred_relevant_windows=[])]
    out = qvhighlights_moment_retrieval(sub, gt)
    assert out['full']['MR-R1']['0.5'] == 50.0
    assert out['full']['MR-mAP']['average'] == 50.0
    # No GT window longer than 10 s: the reference reports zeros there.
    assert out['long']['MR-mAP']['average'] == 0.0


def test_qvhighlights_real_sample_preds(qvh):
    check = qvh['real_sample_preds_check']
    folder = SHARED / 'data' / 'annotations' / 'qvhighlights'

    def load(name):
        with open(folder / name) as f:
            return [json.loads(line) for line in f]

    out = qvhighlights_eval(
        load('sample_val_preds.jsonl'), load('highlight_val_release.jsonl'))
    assert out == check['reference_output']


def evaluate(metric, data_samples):
    evaluator = Evaluator(metric)
    evaluator.process(data_samples)
    return evaluator.evaluate(len(data_samples))


def test_moment_retrieval_metric(qvh):
    gt = {row['qid']: row for row in qvh['inputs']['ground_truth']}
    samples = []
    for row in qvh['inputs']['submission']:
        g = gt[row['qid']]
        samples.append(
            dict(
                qid=row['qid'],
                pred_windows=torch.tensor(
                    row['pred_relevant_windows'], dtype=torch.float64),
                pred_saliency=np.asarray(row['pred_saliency_scores']),
                gt_windows=g['relevant_windows'],
                duration=g['duration'],
                relevant_clip_ids=g['relevant_clip_ids'],
                saliency_scores=g['saliency_scores']))
    metrics = evaluate(MomentRetrievalMetric(), samples)
    assert metrics == {
        f'qvhighlights/{k}': v
        for k, v in qvh['reference_output']['brief'].items()
    }


def test_temporal_grounding_recall_metric(charades):
    windows, gts = charades_split(charades, 'boundary_cases')
    samples = [
        dict(pred_windows=np.asarray(w), gt_windows=[gt], task='grounding')
        for w, gt in zip(windows, gts)
    ]
    samples.append(dict(task='other'))
    metric = TemporalGroundingRecall(ks=(1, ), tasks=('grounding', ))
    assert evaluate(metric, samples) == {
        'charades/R@1,IoU=0.3': 62.5,
        'charades/R@1,IoU=0.5': 50.0,
        'charades/R@1,IoU=0.7': 25.0,
        'charades/mIoU': 34.375
    }
