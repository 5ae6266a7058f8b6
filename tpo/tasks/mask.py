"""Referring video segmentation: the masks of an expression's object
(MeViS, Ref-YouTube-VOS, SA-V)."""
import numpy as np

from .base_task import TaskSpec, register_task
from .text_forms import (box_sequence_to_text, boxes_to_masks, mask_to_box,
                         text_to_box_sequence)


def _to_numpy(value) -> np.ndarray:
    return value.cpu().numpy() if hasattr(value, 'cpu') else \
        np.asarray(value)


@register_task
class MaskTask(TaskSpec):
    """One mask per sampled frame; the mask head (SAM2) predicts them.

    Text form (Merlin-style): the tight box of each frame's mask,
    ``[...],[],[...]`` (``[]``: empty); decoded as filled boxes at the size
    of ``gt_masks``.
    """

    name = 'mask'
    begin = '<track_begin>'
    token = '<tracking>'
    query_key = 'expression'
    placeholder = 'obj'
    prediction_fields = ('pred_masks', )

    def to_text(self, results: dict) -> str:
        height, width = self.require(results, 'ori_shape', self.name)[:2]
        masks = self.require(results, 'gt_masks', self.name)
        return box_sequence_to_text([mask_to_box(m) for m in masks], width,
                                    height)

    def from_text(self, sample: dict, text: str) -> None:
        height, width = sample['ori_shape'][:2]
        gt = _to_numpy(sample['gt_masks'])
        boxes = text_to_box_sequence(text, width, height, len(gt))
        sample['pred_masks'] = boxes_to_masks(boxes, *gt.shape[1:])

    def empty_prediction(self, sample: dict) -> None:
        sample['pred_masks'] = np.zeros_like(_to_numpy(sample['gt_masks']),
                                             dtype=bool)
