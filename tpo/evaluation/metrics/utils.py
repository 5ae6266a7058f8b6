"""Reading fields of the data samples that metrics receive (as dicts)."""
from typing import Any, Iterator, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

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
