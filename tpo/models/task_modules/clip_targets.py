"""Clip-level targets of the temporal heads: a sample's annotations as
saliency levels and hinge pairs on the head's clips, and the head's per-clip
saliency back on the clips of an evaluation."""
import math
from typing import Optional

import numpy as np
import torch

from tpo.structures import TPODataSample


def sample_duration(sample: TPODataSample) -> float:
    """The positive duration (s) of a temporal sample."""
    duration = sample.get('duration')
    if duration is None or not float(duration) > 0:
        raise ValueError(
            f'a temporal sample needs a positive duration (s), got '
            f'{duration!r} for {sample.get("video_path")}')
    return float(duration)


def gt_windows(sample: TPODataSample) -> torch.Tensor:
    """``(K, 2)`` GT windows in seconds (``gt_windows``, packed from
    ``relevant_windows``); empty when the sample has none."""
    windows = sample.get('gt_windows')
    if windows is None:
        windows = sample.get('relevant_windows')
    if windows is None:
        return torch.zeros(0, 2)
    if torch.is_tensor(windows):
        return windows.detach().float().cpu().reshape(-1, 2)
    return torch.as_tensor(np.asarray(windows, dtype=np.float32)).reshape(
        -1, 2)


class ClipTargets:
    """Clip-level saliency targets of one sample.

    Attributes:
        labels: ``(L,)`` saliency level per clip (0 = not relevant).
        pos, neg: ``(P,)`` clip indices of the hinge pairs (empty without
            GT).
    """

    def __init__(self, labels: torch.Tensor, pos: torch.Tensor,
                 neg: torch.Tensor) -> None:
        self.labels, self.pos, self.neg = labels, pos, neg


def _choice(pool: torch.Tensor, k: int) -> torch.Tensor:
    return pool[torch.randperm(len(pool))[:k]]


def clip_targets(sample: TPODataSample, num_clips: int, clip_length: float,
                 gt_clip_length: float = 2.0) -> ClipTargets:
    """Saliency targets on the head's clips, as CG-DETR builds them.

    * With ``relevant_clip_ids`` and ``saliency_scores`` (QVHighlights,
      clips of ``gt_clip_length`` s): a clip's level is the sum of the
      annotators' scores of the GT clip at its center (0-12). Pairs: the
      highest- and lowest-scored relevant clips, plus a random relevant
      clip and a random irrelevant one (the hard pair is reused when every
      clip is relevant).
    * Otherwise, from the first GT window (Charades-style, clips of
      ``duration / num_clips`` s): its clips are level 1; two random clips
      inside it (the start clip twice for a one-clip window) against two
      random clips outside (the positives are reused when fewer than two
      are outside).
    * Without GT: no relevant clip and no pairs.
    """
    labels = torch.zeros(num_clips)
    empty = torch.zeros(0, dtype=torch.long)
    ids, scores = sample.get('relevant_clip_ids'), sample.get(
        'saliency_scores')
    windows = gt_windows(sample)
    if ids is not None and scores is not None and len(ids):
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        agg = np.asarray(scores, dtype=np.float32).reshape(len(ids),
                                                           -1).sum(1)
        dense = np.zeros(int(ids.max()) + 1, dtype=np.float32)
        dense[ids] = agg
        centers = (np.arange(num_clips) + 0.5) * clip_length
        src = np.floor(centers / gt_clip_length).astype(np.int64)
        inside = src < len(dense)
        labels[torch.from_numpy(inside)] = torch.from_numpy(
            dense[src[inside]])
        relevant = torch.nonzero(labels > 0).flatten()
        if len(relevant) == 0:
            return ClipTargets(labels, empty, empty)
        order = relevant[torch.argsort(labels[relevant], stable=True)]
        hard_pos, hard_neg = order[-1:], order[:1]
        irrelevant = torch.nonzero(labels == 0).flatten()
        if len(irrelevant):
            pos = torch.cat([hard_pos, _choice(relevant, 1)])
            neg = torch.cat([hard_neg, _choice(irrelevant, 1)])
        else:
            pos, neg = hard_pos.repeat(2), hard_neg.repeat(2)
        return ClipTargets(labels, pos, neg)
    if len(windows) == 0:
        return ClipTargets(labels, empty, empty)
    # as CG-DETR, window clips are the duration split evenly over the clips
    window_clip = sample_duration(sample) / num_clips
    start, end = windows[0].tolist()
    first = int(start / window_clip)
    last = max(0, min(int(end / window_clip), num_clips) - 1)
    first = min(first, last)
    labels[first:last + 1] = 1
    if first != last:
        pos = _choice(torch.arange(first, last + 1), 2)
    else:
        pos = torch.tensor([first, first])
    outside = torch.cat(
        [torch.arange(0, first),
         torch.arange(last + 1, num_clips)])
    neg = _choice(outside, 2) if len(outside) >= 2 else pos.clone()
    return ClipTargets(labels, pos, neg)


def saliency_to_clips(saliency: torch.Tensor, clip_length: float,
                      duration: float,
                      out_clip_length: Optional[float]) -> torch.Tensor:
    """Per-clip saliency of the head -> one score per ``out_clip_length``
    clip of the video (the score of the head's clip at each output clip's
    center); unchanged when ``out_clip_length`` is None or equal."""
    if out_clip_length is None or math.isclose(clip_length,
                                               out_clip_length):
        return saliency
    num = max(1, math.ceil(duration / out_clip_length - 1e-6))
    centers = (torch.arange(num, dtype=torch.float64) + 0.5) * \
        out_clip_length
    idx = (centers / clip_length).floor().long().clamp(0, len(saliency) - 1)
    return saliency[idx.to(saliency.device)]
