"""Region similarity J and boundary F-measure for video object segmentation
(DAVIS-2017 evaluation code; the MeViS and Ref-YouTube-VOS evaluators use an
identical copy).

Conventions reproduced from the reference: J is 1 when both masks are
empty; a boundary pixel is one whose right, lower or lower-right neighbour
differs (the last row compares only with its right neighbour, the last column
only with its lower one, and the bottom-right pixel is never a boundary);
boundaries match within a disk of radius ``ceil(bound_th * diagonal)``
pixels; an empty boundary gives precision (or recall) 1.
"""
from typing import Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike


def rle_decode(h: int, w: int, rle: Sequence[int]) -> np.ndarray:
    """Decode run lengths alternating 0 and 1 (starting with 0s) over the
    row-major mask.

    Args:
        h (int): Mask height.
        w (int): Mask width.
        rle (Sequence[int]): Run lengths ``[n0, n1, n0, ...]``; the first
            run may be empty.

    Returns:
        np.ndarray: ``(h, w)`` bool mask.
    """
    rle = np.asarray(rle, dtype=np.int64)
    if rle.sum() != h * w:
        raise ValueError(f'rle_decode got runs summing to {rle.sum()} for a '
                         f'{h}x{w} mask.')
    values = np.arange(len(rle)) % 2 == 1
    return np.repeat(values, rle).reshape(h, w)


def region_similarity_j(pred: ArrayLike, gt: ArrayLike) -> np.ndarray:
    """IoU of binary masks over the last two dims; 1 where both are empty.

    Args:
        pred (ArrayLike): ``(..., H, W)`` predicted masks.
        gt (ArrayLike): ``(..., H, W)`` GT masks of the same shape.

    Returns:
        np.ndarray: J of shape ``pred.shape[:-2]`` (float64).
    """
    pred, gt = np.asarray(pred).astype(bool), np.asarray(gt).astype(bool)
    if pred.shape != gt.shape:
        raise ValueError(f'region_similarity_j got shapes {pred.shape} and '
                         f'{gt.shape}.')
    inter = (pred & gt).sum(axis=(-2, -1))
    union = (pred | gt).sum(axis=(-2, -1))
    return np.divide(
        inter, union, out=np.ones(union.shape), where=union > 0)


def _boundary_map(mask: np.ndarray) -> np.ndarray:
    """Pixels whose right, lower or lower-right neighbour differs."""
    east = np.zeros_like(mask)
    south = np.zeros_like(mask)
    south_east = np.zeros_like(mask)
    east[:, :-1] = mask[:, 1:]
    south[:-1, :] = mask[1:, :]
    south_east[:-1, :-1] = mask[1:, 1:]
    bmap = (mask ^ east) | (mask ^ south) | (mask ^ south_east)
    bmap[-1, :] = mask[-1, :] ^ east[-1, :]
    bmap[:, -1] = mask[:, -1] ^ south[:, -1]
    bmap[-1, -1] = False
    return bmap


def _disk(radius: int) -> np.ndarray:
    """``uint8`` disk of pixels with ``x^2 + y^2 <= radius^2``."""
    offsets = np.arange(-radius, radius + 1)
    return (offsets[:, None]**2 + offsets[None, :]**2 <=
            radius**2).astype(np.uint8)


def boundary_f_measure(pred: ArrayLike,
                       gt: ArrayLike,
                       bound_th: float = 0.008) -> float:
    """DAVIS boundary F-measure of one frame.

    Args:
        pred (ArrayLike): ``(H, W)`` predicted mask.
        gt (ArrayLike): ``(H, W)`` GT mask.
        bound_th (float): Tolerance; a fraction of the image diagonal when
            below 1 (rounded up to whole pixels), else pixels. Defaults to
            0.008.

    Returns:
        float: F in ``[0, 1]``.
    """
    pred, gt = np.asarray(pred).astype(bool), np.asarray(gt).astype(bool)
    if pred.ndim != 2 or pred.shape != gt.shape:
        raise ValueError('boundary_f_measure needs two (H, W) masks, got '
                         f'{pred.shape} and {gt.shape}.')
    bound_pix = bound_th if bound_th >= 1 else np.ceil(
        bound_th * np.linalg.norm(pred.shape))
    disk = _disk(int(bound_pix))
    pred_b, gt_b = _boundary_map(pred), _boundary_map(gt)
    pred_dil = cv2.dilate(pred_b.astype(np.uint8), disk).astype(bool)
    gt_dil = cv2.dilate(gt_b.astype(np.uint8), disk).astype(bool)
    n_pred, n_gt = int(pred_b.sum()), int(gt_b.sum())
    if n_pred == 0 or n_gt == 0:
        precision = float(n_pred == 0)
        recall = float(n_gt == 0)
    else:
        precision = (pred_b & gt_dil).sum() / n_pred
        recall = (gt_b & pred_dil).sum() / n_gt
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


def davis_statistics(per_frame_values: ArrayLike) -> dict:
    """DAVIS mean, recall and decay of per-frame J or F (NaNs ignored).

    Decay is the mean of the first minus that of the last of four
    overlapping frame bins, split as in the DAVIS code.

    Args:
        per_frame_values (ArrayLike): ``(T,)`` per-frame values.

    Returns:
        dict: ``mean``, ``recall`` (fraction of frames > 0.5) and ``decay``.
    """
    values = np.asarray(per_frame_values, dtype=np.float64).reshape(-1)
    # the reference casts the bin edges to uint8; int64 avoids its wrap-around
    # beyond 255 frames and is identical otherwise
    ids = (np.round(np.linspace(1, len(values), 5) + 1e-10) - 1).astype(
        np.int64)
    bins = [values[ids[i]:ids[i + 1] + 1] for i in range(4)]
    return dict(
        mean=float(np.nanmean(values)),
        recall=float(np.nanmean(values > 0.5)),
        decay=float(np.nanmean(bins[0]) - np.nanmean(bins[3])))


def mevis_j_and_f(per_expression_frame_j: Sequence[ArrayLike],
                  per_expression_frame_f: Sequence[ArrayLike]) -> dict:
    """MeViS dataset J, F and J&F from per-expression per-frame values.

    Each expression is first averaged over its frames; J and F are the means
    over expressions and ``J&F = (J + F) / 2``.

    Args:
        per_expression_frame_j (Sequence[ArrayLike]): Per expression, the
            ``(T,)`` per-frame J.
        per_expression_frame_f (Sequence[ArrayLike]): Per expression, the
            ``(T,)`` per-frame F.

    Returns:
        dict: ``J``, ``F`` and ``J&F`` as fractions in ``[0, 1]``.
    """
    if len(per_expression_frame_j) != len(per_expression_frame_f):
        raise ValueError(
            f'mevis_j_and_f got {len(per_expression_frame_j)} J and '
            f'{len(per_expression_frame_f)} F expressions.')
    if not per_expression_frame_j:
        raise ValueError('mevis_j_and_f got no expressions.')
    j = float(np.mean([np.mean(v) for v in per_expression_frame_j]))
    f = float(np.mean([np.mean(v) for v in per_expression_frame_f]))
    return {'J': j, 'F': f, 'J&F': (j + f) / 2}
