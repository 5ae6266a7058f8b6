"""Task structures as text and back: the textualized-task (P2S) baseline.

The paper (Table 11, "textualized task data") compares TPO with teaching the
same tasks as plain conversation text. Following Merlin, a box is written as
normalised coordinates and a mask or a track as one box per frame:

==========================  ============================================
structure                   text
==========================  ============================================
box (xyxy pixels)           ``[0.12,0.34,0.56,0.78]`` (``x1,y1,x2,y2`` / W, H)
boxes, one per frame        ``[0.12,0.34,0.56,0.78],[],[0.15,...]``
                            (``[]``: the object is absent in that frame)
windows (seconds)           ``[2.0,6.0],[8.0,10.0]``
==========================  ============================================

Numbers have fixed decimals (:data:`BOX_DECIMALS`, :data:`TIME_DECIMALS`).
Decoding ignores whitespace (word-level tokenizers decode ``[ 0. 1 2 ]``) and
the words around the brackets; a text whose brackets do not hold what the
structure needs raises :class:`MalformedAnswerError`, which an evaluation
counts as a miss (see :class:`tpo.evaluation.TextAnswerMetric`).
"""
import re
from typing import List, Optional, Sequence

import numpy as np

#: Decimals of a normalised box coordinate (0.01 of the frame size).
BOX_DECIMALS = 2
#: Decimals of a timestamp in seconds.
TIME_DECIMALS = 1

_GROUP = re.compile(r'\[([^\[\]]*)\]')
_NUMBER = re.compile(r'^-?\d+(\.\d+)?$')


class MalformedAnswerError(ValueError):
    """A text answer that does not hold the structure it should."""


def _check_size(img_w: float, img_h: float) -> None:
    if not (img_w > 0 and img_h > 0):
        raise ValueError(f'img_w and img_h must be > 0, got {img_w}, {img_h}.')


def _numbers(group: str, text: str) -> List[float]:
    """The comma-separated numbers of one bracket group."""
    fields = group.split(',')
    if not all(_NUMBER.match(f) for f in fields):
        raise MalformedAnswerError(
            f'[{group}] in {text!r} is not a list of numbers.')
    return [float(f) for f in fields]


def _groups(text: str) -> List[str]:
    """The bracket groups of ``text``, whitespace removed; at least one."""
    compact = re.sub(r'\s+', '', text)
    groups = _GROUP.findall(compact)
    if not groups:
        raise MalformedAnswerError(f'no [...] group in {text!r}.')
    return groups


def box_to_text(box_xyxy: Sequence[float], img_w: float,
                img_h: float) -> str:
    """``'[x1,y1,x2,y2]'``: a pixel box normalised by the frame size,
    clipped to ``[0, 1]``, with :data:`BOX_DECIMALS` decimals."""
    _check_size(img_w, img_h)
    box = np.asarray(box_xyxy, dtype=np.float64).reshape(-1)
    if box.shape != (4, ) or not np.isfinite(box).all():
        raise ValueError(f'box_xyxy must be 4 finite numbers, got '
                         f'{list(box_xyxy)}.')
    norm = np.clip(box / [img_w, img_h, img_w, img_h], 0.0, 1.0)
    return '[' + ','.join(f'{v:.{BOX_DECIMALS}f}' for v in norm) + ']'


def _group_to_box(group: str, text: str, img_w: float,
                  img_h: float) -> List[float]:
    values = _numbers(group, text)
    if len(values) != 4:
        raise MalformedAnswerError(
            f'[{group}] in {text!r} has {len(values)} numbers, a box has 4.')
    x1, y1, x2, y2 = values
    if not (0 <= x1 <= x2 <= 1 and 0 <= y1 <= y2 <= 1):
        raise MalformedAnswerError(
            f'[{group}] in {text!r} is not a box x1 <= x2, y1 <= y2 within '
            '[0, 1].')
    return [x1 * img_w, y1 * img_h, x2 * img_w, y2 * img_h]


def text_to_boxes(text: str, img_w: float, img_h: float) -> List[list]:
    """Every ``[x1,y1,x2,y2]`` of ``text`` as xyxy pixel boxes.

    Raises:
        MalformedAnswerError: no bracket group, or a group that is not four
            normalised coordinates of an ordered box.
    """
    _check_size(img_w, img_h)
    return [_group_to_box(g, text, img_w, img_h) for g in _groups(text)]


def box_sequence_to_text(boxes: Sequence[Optional[Sequence[float]]],
                         img_w: float, img_h: float) -> str:
    """One box per frame (Merlin's textualized masks and tracks):
    ``'[...],[],[...]'``, ``[]`` where the box is None (absent)."""
    if len(boxes) == 0:
        raise ValueError('a box sequence needs at least one frame.')
    return ','.join('[]' if box is None else box_to_text(box, img_w, img_h)
                    for box in boxes)


def text_to_box_sequence(text: str, img_w: float, img_h: float,
                         num_frames: int) -> List[Optional[list]]:
    """The ``num_frames`` per-frame boxes of ``text`` (None: absent).

    Raises:
        MalformedAnswerError: not exactly ``num_frames`` groups, or a group
            that is neither ``[]`` nor a box.
    """
    _check_size(img_w, img_h)
    groups = _groups(text)
    if len(groups) != num_frames:
        raise MalformedAnswerError(
            f'{text!r} has {len(groups)} boxes, expected one per frame '
            f'({num_frames}).')
    return [
        None if g == '' else _group_to_box(g, text, img_w, img_h)
        for g in groups
    ]


def windows_to_text(windows: Sequence[Sequence[float]]) -> str:
    """``'[s,e],[s,e]'`` in seconds with :data:`TIME_DECIMALS` decimals."""
    windows = np.asarray(windows, dtype=np.float64).reshape(-1, 2) \
        if len(windows) else np.zeros((0, 2))
    if len(windows) == 0 or not np.isfinite(windows).all() or (
            windows[:, 0] > windows[:, 1]).any() or (windows < 0).any():
        raise ValueError('windows must be a non-empty list of [start, end] '
                         f'seconds with 0 <= start <= end, got {windows}.')
    return ','.join(f'[{s:.{TIME_DECIMALS}f},{e:.{TIME_DECIMALS}f}]'
                    for s, e in windows)


def text_to_windows(text: str) -> List[list]:
    """Every ``[start,end]`` of ``text`` in seconds.

    Raises:
        MalformedAnswerError: no bracket group, or a group that is not two
            numbers ``0 <= start <= end``.
    """
    windows = []
    for group in _groups(text):
        values = _numbers(group, text)
        if len(values) != 2 or not 0 <= values[0] <= values[1]:
            raise MalformedAnswerError(
                f'[{group}] in {text!r} is not a window [start,end] with '
                '0 <= start <= end.')
        windows.append(values)
    return windows


def mask_to_box(mask: np.ndarray) -> Optional[List[float]]:
    """The tight xyxy pixel box of a ``(H, W)`` mask (pixel edges: a
    single pixel at ``(x, y)`` is ``[x, y, x + 1, y + 1]``); None when
    empty."""
    ys, xs = np.nonzero(np.asarray(mask))
    if len(xs) == 0:
        return None
    return [float(xs.min()), float(ys.min()),
            float(xs.max() + 1), float(ys.max() + 1)]


def boxes_to_masks(boxes: Sequence[Optional[Sequence[float]]], height: int,
                   width: int) -> np.ndarray:
    """``(T, H, W)`` bool masks filling each box (empty where None), the
    inverse of :func:`mask_to_box` up to the box's shape."""
    masks = np.zeros((len(boxes), height, width), dtype=bool)
    for t, box in enumerate(boxes):
        if box is None:
            continue
        x1, y1, x2, y2 = box
        masks[t,
              int(np.clip(np.floor(y1), 0, height)):
              int(np.clip(np.ceil(y2), 0, height)),
              int(np.clip(np.floor(x1), 0, width)):
              int(np.clip(np.ceil(x2), 0, width))] = True
    return masks
