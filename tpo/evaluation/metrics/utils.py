"""Reading fields of the data samples that metrics receive (as dicts)."""
from typing import Any, Iterator, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from tpo.structures.masks import rle_to_mask
from tpo.utils import describe_sample


def require_key(data_sample: dict, key: str, metric: BaseMetric) -> Any:
    """``data_sample[key]``, or a :class:`KeyError` naming the metric, the
    key and the sample."""
    if key in data_sample:
        return data_sample[key]
    raise KeyError(f'{type(metric).__name__} needs {key!r} in every data '
                   f'sample, but {describe_sample(data_sample)} only has '
                   f'{sorted(data_sample)}.')


def to_numpy(value: Any) -> np.ndarray:
    """A CPU numpy array of a tensor (half precision widened to float32) or
    of an array-like."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.is_floating_point() and value.element_size() < 4:
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def predicted_mask_frames(sample: dict, metric: BaseMetric
                          ) -> Iterator[Tuple[int, np.ndarray]]:
    """Per predicted frame, ``(its position in the video, (H, W) bool
    mask)``, one frame decoded at a time: from ``pred_masks`` ``(T, H, W)``
    at ``frame_inds``, or from ``pred_mask_rles`` (the full-video path, one
    RLE per frame) at ``pred_frame_inds`` (default ``0 .. T-1``)."""
    if 'pred_masks' in sample:
        masks = to_numpy(sample['pred_masks'])
        inds = sample.get('frame_inds', range(len(masks)))
        for index, mask in zip(inds, masks):
            yield int(index), mask.astype(bool)
        return
    rles = require_key(sample, 'pred_mask_rles', metric)
    inds = sample.get('pred_frame_inds', range(len(rles)))
    for index, rle in zip(inds, rles):
        yield int(index), rle_to_mask(rle)


class TaskMetric(BaseMetric):
    """A metric that scores only the samples of some tasks.

    Args:
        tasks: the ``task`` values to score (e.g. ``('region',)``); ``None``
            scores every sample. Lets one evaluator hold metrics for a mixed
            test set.
        collect_device, prefix, collect_dir: see
            :class:`~mmengine.evaluator.BaseMetric`.
    """

    def __init__(self,
                 tasks: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        self.tasks = None if tasks is None else tuple(tasks)

    def selected(self, data_samples: Sequence[dict]) -> Iterator[dict]:
        """The samples whose ``task`` this metric scores."""
        for sample in data_samples:
            if self.tasks is None or require_key(sample, 'task',
                                                 self) in self.tasks:
                yield sample
