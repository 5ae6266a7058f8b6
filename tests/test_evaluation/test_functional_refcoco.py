import numpy as np
import pytest

from tests._shared import load_conformance
from tpo.evaluation.functional import (box_iou_xyxy, referring_accuracy,
                                       select_top1)


@pytest.fixture(scope='module')
def refcoco():
    data = load_conformance('refcoco_rec_acc.json')
    return data['inputs']['samples'], data['reference_output']


def gt_xyxy(sample):
    # the reference converts in float64: x2 = x + w, y2 = y + h, no +1
    x, y, w, h = sample['gt_bbox_xywh']
    return np.array([x, y, x + w, y + h], dtype=np.float64)


def test_top1_choice(refcoco):
    samples, ref = refcoco
    for sample, expect in zip(samples, ref['per_sample']):
        top1 = select_top1(sample['pred_boxes_xyxy'], sample['pred_scores'])
        assert top1.tolist() == expect['top1_pred_xyxy'], sample['id']


def test_iou_float32_reproduces_reference(refcoco):
    # the reference IoU is torch box_iou in float32
    samples, ref = refcoco
    for sample, expect in zip(samples, ref['per_sample']):
        top1 = np.asarray(expect['top1_pred_xyxy'], dtype=np.float32)
        iou = box_iou_xyxy(top1, gt_xyxy(sample).astype(np.float32))
        assert iou.dtype == np.float32
        assert float(iou) == pytest.approx(
            expect['iou_no_plus1'], abs=1e-6), sample['id']


def test_per_sample_float64(refcoco):
    samples, ref = refcoco
    out = referring_accuracy([s['pred_boxes_xyxy'] for s in samples],
                             [s['pred_scores'] for s in samples],
                             [gt_xyxy(s) for s in samples])
    expect_ious = [e['iou_no_plus1'] for e in ref['per_sample']]
    # exact arithmetic differs from the float32 reference by ~2e-6 at most
    np.testing.assert_allclose(out['ious'], expect_ious, rtol=0, atol=2.5e-6)
    assert out['hits'] == [e['hit_iou'] for e in ref['per_sample']]


@pytest.mark.parametrize('group',
                         ['all_main', 'refcoco', 'refcoco+', 'refcocog'])
def test_summary_pct(refcoco, group):
    samples, ref = refcoco
    chosen = [
        s for s in samples if s['dataset_name'] == group or
        (group == 'all_main' and s['dataset_name'] != 'edge')
    ]
    out = referring_accuracy([s['pred_boxes_xyxy'] for s in chosen],
                             [s['pred_scores'] for s in chosen],
                             [gt_xyxy(s) for s in chosen],
                             thr=0.5)
    expect = ref['summary_pct'][group]
    assert len(chosen) == expect['n']
    assert out['accuracy'] == expect['Acc@0.5_IoU(no+1)']


def test_box_iou_xyxy():
    gt = [0, 0, 10, 10]
    assert box_iou_xyxy(gt, gt) == 1.0
    assert box_iou_xyxy(gt, [0, 0, 10, 20]) == 0.5
    assert box_iou_xyxy(gt, [10, 0, 20, 10]) == 0.0  # touching edges
    assert box_iou_xyxy([5, 5, 5, 5], [5, 5, 5, 5]) == 0.0  # no union
    assert box_iou_xyxy(gt, gt).dtype == np.float64  # ints -> float64
    pairwise = box_iou_xyxy(
        np.array([gt, [0, 0, 5, 10]])[:, None],
        np.array([gt, [0, 0, 10, 20], [20, 20, 30, 30]])[None])
    np.testing.assert_array_equal(pairwise,
                                  [[1.0, 0.5, 0.0], [0.5, 0.25, 0.0]])


def test_select_top1():
    boxes = [[0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 3, 3]]
    assert select_top1(boxes, [0.1, 0.7, 0.7]).tolist() == [0, 0, 2, 2]
    assert select_top1(boxes).tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match='no boxes'):
        select_top1(np.zeros((0, 4)))
    with pytest.raises(ValueError, match='3 boxes but 2 scores'):
        select_top1(boxes, [0.1, 0.2])


def test_referring_accuracy_edge_cases():
    gt = [[0, 0, 10, 10]] * 3
    preds = [np.zeros((0, 4)), [[0, 0, 10, 20]], [[0, 0, 10, 21]]]
    out = referring_accuracy(preds, None, gt)
    assert out['hits'] == [False, True, False]  # empty = miss, 0.5 = hit
    assert out['ious'][0] == 0.0
    assert out['accuracy'] == 1 / 3 * 100
    with pytest.raises(ValueError, match='no samples'):
        referring_accuracy([], None, np.zeros((0, 4)))
    with pytest.raises(ValueError, match='2 box lists'):
        referring_accuracy(preds[:2], None, gt)
