"""Temporal grounding: the moments a query describes (QVHighlights,
Charades-STA)."""
import numpy as np

from .base_task import TaskSpec, register_task
from .text_forms import text_to_windows, windows_to_text


@register_task
class TemporalTask(TaskSpec):
    """Windows ``[start, end]`` (seconds) of a query; the temporal head
    predicts them (and a per-clip saliency). Text form: ``[s,e],[s,e]``."""

    name = 'temporal'
    begin = '<time_begin>'
    token = '<temp>'
    query_key = 'query'
    placeholder = 'query'
    prediction_fields = ('pred_windows', )

    def to_text(self, results: dict) -> str:
        return windows_to_text(
            self.require(results, 'relevant_windows', self.name))

    def from_text(self, sample: dict, text: str) -> None:
        windows = np.asarray(text_to_windows(text), dtype=np.float32)
        # the order written is the rank
        scores = 1.0 / (1.0 + np.arange(len(windows), dtype=np.float32))
        sample['pred_windows'] = np.concatenate([windows, scores[:, None]],
                                                axis=1)

    def empty_prediction(self, sample: dict) -> None:
        sample['pred_windows'] = np.zeros((0, 3), dtype=np.float32)
