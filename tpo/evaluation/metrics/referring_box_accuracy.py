"""Acc@IoU of the top-1 predicted box (RefCOCO, RefCOCO+, RefCOCOg)."""
from typing import Sequence

from tpo.registry import METRICS
from ..functional import referring_accuracy
from tpo.utils import describe_sample
from .utils import TaskMetric, require_key, to_numpy


@METRICS.register_module()
class ReferringBoxAccuracy(TaskMetric):
    """Percentage of samples whose top-1 box has plain IoU >= ``iou_thr``
    with the GT box.

    Data sample keys: ``pred_bboxes`` ``(K, 4)`` xyxy pixels (``K = 0`` is a
    miss), optional ``pred_scores`` ``(K,)`` (without it the first box is
    top-1), ``gt_bboxes`` ``(>=1, 4)`` xyxy pixels (the first is used) and
    optional ``source`` (dataset name; ``'unknown'`` when absent).

    Reports ``Acc@{iou_thr}`` and, when several sources are present,
    ``{source}/Acc@{iou_thr}``.

    Args:
        iou_thr (float): IoU threshold of a hit. Defaults to 0.5.
        **kwargs: ``tasks``, ``collect_device``, ``prefix``,
            ``collect_dir`` of :class:`TaskMetric`.
    """
    default_prefix = 'refcoco'

    def __init__(self,
                 iou_thr: float = 0.5,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.iou_thr = iou_thr

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the predicted boxes, scores and first GT box of each
        sample."""
        for sample in self.selected(data_samples):
            pred_bboxes = to_numpy(require_key(sample, 'pred_bboxes', self))
            gt_bboxes = to_numpy(require_key(sample, 'gt_bboxes', self))
            gt_bboxes = gt_bboxes.reshape(-1, 4)
            if len(gt_bboxes) == 0:
                raise ValueError(f'{type(self).__name__} got empty '
                                 f'gt_bboxes in {describe_sample(sample)}.')
            scores = sample.get('pred_scores')
            self.results.append(
                dict(
                    pred_bboxes=pred_bboxes.reshape(-1, 4),
                    pred_scores=None if scores is None else to_numpy(scores),
                    gt_bbox=gt_bboxes[0],
                    source=sample.get('source', 'unknown')))

    def compute_metrics(self, results: list) -> dict:
        """Overall and per-source accuracy in percent."""
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty?')
        out = referring_accuracy([r['pred_bboxes'] for r in results],
                                 [r['pred_scores'] for r in results],
                                 [r['gt_bbox'] for r in results],
                                 thr=self.iou_thr)
        name = f'Acc@{self.iou_thr:g}'
        metrics = {name: out['accuracy']}
        sources = [r['source'] for r in results]
        if len(set(sources)) > 1:
            for source in dict.fromkeys(sources):
                hits = [
                    hit for hit, s in zip(out['hits'], sources) if s == source
                ]
                metrics[f'{source}/{name}'] = sum(hits) / len(hits) * 100
        return metrics
