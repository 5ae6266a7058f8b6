"""A task of the plugin's own: point at the referred object.

Registering :class:`PointTask` is all the pipeline, the model and the
text-answer metric need to know about the task: its tokens, its questions
and answers, and its text form. Nothing in ``tpo/`` names it.
"""
import random
import re
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS
from tpo.tasks import MalformedAnswerError, TaskSpec, register_task
from tpo.tasks.templates import choose_template


@register_task
class PointTask(TaskSpec):
    """The centre of the object a referring expression describes.

    Samples carry ``expressions`` and ``gt_bboxes`` (a RefCOCO item relabelled
    by :class:`SetTask`); the head serving ``'point'`` writes
    ``pred_points`` ``(K, 2)`` pixels. Text form (the textualized baseline):
    ``[x,y]``, the centre as a fraction of the frame.
    """

    name = 'point'
    begin = '<point_begin>'
    token = '<point>'
    query_key = 'expressions'
    placeholder = 'expr'
    questions = ('Point at {expr}.', 'Where is the center of {expr}?',
                 'Show me the middle of {expr}.')
    answers = ('It is at {begin}{token}.', )
    prediction_fields = ('pred_points', )

    def choose_query(self, value, rng: Optional[random.Random]) -> str:
        return choose_template(value, rng, 0)

    def to_text(self, results: dict) -> str:
        height, width = self.require(results, 'ori_shape', self.name)[:2]
        x1, y1, x2, y2 = np.asarray(
            self.require(results, 'gt_bboxes', self.name)).reshape(-1, 4)[0]
        return f'[{(x1 + x2) / 2 / width:.2f},{(y1 + y2) / 2 / height:.2f}]'

    def from_text(self, sample: dict, text: str) -> None:
        height, width = sample['ori_shape'][:2]
        found = re.search(r'\[(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)\]',
                          re.sub(r'\s+', '', text))
        if found is None:
            raise MalformedAnswerError(f'no [x,y] point in {text!r}.')
        x, y = float(found.group(1)), float(found.group(2))
        sample['pred_points'] = np.array([[x * width, y * height]],
                                         dtype=np.float32)

    def empty_prediction(self, sample: dict) -> None:
        sample['pred_points'] = np.zeros((0, 2), dtype=np.float32)


@TRANSFORMS.register_module()
class SetTask(BaseTransform):
    """Serve a sample as another task: ``results['task'] = task`` (e.g. a
    RefCOCO item as a ``'point'`` sample)."""

    def __init__(self, task: str) -> None:
        self.task = task

    def transform(self, results: dict) -> dict:
        results['task'] = self.task
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(task={self.task!r})'
