"""Temporal grounding metrics: Charades-STA recall and the QVHighlights
moment retrieval / highlight detection evaluator.

Conventions:

* Charades-STA (project convention, as moment_detr ``compute_mr_r1`` and
  TimeChat ``eval_tvg``): a ranked window is a hit when
  ``IoU >= thr``, no NMS; mIoU is the mean IoU of the top-1 window.
* QVHighlights reproduces moment_detr ``standalone_eval`` exactly: R1 takes
  the first listed window; mAP keeps the first 10 listed windows, re-ranks
  them by score (stable), greedily matches GT windows and computes the
  interpolated AP per query; highlight AP is computed per annotator on the
  2-s clips. All values are percents rounded to 2 decimals, as the reference
  reports them.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike

# the reference formats ``np.linspace(0.5, 0.95, 10)`` with 2 decimals
QVH_IOU_THRS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
# (name, min GT window length (exclusive), max (inclusive)); full keeps all
QVH_LENGTH_RANGES = (('short', 0, 10), ('middle', 10, 30), ('long', 30, 150),
                     ('full', None, None))
# (name, min annotator saliency score of a positive clip)
QVH_SALIENCY_LEVELS = (('Fair', 2), ('Good', 3), ('VeryGood', 4))
QVH_CLIP_LENGTH = 2
QVH_MAX_PRED_WINDOWS = 10


def temporal_iou(pred: ArrayLike, gt: ArrayLike) -> np.ndarray:
    """IoU of ``[start, end]`` windows, broadcast over leading dims.

    IoU = overlap / (latest end - earliest start), as 2D-TAN and
    moment_detr's paired IoU compute it; a pair with no positive span gets 0.

    Args:
        pred (ArrayLike): Windows of shape ``(..., 2)``.
        gt (ArrayLike): Windows of shape ``(..., 2)``, broadcastable with
            ``pred``.

    Returns:
        np.ndarray: float64 IoU of shape ``broadcast(pred, gt).shape[:-1]``.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    inter = (np.minimum(pred[..., 1], gt[..., 1]) -
             np.maximum(pred[..., 0], gt[..., 0])).clip(min=0)
    span = (
        np.maximum(pred[..., 1], gt[..., 1]) -
        np.minimum(pred[..., 0], gt[..., 0]))
    return np.divide(inter, span, out=np.zeros_like(inter), where=span > 0)


def charades_recall(
    ranked_windows_list: Sequence[ArrayLike],
    gt_windows: ArrayLike,
    ks: Sequence[int] = (1, 5),
    thresholds: Sequence[float] = (0.3, 0.5, 0.7)
) -> dict:
    """R@k at IoU thresholds and top-1 mIoU (Charades-STA).

    A query counts as a hit at ``(k, thr)`` when one of its first ``k``
    windows has ``IoU >= thr`` with the GT window. A query without windows
    is a miss with IoU 0.

    Args:
        ranked_windows_list (Sequence[ArrayLike]): Per query ``(K, 2)``
            ``[start, end]`` windows, best first (extra columns, e.g. scores,
            are ignored).
        gt_windows (ArrayLike): ``(N, 2)`` GT windows, one per query.
        ks (Sequence[int]): Ranks of the recall. Defaults to ``(1, 5)``.
        thresholds (Sequence[float]): IoU thresholds. Defaults to
            ``(0.3, 0.5, 0.7)``.

    Returns:
        dict: ``R@{k},IoU={thr}`` and ``mIoU``, in percent.
    """
    gt_windows = np.asarray(gt_windows, dtype=np.float64).reshape(-1, 2)
    num = len(gt_windows)
    if num != len(ranked_windows_list):
        raise ValueError(f'charades_recall got {len(ranked_windows_list)} '
                         f'window lists and {num} GT windows.')
    if num == 0:
        raise ValueError('charades_recall got no queries.')
    max_k = max(ks)
    # (N, max_k) IoUs of the ranked windows, 0 where a query has fewer
    ious = np.zeros((num, max_k))
    for i, (windows, gt) in enumerate(zip(ranked_windows_list, gt_windows)):
        windows = np.asarray(windows, dtype=np.float64)
        windows = windows.reshape(-1, windows.shape[-1] if windows.size else 2)
        windows = windows[:max_k, :2]
        ious[i, :len(windows)] = temporal_iou(windows, gt)
    out = {}
    for k in ks:
        for thr in thresholds:
            hits = (ious[:, :k] >= thr).any(axis=1)
            out[f'R@{k},IoU={thr:g}'] = float(hits.mean() * 100)
    out['mIoU'] = float(ious[:, 0].mean() * 100)
    return out


def _pct(value: float) -> float:
    """A fraction as a percent rounded to 2 decimals, as the reference
    formats it."""
    return float(f'{100 * value:.2f}')


def _cross_iou(window: ArrayLike, gt_windows: np.ndarray) -> np.ndarray:
    """moment_detr's cross IoU of one window with ``(M, 2)`` GT windows:
    overlap / (length sum - overlap)."""
    start, end = float(window[0]), float(window[1])
    inter = (np.minimum(end, gt_windows[:, 1]) -
             np.maximum(start, gt_windows[:, 0])).clip(min=0)
    union = (end - start) + (gt_windows[:, 1] - gt_windows[:, 0]) - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        return inter / union


def _interpolated_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the precision envelope of a detection PR curve."""
    precision = np.concatenate([[0], precision, [0]])
    recall = np.concatenate([[0], recall, [1]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.flatnonzero(recall[1:] != recall[:-1]) + 1
    return float(np.sum((recall[idx] - recall[idx - 1]) * precision[idx]))


def _query_mr_ap(pred_windows: Sequence[Sequence[float]],
                 gt_windows: Sequence[Sequence[float]]) -> np.ndarray:
    """AP of one query at each of :data:`QVH_IOU_THRS`.

    The first 10 listed windows are re-ranked by score (stable); each one
    takes the best-IoU GT window not yet matched at that threshold.
    """
    preds = sorted(pred_windows[:QVH_MAX_PRED_WINDOWS], key=lambda w: -w[2])
    num_thrs = len(QVH_IOU_THRS)
    if not preds:
        return np.zeros(num_thrs)
    gts = np.asarray(gt_windows, dtype=np.float64).reshape(-1, 2)
    tp = np.zeros((num_thrs, len(preds)))
    matched = np.zeros((num_thrs, len(gts)), dtype=bool)
    for i, window in enumerate(preds):
        ious = _cross_iou(window, gts)
        # the reference's (unstable) order of decreasing IoU
        order = ious.argsort()[::-1]
        for t, thr in enumerate(QVH_IOU_THRS):
            for j in order:
                if ious[j] < thr:
                    break
                if not matched[t, j]:
                    tp[t, i] = 1
                    matched[t, j] = True
                    break
    tp_cum = np.cumsum(tp, axis=1)
    fp_cum = np.cumsum(1 - tp, axis=1)
    with np.errstate(divide='ignore', invalid='ignore'):
        recall = tp_cum / len(gts)
    precision = tp_cum / (tp_cum + fp_cum)
    return np.array(
        [_interpolated_ap(precision[t], recall[t]) for t in range(num_thrs)])


def _query_mr_top1_iou(pred_windows: Sequence[Sequence[float]],
                       gt_windows: Sequence[Sequence[float]]) -> float:
    """IoU of the first listed window with its best-matching GT window; 0
    when nothing was predicted (the model did not call the task)."""
    if len(pred_windows) == 0:
        return 0.0
    top1 = np.asarray(pred_windows[0][:2], dtype=np.float64)
    gts = np.asarray(gt_windows, dtype=np.float64).reshape(-1, 2)
    best = int(np.argmax(_cross_iou(top1, gts)))
    return float(temporal_iou(top1, gts[best]))


def _select_length_range(submission: Sequence[dict],
                         ground_truth: Sequence[dict],
                         min_len: Optional[float],
                         max_len: Optional[float]) -> tuple:
    """Queries with GT windows of length in ``(min_len, max_len]``, keeping
    only those windows; ``None`` bounds keep everything."""
    if min_len is None:
        return list(submission), list(ground_truth)
    gt_in_range = []
    for row in ground_truth:
        windows = [
            w for w in row['relevant_windows']
            if min_len < w[1] - w[0] <= max_len
        ]
        if windows:
            gt_in_range.append(dict(row, relevant_windows=windows))
    qids = {row['qid'] for row in gt_in_range}
    return [row for row in submission if row['qid'] in qids], gt_in_range


def qvhighlights_moment_retrieval(submission: Sequence[dict],
                                  ground_truth: Sequence[dict]) -> dict:
    """QVHighlights moment retrieval mAP and R1 per GT length subset.

    Args:
        submission (Sequence[dict]): Rows with ``qid`` and
            ``pred_relevant_windows`` ``[[start, end, score], ...]``
            (seconds; R1 takes the first listed one).
        ground_truth (Sequence[dict]): Rows with ``qid`` and
            ``relevant_windows`` ``[[start, end], ...]``; every query of the
            submission must be present.

    Returns:
        dict: For each of ``short`` (GT windows <= 10 s), ``middle``
        (10-30 s), ``long`` (> 30 s) and ``full``: ``MR-mAP`` (``'0.5'`` ...
        ``'0.95'`` and ``average``) and ``MR-R1`` (``'0.5'`` ... ``'0.95'``),
        percents rounded to 2 decimals.
    """
    out = {}
    for name, min_len, max_len in QVH_LENGTH_RANGES:
        sub, gt = _select_length_range(submission, ground_truth, min_len,
                                       max_len)
        if not gt:
            # The reference reports zeros for a length range without GT.
            zeros = {str(thr): 0.0 for thr in QVH_IOU_THRS}
            out[name] = {'MR-mAP': dict(zeros, average=0.0),
                         'MR-R1': dict(zeros)}
            continue
        qid2gt = {row['qid']: row['relevant_windows'] for row in gt}
        aps = np.array([
            _query_mr_ap(row['pred_relevant_windows'], qid2gt[row['qid']])
            for row in sub
        ]).mean(0)
        top1_ious = np.array([
            _query_mr_top1_iou(row['pred_relevant_windows'],
                               qid2gt[row['qid']]) for row in sub
        ])
        mr_map = {str(thr): _pct(ap) for thr, ap in zip(QVH_IOU_THRS, aps)}
        mr_map['average'] = _pct(np.mean(aps))
        mr_r1 = {
            str(thr): _pct(np.mean(top1_ious >= thr))
            for thr in QVH_IOU_THRS
        }
        out[name] = {'MR-mAP': mr_map, 'MR-R1': mr_r1}
    return out


def _gt_saliency(row: dict) -> np.ndarray:
    """``(num_clips, 3)`` annotator scores of every 2-s clip, 0 where not
    relevant."""
    scores = np.zeros((int(row['duration'] / QVH_CLIP_LENGTH), 3))
    scores[np.asarray(row['relevant_clip_ids'], dtype=np.int64)] = np.asarray(
        row['saliency_scores'], dtype=np.float64).reshape(-1, 3)
    return scores


def _saliency_ap(labels: np.ndarray, scores: np.ndarray) -> float:
    """Interpolated AP of clip scores against binary labels (video2gif
    ``get_ap``: mean interpolated precision where recall changes); 0 when no
    clip is positive, 1 when all are."""
    if labels.min() == labels.max():
        return float(labels[0])
    order = np.argsort(scores, kind='mergesort')[::-1]
    sorted_scores, sorted_labels = scores[order], labels[order]
    last = np.concatenate(
        [np.flatnonzero(np.diff(sorted_scores)), [len(sorted_scores) - 1]])
    tps = np.cumsum(sorted_labels)[last]
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    # recall decreasing, closed at (recall 0, precision 1) like sklearn; the
    # reference compares recalls in float32
    precision = np.maximum.accumulate(np.concatenate([precision[::-1], [1]]))
    recall = np.concatenate([recall[::-1], [0]]).astype(np.float32)
    return float(np.mean(precision[np.flatnonzero(np.diff(recall))]))


def qvhighlights_highlight_detection(submission: Sequence[dict],
                                     ground_truth: Sequence[dict]) -> dict:
    """QVHighlights highlight detection HL-mAP and HL-Hit1.

    A clip is positive for an annotator when their score is at least 2
    (Fair), 3 (Good) or 4 (VeryGood). The AP is computed per query and
    annotator, with the predicted saliency zero-padded or cut to the number
    of clips, and averaged. Hit1 counts a hit when the highest-saliency clip
    (the first on ties) is positive for any annotator.

    Args:
        submission (Sequence[dict]): Rows with ``qid`` and
            ``pred_saliency_scores`` (one per 2-s clip).
        ground_truth (Sequence[dict]): Rows with ``qid``, ``duration``,
            ``relevant_clip_ids`` and ``saliency_scores`` (3 per clip).

    Returns:
        dict: ``HL-min-{Fair,Good,VeryGood}`` -> ``HL-mAP`` and ``HL-Hit1``,
        percents rounded to 2 decimals.
    """
    qid2saliency = {row['qid']: _gt_saliency(row) for row in ground_truth}
    out = {}
    for name, min_score in QVH_SALIENCY_LEVELS:
        aps, hits = [], []
        for row in submission:
            labels = (qid2saliency[row['qid']] >= min_score).astype(float)
            pred = np.asarray(row['pred_saliency_scores'], dtype=np.float64)
            top = int(np.argmax(pred))
            hits.append(labels[top].max() if top < len(labels) else 0.0)
            fitted = np.zeros(len(labels))
            fitted[:min(len(pred), len(labels))] = pred[:len(labels)]
            aps.append([_saliency_ap(labels[:, a], fitted) for a in range(3)])
        out[f'HL-min-{name}'] = {
            'HL-mAP': _pct(np.mean(aps)),
            'HL-Hit1': _pct(np.mean(hits))
        }
    return out


def _has_key(rows: Sequence[dict], key: str) -> bool:
    """Whether all rows have ``key``; an error when only some have it."""
    present = [key in row for row in rows]
    if any(present) and not all(present):
        raise ValueError(f'qvhighlights_eval needs {key!r} in all or none '
                         'of the submission rows.')
    return all(present)


def qvhighlights_eval(submission: Sequence[dict],
                      ground_truth: Sequence[dict]) -> Dict[str, dict]:
    """The QVHighlights evaluator: moment retrieval when the submission has
    ``pred_relevant_windows``, highlight detection when it has
    ``pred_saliency_scores``.

    Args:
        submission (Sequence[dict]): Prediction rows, one per query.
        ground_truth (Sequence[dict]): GT rows of the same queries.

    Returns:
        dict: ``brief`` (the headline numbers, sorted by name as the
        reference sorts them) followed by the full results sorted by name.
    """
    if not submission:
        raise ValueError('qvhighlights_eval got an empty submission.')
    pred_qids = [row['qid'] for row in submission]
    if set(pred_qids) != {row['qid'] for row in ground_truth}:
        raise ValueError('qvhighlights_eval needs the submission and the '
                         'ground truth to cover the same queries.')
    if len(set(pred_qids)) != len(pred_qids):
        raise ValueError('qvhighlights_eval got duplicate qids.')
    results, brief = {}, {}
    if _has_key(submission, 'pred_relevant_windows'):
        mr = qvhighlights_moment_retrieval(submission, ground_truth)
        results.update(mr)
        mr_brief = {
            'MR-full-mAP': mr['full']['MR-mAP']['average'],
            'MR-full-mAP@0.5': mr['full']['MR-mAP']['0.5'],
            'MR-full-mAP@0.75': mr['full']['MR-mAP']['0.75'],
            'MR-short-mAP': mr['short']['MR-mAP']['average'],
            'MR-middle-mAP': mr['middle']['MR-mAP']['average'],
            'MR-long-mAP': mr['long']['MR-mAP']['average'],
            'MR-full-R1@0.5': mr['full']['MR-R1']['0.5'],
            'MR-full-R1@0.7': mr['full']['MR-R1']['0.7'],
        }
        brief.update(sorted(mr_brief.items()))
    if _has_key(submission, 'pred_saliency_scores'):
        hl = qvhighlights_highlight_detection(submission, ground_truth)
        results.update(hl)
        for level, values in hl.items():
            for key, value in values.items():
                brief[f'{level}-{key.split("-")[1]}'] = value
    return {'brief': brief, **dict(sorted(results.items()))}
