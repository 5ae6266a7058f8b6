"""Referring grounding: one box per expression (RefCOCO, Visual Genome)."""
import random
from typing import Optional

import numpy as np

from .base_task import TaskSpec, register_task
from .templates import choose_template
from .text_forms import box_to_text, text_to_boxes


@register_task
class RegionTask(TaskSpec):
    """A box for a referring expression; the region head regresses it.

    The question takes one of the sample's ``expressions`` (a random one
    while training, the first at test); the text form is the normalised
    ``[x1,y1,x2,y2]`` of the first GT box.
    """

    name = 'region'
    begin = '<box_begin>'
    token = '<boxes>'
    query_key = 'expressions'
    placeholder = 'expr'
    prediction_fields = ('pred_bboxes', )

    def choose_query(self, value, rng: Optional[random.Random]) -> str:
        return choose_template(value, rng, 0)

    def to_text(self, results: dict) -> str:
        height, width = self.require(results, 'ori_shape', self.name)[:2]
        box = np.asarray(self.require(results, 'gt_bboxes',
                                      self.name)).reshape(-1, 4)[0]
        return box_to_text(box, width, height)

    def from_text(self, sample: dict, text: str) -> None:
        height, width = sample['ori_shape'][:2]
        sample['pred_bboxes'] = np.asarray(
            text_to_boxes(text, width, height), dtype=np.float32)

    def empty_prediction(self, sample: dict) -> None:
        sample['pred_bboxes'] = np.zeros((0, 4), dtype=np.float32)
