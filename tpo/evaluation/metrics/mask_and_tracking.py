"""Video mask (J, F, J&F) and single-object tracking (LaSOT, GOT-10k)
metrics."""
from typing import Sequence

import numpy as np

from tpo.registry import METRICS
from tpo.structures.masks import rle_to_mask
from tpo.utils import describe_sample
from ..functional import (boundary_f_measure, got10k_eval, lasot_eval,
                          mevis_j_and_f, region_similarity_j)
from .utils import TaskMetric, predicted_mask_frames, require_key, to_numpy


@METRICS.register_module()
class ReferringVOSMetric(TaskMetric):
    """Region similarity J, boundary F-measure F and J&F, MeViS style.

    Data sample keys: ``pred_masks`` and ``gt_masks`` ``(T, H, W)`` bool and
    optional ``expression_id``. Samples sharing an ``expression_id`` are one
    expression (their frames are pooled); a sample without it is its own.
    Each expression averages its frames; J and F are the means over
    expressions and ``J&F = (J + F) / 2``, all in percent.

    A sample of the full-video path (``pred_mask_rles``: one RLE per frame
    of the video, at ``pred_frame_inds``; no ``pred_masks``) is scored on
    every predicted frame, one frame at a time, against ``gt_masks`` (one
    per predicted frame) or against MeViS' ``mask_rles`` (per object, one
    RLE or None per video frame: their union at each frame).

    Args:
        bound_th (float): Boundary tolerance of F (fraction of the image
            diagonal, or pixels when >= 1). Defaults to 0.008.
        **kwargs: ``tasks``, ``collect_device``, ``prefix``,
            ``collect_dir`` of :class:`TaskMetric`.
    """
    default_prefix = 'rvos'

    def __init__(self,
                 bound_th: float = 0.008,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.bound_th = bound_th

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the per-frame J and F of each sample."""
        for sample in self.selected(data_samples):
            if 'pred_masks' not in sample and 'pred_mask_rles' in sample:
                self.results.append(self._every_frame(sample))
                continue
            pred = to_numpy(require_key(sample, 'pred_masks', self))
            gt = to_numpy(require_key(sample, 'gt_masks', self))
            if pred.ndim != 3 or pred.shape != gt.shape:
                raise ValueError(
                    f'{type(self).__name__} needs (T, H, W) pred_masks and '
                    f'gt_masks of one shape, got {pred.shape} and '
                    f'{gt.shape} in {describe_sample(sample)}.')
            self.results.append(
                dict(
                    expression_id=sample.get('expression_id'),
                    j=region_similarity_j(pred, gt),
                    f=np.array([
                        boundary_f_measure(p, g, self.bound_th)
                        for p, g in zip(pred, gt)
                    ])))

    def _every_frame(self, sample: dict) -> dict:
        """Per-frame J and F of a full-video sample, decoding one frame of
        prediction and ground truth at a time."""
        gt_masks = sample.get('gt_masks')
        mask_rles = sample.get('mask_rles') if gt_masks is None else None
        if gt_masks is None and mask_rles is None:
            require_key(sample, 'gt_masks', self)
        predicted = len(require_key(sample, 'pred_mask_rles', self))
        if gt_masks is not None and len(gt_masks) != predicted:
            raise ValueError(
                f'{type(self).__name__}: {describe_sample(sample)} has '
                f'{predicted} predicted frames but {len(gt_masks)} gt_masks '
                '(DecodeRLEMasks decodes the sampled frames only: leave it '
                'out of a full-video test pipeline; MeViS mask_rles are '
                'then read frame by frame).')
        inds = [int(i) for i in sample.get('pred_frame_inds',
                                            range(predicted))]
        if mask_rles and inds and max(inds) >= len(mask_rles[0]):
            raise ValueError(
                f'{type(self).__name__}: {describe_sample(sample)} has a '
                f'prediction for frame {max(inds)} but mask_rles for '
                f'{len(mask_rles[0])} frames (is its video the one its '
                'frame_names list?).')
        j, f = [], []
        for t, (index, pred) in enumerate(predicted_mask_frames(sample,
                                                                self)):
            if gt_masks is not None:
                gt = to_numpy(gt_masks[t]).astype(bool)
            else:
                gt = np.zeros(pred.shape, dtype=bool)
                for rles in mask_rles:
                    if rles[index] is not None:
                        gt |= rle_to_mask(rles[index])
            if gt.shape != pred.shape:
                raise ValueError(
                    f'{type(self).__name__}: frame {index} of '
                    f'{describe_sample(sample)} has a {pred.shape} '
                    f'prediction and a {gt.shape} ground truth.')
            j.append(float(region_similarity_j(pred, gt)))
            f.append(boundary_f_measure(pred, gt, self.bound_th))
        return dict(expression_id=sample.get('expression_id'),
                    j=np.asarray(j), f=np.asarray(f))

    def compute_metrics(self, results: list) -> dict:
        """J, F and J&F in percent."""
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty?')
        groups = {}
        for i, result in enumerate(results):
            key = result['expression_id']
            groups.setdefault(('sample', i) if key is None else key,
                              []).append(result)
        out = mevis_j_and_f(
            [np.concatenate([r['j'] for r in g]) for g in groups.values()],
            [np.concatenate([r['f'] for r in g]) for g in groups.values()])
        return {name: value * 100 for name, value in out.items()}


@METRICS.register_module()
class TrackingMetric(TaskMetric):
    """Single-object tracking scores in percent.

    Data sample keys: ``pred_track_bboxes`` and ``gt_track_bboxes`` ``(T, 4)``
    xywh pixels, optional ``absent`` ``(T,)`` 0/1 flags (default: always
    visible) and, for GOT-10k, ``ori_shape`` ``(H, W)`` to clip boxes to.

    ``protocol='lasot'`` (official MATLAB toolkit) reports ``AUC``, ``P@20``
    and ``P_norm``; ``protocol='got10k'`` reports ``AO``, ``SR0.5`` and
    ``SR0.75``. See :mod:`tpo.evaluation.functional.tracking`.

    Args:
        protocol (str): ``'lasot'`` or ``'got10k'``. Defaults to ``'lasot'``.
        **kwargs: ``tasks``, ``collect_device``, ``prefix``,
            ``collect_dir`` of :class:`TaskMetric`.
    """
    default_prefix = 'tracking'

    def __init__(self,
                 protocol: str = 'lasot',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if protocol not in ('lasot', 'got10k'):
            raise ValueError(f"protocol must be 'lasot' or 'got10k', got "
                             f'{protocol!r}.')
        self.protocol = protocol

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the boxes, absence flags and image size of each sample."""
        for sample in self.selected(data_samples):
            result = dict(
                pred=to_numpy(require_key(sample, 'pred_track_bboxes',
                                          self)).reshape(-1, 4),
                gt=to_numpy(require_key(sample, 'gt_track_bboxes',
                                        self)).reshape(-1, 4))
            if sample.get('absent') is not None:
                result['absent'] = to_numpy(sample['absent']).reshape(-1)
            if self.protocol == 'got10k':
                height, width = require_key(sample, 'ori_shape', self)[:2]
                result['image_size'] = (width, height)
            self.results.append(result)

    def compute_metrics(self, results: list) -> dict:
        """The protocol's scores in percent."""
        if not results:
            raise ValueError(f'{type(self).__name__} has no results to '
                             'evaluate; was the dataset empty?')
        if self.protocol == 'lasot':
            out = lasot_eval(results)
            return {
                'AUC': out['success_auc'] * 100,
                'P@20': out['precision'] * 100,
                'P_norm': out['norm_precision'] * 100
            }
        out = got10k_eval(results, [r['image_size'] for r in results])
        return {
            'AO': out['ao'] * 100,
            'SR0.5': out['sr50'] * 100,
            'SR0.75': out['sr75'] * 100
        }
