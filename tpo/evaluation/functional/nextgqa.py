"""NExT-GQA grounded video QA metrics, as the official scripts compute them.

Reference: github.com/doc-doc/NExT-GQA ``code/TempGQA/eval_ground.py``
(grounding, Acc@GQA) and ``code/TempGQA/eval_next.py`` (QA accuracy on the
grounded subset, per question type).

Per question, with ``pred = [s, e]`` the predicted span (seconds) and the
GT segments ``[[s_k, e_k], ...]`` (one question may have several):

* ``get_tIoU(gt, pred)``: when ``s == e`` (a point), IoU = 0 and IoP = 1 if
  ``s_k <= s <= e_k`` else 0. Otherwise, with ``inter = min(e, e_k) -
  max(s, s_k)`` (negative when apart: not clipped), IoU = ``inter /
  (max(e, e_k) - min(s, s_k))`` (0 if that span is not positive) and IoP =
  ``inter / (e - s)`` (0 if ``e <= s``): the intersection over the
  *prediction*.
* The question's IoU and IoP are the maxima over its GT segments, each
  starting from 0 (so a negative value counts as 0; IoU and IoP may come
  from different segments).
* IoP@t / IoU@t: the fraction of questions with ``IoP >= t`` / ``IoU >= t``
  (t = 0.3, 0.5); mIoP / mIoU: the means.
* Acc@GQA: the fraction of questions answered correctly *and* with
  ``IoP >= 0.5``. Acc@QA: the fraction answered correctly.

All values are percents (the scripts print them with 1 decimal; they are
not rounded here). The official scripts leave out a question without a
prediction; here every question counts, and one without a predicted span
(or answer) is a miss.
"""
import re
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import ArrayLike

NEXTGQA_THRESHOLDS = (0.3, 0.5)
# eval_next.py map_name: question type -> reported name; 'TP' counts as 'TN'
NEXTGQA_TYPE_NAMES = {
    'CW': 'Why',
    'CH': 'How',
    'TN': 'Bef&Aft',
    'TC': 'When',
    'DC': 'Cnt',
    'DL': 'Loc',
    'DO': 'Other'
}
NEXTGQA_GROUP_NAMES = {'C': 'Acc_C', 'T': 'Acc_T', 'D': 'Acc_D'}
_OPTION = re.compile(r'\(?\s*([A-Z])\s*(?:\)|$|[\s.,:;])')


def nextgqa_iou_iop(pred: ArrayLike, gt: ArrayLike) -> Tuple[float, float]:
    """IoU and IoP of a predicted span with one GT segment, as
    ``get_tIoU`` computes them (values may be negative when they are apart;
    :func:`nextgqa_grounding` floors the maxima at 0).

    Args:
        pred (ArrayLike): ``[start, end]`` seconds (not reordered).
        gt (ArrayLike): ``[start, end]`` seconds.

    Returns:
        tuple[float, float]: ``(IoU, IoP)``.
    """
    s, e = (float(v) for v in np.asarray(pred, dtype=np.float64)[:2])
    gs, ge = (float(v) for v in np.asarray(gt, dtype=np.float64)[:2])
    if s == e:
        return 0.0, float(gs <= s <= ge)
    inter = min(ge, e) - max(gs, s)
    union = max(ge, e) - min(gs, s)
    iou = inter / union if union > 0 else 0.0
    iop = inter / (e - s) if e > s else 0.0
    return iou, iop


def nextgqa_grounding(pred: Optional[ArrayLike],
                      gt_segments: ArrayLike) -> Tuple[float, float]:
    """The question's IoU and IoP: maxima over its GT segments, from 0.

    Args:
        pred (ArrayLike, optional): ``[start, end]`` seconds; None (no
            prediction) gives ``(0, 0)``.
        gt_segments (ArrayLike): ``(M, 2)`` GT segments, M >= 1.

    Returns:
        tuple[float, float]: ``(IoU, IoP)`` in ``[0, 1]``.
    """
    gt_segments = np.asarray(gt_segments, dtype=np.float64).reshape(-1, 2)
    if len(gt_segments) == 0:
        raise ValueError('nextgqa_grounding got no GT segment.')
    best_iou = best_iop = 0.0
    if pred is None:
        return best_iou, best_iop
    for gt in gt_segments:
        iou, iop = nextgqa_iou_iop(pred, gt)
        best_iou, best_iop = max(best_iou, iou), max(best_iop, iop)
    return best_iou, best_iop


def nextgqa_denormalize(span: ArrayLike, duration: float) -> np.ndarray:
    """A span predicted in ``[0, 1]`` as seconds: ``round(span * duration,
    1)`` (``eval_ground(..., gs=True)``; numpy rounds halves to even)."""
    return np.round(np.asarray(span, dtype=np.float64) * duration, 1)


def nextgqa_parse_option(text: str, num_options: int) -> Optional[int]:
    """The option a generated answer picks, or None.

    The first line of the stripped text is read. It picks option ``X`` when
    it starts with the capital letter ``X`` (optionally after ``'('``)
    followed by ``')'``, a space, punctuation or its end, e.g. ``'B) show
    him the watch'`` (the output after the prompt ``'Best option:('``),
    ``'(B)'``, ``'B.'``, ``'B'``. A letter past the options picks nothing.

    Args:
        text (str): The model output.
        num_options (int): The number of options.

    Returns:
        int | None: The 0-based option index.
    """
    line = text.strip().split('\n')[0].strip()
    match = _OPTION.match(line)
    if match is None:
        return None
    index = ord(match.group(1)) - ord('A')
    return index if index < num_options else None


def nextgqa_eval(pred_spans: Sequence[Optional[ArrayLike]],
                 gt_segments: Sequence[ArrayLike],
                 qa_correct: Sequence[bool],
                 task_types: Optional[Sequence[str]] = None,
                 durations: Optional[Sequence[float]] = None,
                 normalized: bool = False) -> Dict[str, float]:
    """NExT-GQA grounded QA metrics over a set of questions.

    Args:
        pred_spans (Sequence[ArrayLike | None]): Per question the predicted
            ``[start, end]`` (seconds, or ``[0, 1]`` with ``normalized``);
            None when the model gave none.
        gt_segments (Sequence[ArrayLike]): Per question its ``(M, 2)`` GT
            segments in seconds.
        qa_correct (Sequence[bool]): Per question whether the answer is
            right.
        task_types (Sequence[str], optional): Per question its type
            (``CW``, ``CH``, ``TN``, ``TP``, ``TC``, ...); adds the
            accuracy per type as ``eval_next.py`` reports it.
        durations (Sequence[float], optional): Per question the video
            duration (needed with ``normalized``).
        normalized (bool): The spans are fractions of the video, turned into
            seconds by :func:`nextgqa_denormalize`. Defaults to False.

    Returns:
        dict: ``Acc@QA``, ``Acc@GQA``, ``mIoP``, ``IoP@0.3``, ``IoP@0.5``,
        ``mIoU``, ``IoU@0.3``, ``IoU@0.5`` and, with ``task_types``,
        ``Acc@QA/{Why,How,Bef&Aft,When,...,Acc_C,Acc_T,Acc_D}`` for the types
        present; all in percent.
    """
    num = len(pred_spans)
    if not num == len(gt_segments) == len(qa_correct):
        raise ValueError(
            f'nextgqa_eval got {num} predicted spans, {len(gt_segments)} GT '
            f'segment lists and {len(qa_correct)} QA results.')
    if num == 0:
        raise ValueError('nextgqa_eval got no questions.')
    if normalized and (durations is None or len(durations) != num):
        raise ValueError('nextgqa_eval needs one duration per question with '
                         'normalized=True.')
    ious, iops = np.zeros(num), np.zeros(num)
    for i, (span, gts) in enumerate(zip(pred_spans, gt_segments)):
        if span is not None and normalized:
            span = nextgqa_denormalize(span, float(durations[i]))
        ious[i], iops[i] = nextgqa_grounding(span, gts)
    correct = np.asarray(qa_correct, dtype=bool)
    out = {
        'Acc@QA': float(correct.mean() * 100),
        'Acc@GQA': float((correct & (iops >= 0.5)).mean() * 100),
        'mIoP': float(iops.mean() * 100),
    }
    for thr in NEXTGQA_THRESHOLDS:
        out[f'IoP@{thr:g}'] = float((iops >= thr).mean() * 100)
    out['mIoU'] = float(ious.mean() * 100)
    for thr in NEXTGQA_THRESHOLDS:
        out[f'IoU@{thr:g}'] = float((ious >= thr).mean() * 100)
    if task_types is not None:
        out.update(_type_accuracy(correct, task_types))
    return out


def _type_accuracy(correct: np.ndarray,
                   task_types: Sequence[str]) -> Dict[str, float]:
    """``eval_next.py``'s accuracy per type and per type group (the first
    letter), for the types present."""
    if len(task_types) != len(correct):
        raise ValueError(f'nextgqa_eval got {len(task_types)} task types '
                         f'for {len(correct)} questions.')
    counts: Dict[str, list] = {}
    for ok, task_type in zip(correct, task_types):
        task_type = 'TN' if task_type == 'TP' else task_type
        if task_type not in NEXTGQA_TYPE_NAMES:
            raise ValueError(
                f'nextgqa_eval got the unknown question type {task_type!r}; '
                f'known: {sorted(NEXTGQA_TYPE_NAMES)} and TP.')
        for key in (task_type, task_type[0]):
            tally = counts.setdefault(key, [0, 0])
            tally[0] += bool(ok)
            tally[1] += 1
    out = {}
    for key, name in list(NEXTGQA_TYPE_NAMES.items()) + list(
            NEXTGQA_GROUP_NAMES.items()):
        if key in counts:
            hits, total = counts[key]
            out[f'Acc@QA/{name}'] = hits / total * 100
    return out
