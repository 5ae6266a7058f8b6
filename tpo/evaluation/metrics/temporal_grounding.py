"""Temporal grounding metrics: QVHighlights moment retrieval / highlight
detection and Charades-STA recall."""
from typing import Sequence

import numpy as np

from tpo.registry import METRICS
from tpo.utils import describe_sample
from ..functional import charades_recall, qvhighlights_eval
from .utils import TaskMetric, require_key, to_numpy


def _gt_windows(sample: dict, metric: TaskMetric) -> np.ndarray:
    """The non-empty ``(M, 2)`` GT windows of a sample."""
    windows = to_numpy(require_key(sample, 'gt_windows', metric))
    windows = windows.astype(np.float64).reshape(-1, 2)
    if len(windows) == 0:
        raise ValueError(f'{type(metric).__name__} got empty gt_windows in '
                         f'{describe_sample(sample)}.')
    return windows


@METRICS.register_module()
class MomentRetrievalMetric(TaskMetric):
    """QVHighlights moment retrieval (mAP, R1) and highlight detection
    (HL-mAP, HL-Hit1), as the official evaluator computes them.

    Data sample keys: ``qid``, ``pred_windows`` ``(K, 3)``
    ``[start, end, score]`` seconds (R1 takes the first row; mAP re-ranks
    the first 10 by score), optional ``pred_saliency`` (one score per 2-s
    clip; highlight detection is reported when every sample has it),
    ``gt_windows`` ``(M, 2)`` seconds, ``duration`` seconds,
    ``relevant_clip_ids`` and ``saliency_scores`` (3 annotator scores per
    relevant clip).

    Reports the evaluator's ``brief`` numbers (e.g. ``MR-full-mAP``,
    ``MR-full-R1@0.5``, ``HL-min-VeryGood-mAP``), percents rounded to 2
    decimals.

    Args:
        **kwargs: ``tasks``, ``collect_device``, ``prefix``,
            ``collect_dir`` of :class:`TaskMetric`.
    """
    default_prefix = 'qvhighlights'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each sample as a submission row and a ground-truth row."""
        for sample in self.selected(data_samples):
            qid = require_key(sample, 'qid', self)
            windows = to_numpy(require_key(sample, 'pred_windows', self))
            pred = dict(
                qid=qid,
                pred_relevant_windows=windows.astype(np.float64).reshape(
                    -1, 3).tolist())
            if sample.get('pred_saliency') is not None:
                pred['pred_saliency_scores'] = to_numpy(
                    sample['pred_saliency']).astype(np.float64).tolist()
            gt = dict(
                qid=qid,
                duration=float(require_key(sample, 'duration', self)),
                relevant_windows=_gt_windows(sample, self).tolist(),
                relevant_clip_ids=to_numpy(
                    require_key(sample, 'relevant_clip_ids',
                                self)).astype(np.int64).tolist(),
                saliency_scores=to_numpy(
                    require_key(sample, 'saliency_scores',
                                self)).astype(np.float64).tolist())
            self.results.append(dict(pred=pred, gt=gt))

    def compute_metrics(self, results: list) -> dict:
        """The brief QVHighlights numbers."""
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty?')
        return dict(
            qvhighlights_eval([r['pred'] for r in results],
                              [r['gt'] for r in results])['brief'])


@METRICS.register_module()
class TemporalGroundingRecall(TaskMetric):
    """Charades-STA R@k at IoU thresholds (hit when ``IoU >= thr``, no NMS)
    and the mean IoU of the top-1 window.

    Data sample keys: ``pred_windows`` ``(K, 2)`` or ``(K, 3)`` seconds,
    ranked best first (``K = 0`` is a miss), and ``gt_windows`` ``(>=1, 2)``
    seconds (the first is used).

    Reports ``R@{k},IoU={thr}`` and ``mIoU`` in percent.

    Args:
        ks (Sequence[int]): Ranks of the recall. Defaults to ``(1, 5)``.
        thresholds (Sequence[float]): IoU thresholds. Defaults to
            ``(0.3, 0.5, 0.7)``.
        **kwargs: ``tasks``, ``collect_device``, ``prefix``,
            ``collect_dir`` of :class:`TaskMetric`.
    """
    default_prefix = 'charades'

    def __init__(self,
                 ks: Sequence[int] = (1, 5),
                 thresholds: Sequence[float] = (0.3, 0.5, 0.7),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.ks = tuple(ks)
        self.thresholds = tuple(thresholds)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the ranked windows and the first GT window of each
        sample."""
        for sample in self.selected(data_samples):
            windows = to_numpy(require_key(sample, 'pred_windows', self))
            self.results.append(
                dict(
                    pred_windows=windows.astype(np.float64),
                    gt_window=_gt_windows(sample, self)[0]))

    def compute_metrics(self, results: list) -> dict:
        """R@k at each threshold and mIoU, in percent."""
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty?')
        return charades_recall([r['pred_windows'] for r in results],
                               [r['gt_window'] for r in results],
                               ks=self.ks,
                               thresholds=self.thresholds)
