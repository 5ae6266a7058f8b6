"""Single-object tracking scores: LaSOT (official MATLAB toolkit) and GOT-10k
(got10k-toolkit ``ExperimentGOT10k``). Boxes are ``[x, y, w, h]`` pixels.

LaSOT convention: IoU with inclusive pixels (``+1``); frame 0 is replaced by
the GT; a prediction with non-positive size (or all NaN) is replaced by the
previous frame's; absent frames never count but stay in the denominator;
success uses ``IoU > t`` over 21 thresholds and AUC is the curve's mean;
precision uses centre error ``<= t`` px (score at 20 px), normalized
precision the same on centres each divided by the GT size before they are
subtracted (score at 0.20); a prediction longer than the GT is cut to the
GT's length (``calcSeqErrRobust``); a
visible GT box with a coordinate ``<= 0`` scores IoU -1 (a success miss) and
centre error -1 (a precision hit); sequences with an all-zero curve are left
out of that curve's average.

GOT-10k convention: frame 0 and absent frames excluded, boxes clipped to the
image, continuous IoU, AO and SR over all frames pooled, ``IoU > thr``.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
from numpy.typing import ArrayLike

LASOT_OVERLAP_THRS = np.arange(21) * 0.05
LASOT_ERROR_THRS = np.arange(51, dtype=np.float64)
LASOT_NORM_ERROR_THRS = np.arange(51) * 0.01


def _as_boxes(boxes: ArrayLike, name: str) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'{name} must be (T, 4) xywh boxes, got shape '
                         f'{boxes.shape}.')
    return boxes


def _repair_lasot_pred(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Replace invalid predictions by the previous frame's, then frame 0 by
    the GT (in this order, as the toolkit does)."""
    pred = pred.copy()
    for i in range(1, len(pred)):
        box = pred[i]
        invalid = np.isnan(box) | (box[2] <= 0) | (box[3] <= 0)
        if invalid.all() and not np.isnan(gt[i]).any():
            pred[i] = pred[i - 1]
    pred[0] = gt[0]
    return pred


def lasot_sequence_curves(
        pred: ArrayLike,
        gt: ArrayLike,
        absent: Optional[ArrayLike] = None) -> Tuple[np.ndarray, ...]:
    """Per-sequence LaSOT curves.

    Args:
        pred (ArrayLike): ``(T', 4)`` predicted xywh boxes, ``T' >= T``
            (rows past ``T`` are ignored, as the toolkit does).
        gt (ArrayLike): ``(T, 4)`` GT xywh boxes.
        absent (ArrayLike, optional): ``(T,)`` 0/1 absence flags; None means
            always visible.

    Returns:
        tuple[np.ndarray]: The success (21), precision (51) and normalized
        precision (51) curves, fractions of all ``T`` frames.
    """
    gt = _as_boxes(gt, 'gt')
    pred = _as_boxes(pred, 'pred')
    if len(pred) < len(gt) or len(gt) == 0:
        raise ValueError(f'lasot_sequence_curves got {len(pred)} predicted '
                         f'and {len(gt)} GT boxes.')
    pred = pred[:len(gt)]  # the toolkit cuts longer results to the GT
    visible = np.ones(len(gt), dtype=bool) if absent is None else \
        np.asarray(absent).reshape(-1) == 0
    if len(visible) != len(gt):
        raise ValueError(f'lasot_sequence_curves got {len(visible)} absence '
                         f'flags for {len(gt)} frames.')
    pred = _repair_lasot_pred(pred, gt)
    gt_ok = (gt > 0).all(axis=1)

    lt = np.maximum(pred[:, :2], gt[:, :2])
    rb = np.minimum(pred[:, :2] + pred[:, 2:], gt[:, :2] + gt[:, 2:]) - 1
    inter = np.prod(np.maximum(0, rb - lt + 1), axis=1)
    union = np.prod(pred[:, 2:], axis=1) + np.prod(gt[:, 2:], axis=1) - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        overlap = np.where(gt_ok, inter / union, -1)
    centre_pred = pred[:, :2] + (pred[:, 2:] - 1) / 2
    centre_gt = gt[:, :2] + (gt[:, 2:] - 1) / 2
    with np.errstate(divide='ignore', invalid='ignore'):
        error = np.where(gt_ok,
                         np.linalg.norm(centre_pred - centre_gt, axis=1), -1)
        # The toolkit normalises each centre first, then subtracts: at a
        # threshold tie the rounding differs from (pred - gt) / size.
        norm_error = np.where(
            gt_ok,
            np.linalg.norm(centre_pred / gt[:, 2:] - centre_gt / gt[:, 2:],
                           axis=1), -1)

    num = len(gt)
    overlap, error, norm_error = (overlap[visible], error[visible],
                                  norm_error[visible])
    success = (overlap[:, None] > LASOT_OVERLAP_THRS).sum(0)
    precision = (error[:, None] <= LASOT_ERROR_THRS).sum(0)
    norm_precision = (norm_error[:, None] <= LASOT_NORM_ERROR_THRS).sum(0)
    return success / num, precision / num, norm_precision / num


def _mean_nonzero_curves(curves: Sequence[np.ndarray]) -> np.ndarray:
    """Mean of the curves that are not all zero (NaN when none is left)."""
    kept = [c for c in curves if c.sum() > np.finfo(float).eps]
    if not kept:
        return np.full(len(curves[0]), np.nan)
    return np.mean(kept, axis=0)


def lasot_eval(sequences: Sequence[dict]) -> dict:
    """LaSOT success AUC, precision at 20 px and normalized precision at 0.20
    (official MATLAB toolkit).

    Args:
        sequences (Sequence[dict]): Per sequence ``pred`` and ``gt``
            ``(T, 4)`` xywh boxes and optional ``absent`` ``(T,)`` 0/1 flags.

    Returns:
        dict: ``success_auc``, ``precision``, ``norm_precision`` (fractions;
        NaN when every sequence's curve is all zero), the averaged
        ``success_curve``, ``precision_curve``, ``norm_precision_curve`` and
        ``per_seq``, a list of per-sequence curve dicts with the same keys.
    """
    if not sequences:
        raise ValueError('lasot_eval got no sequences.')
    per_seq = []
    for seq in sequences:
        success, precision, norm_precision = lasot_sequence_curves(
            seq['pred'], seq['gt'], seq.get('absent'))
        per_seq.append(
            dict(
                success_curve=success,
                precision_curve=precision,
                norm_precision_curve=norm_precision))
    out = {
        key: _mean_nonzero_curves([s[key] for s in per_seq])
        for key in per_seq[0]
    }
    out.update(
        success_auc=float(np.mean(out['success_curve'])),
        precision=float(out['precision_curve'][20]),
        norm_precision=float(out['norm_precision_curve'][20]),
        per_seq=per_seq)
    return out


def _clip_to_image(boxes: np.ndarray, width: float,
                   height: float) -> np.ndarray:
    """Clip xywh boxes to ``[0, width] x [0, height]`` as got10k-toolkit."""
    boxes = boxes.copy()
    boxes[:, 0] = np.clip(boxes[:, 0], 0, width)
    boxes[:, 1] = np.clip(boxes[:, 1], 0, height)
    boxes[:, 2] = np.clip(boxes[:, 2], 0, width - boxes[:, 0])
    boxes[:, 3] = np.clip(boxes[:, 3], 0, height - boxes[:, 1])
    return boxes


def got10k_iou(pred: ArrayLike,
               gt: ArrayLike,
               image_size: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """Continuous IoU of xywh boxes, optionally clipped to the image first.

    Args:
        pred (ArrayLike): ``(T, 4)`` predicted xywh boxes.
        gt (ArrayLike): ``(T, 4)`` GT xywh boxes.
        image_size (tuple[float, float], optional): ``(width, height)``.

    Returns:
        np.ndarray: ``(T,)`` IoU in ``[0, 1]``.
    """
    pred, gt = _as_boxes(pred, 'pred'), _as_boxes(gt, 'gt')
    if pred.shape != gt.shape:
        raise ValueError(f'got10k_iou got {len(pred)} predicted and '
                         f'{len(gt)} GT boxes.')
    if image_size is not None:
        pred = _clip_to_image(pred, *image_size)
        gt = _clip_to_image(gt, *image_size)
    lt = np.maximum(pred[:, :2], gt[:, :2])
    rb = np.minimum(pred[:, :2] + pred[:, 2:], gt[:, :2] + gt[:, 2:])
    inter = np.prod(np.maximum(rb - lt, 0), axis=1)
    union = np.prod(pred[:, 2:], axis=1) + np.prod(gt[:, 2:], axis=1) - inter
    return np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)


def got10k_eval(sequences: Sequence[dict],
                image_sizes: Sequence[Tuple[float, float]]) -> dict:
    """GOT-10k AO and success rates over all frames pooled.

    Args:
        sequences (Sequence[dict]): Per sequence ``pred`` and ``gt``
            ``(T, 4)`` xywh boxes and optional ``absent`` ``(T,)`` 0/1 flags.
        image_sizes (Sequence[tuple]): Per sequence ``(width, height)``.

    Returns:
        dict: ``ao``, ``sr50``, ``sr75`` (fractions), the 101-threshold
        ``success_curve`` and per-sequence ``ious`` of the scored frames.
    """
    if len(sequences) != len(image_sizes):
        raise ValueError(f'got10k_eval got {len(sequences)} sequences and '
                         f'{len(image_sizes)} image sizes.')
    per_seq = []
    for seq, size in zip(sequences, image_sizes):
        ious = got10k_iou(seq['pred'], seq['gt'], size)
        absent = seq.get('absent')
        visible = np.ones(len(ious), dtype=bool) if absent is None else \
            np.asarray(absent).reshape(-1) == 0
        per_seq.append(ious[1:][visible[1:]])
    ious = np.concatenate(per_seq)
    if len(ious) == 0:
        raise ValueError('got10k_eval got no visible frame after frame 0.')
    curve = (ious[:, None] > np.linspace(0, 1, 101)).mean(0)
    return dict(
        ao=float(ious.mean()),
        sr50=float((ious > 0.5).mean()),
        sr75=float((ious > 0.75).mean()),
        success_curve=curve,
        ious=per_seq)
