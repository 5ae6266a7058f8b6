"""Referring expression comprehension accuracy (RefCOCO, RefCOCO+, RefCOCOg).

Convention (MDETR, torchvision and Qwen-VL ``box_iou``): the highest-scored
predicted box is compared with the ground truth by plain IoU (no ``+1``
pixel), and counts as a hit when ``IoU >= thr``.
"""
from typing import Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike


def box_iou_xyxy(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Plain IoU of ``[x1, y1, x2, y2]`` boxes, broadcast over leading dims.

    Float32 inputs are computed in float32 (as torchvision does), anything
    else in float64. A pair without overlap or with no positive union gets 0.

    Args:
        a (ArrayLike): Boxes of shape ``(..., 4)``.
        b (ArrayLike): Boxes of shape ``(..., 4)``, broadcastable with ``a``.

    Returns:
        np.ndarray: IoU of shape ``broadcast(a, b).shape[:-1]``.
    """
    a, b = np.asarray(a), np.asarray(b)
    dtype = np.result_type(a.dtype, b.dtype, np.float32)
    a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    wh = (np.minimum(a[..., 2:], b[..., 2:]) -
          np.maximum(a[..., :2], b[..., :2])).clip(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def select_top1(boxes: ArrayLike,
                scores: Optional[ArrayLike] = None) -> np.ndarray:
    """The box with the highest score; the first one on ties or without
    scores.

    Args:
        boxes (ArrayLike): ``(K, 4)`` boxes, ``K >= 1``.
        scores (ArrayLike, optional): ``(K,)`` scores.

    Returns:
        np.ndarray: The selected ``(4,)`` box.
    """
    boxes = np.asarray(boxes).reshape(-1, 4)
    if len(boxes) == 0:
        raise ValueError('select_top1 got no boxes.')
    if scores is None:
        return boxes[0]
    scores = np.asarray(scores).reshape(-1)
    if len(scores) != len(boxes):
        raise ValueError(f'select_top1 got {len(boxes)} boxes but '
                         f'{len(scores)} scores.')
    return boxes[int(np.argmax(scores))]


def referring_accuracy(pred_boxes_xyxy_list: Sequence[ArrayLike],
                       pred_scores_list: Optional[Sequence[
                           Optional[ArrayLike]]],
                       gt_boxes_xyxy: ArrayLike,
                       thr: float = 0.5) -> dict:
    """Acc@thr of top-1 predicted boxes against one GT box per sample.

    A sample without predicted boxes is a miss with IoU 0.

    Args:
        pred_boxes_xyxy_list (Sequence[ArrayLike]): Per sample ``(K, 4)``
            predicted boxes, xyxy pixels.
        pred_scores_list (Sequence[ArrayLike | None], optional): Per sample
            ``(K,)`` scores; ``None`` (for all or for one sample) selects the
            first box.
        gt_boxes_xyxy (ArrayLike): ``(N, 4)`` GT boxes, xyxy pixels.
        thr (float): IoU threshold of a hit (``>=``). Defaults to 0.5.

    Returns:
        dict: ``accuracy`` (percent, 0-100), per-sample ``ious`` (float) and
        ``hits`` (bool).
    """
    gt_boxes = np.asarray(gt_boxes_xyxy).reshape(-1, 4)
    num = len(gt_boxes)
    if pred_scores_list is None:
        pred_scores_list = [None] * num
    if not num == len(pred_boxes_xyxy_list) == len(pred_scores_list):
        raise ValueError(
            f'referring_accuracy got {len(pred_boxes_xyxy_list)} box lists, '
            f'{len(pred_scores_list)} score lists and {num} GT boxes.')
    if num == 0:
        raise ValueError('referring_accuracy got no samples.')
    ious = []
    for boxes, scores, gt in zip(pred_boxes_xyxy_list, pred_scores_list,
                                 gt_boxes):
        if np.size(boxes) == 0:
            ious.append(0.0)
        else:
            ious.append(float(box_iou_xyxy(select_top1(boxes, scores), gt)))
    hits = [iou >= thr for iou in ious]
    return dict(accuracy=sum(hits) / num * 100, ious=ious, hits=hits)
