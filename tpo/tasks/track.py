"""Box-prompted tracking (LaSOT, SA-V): served by the mask task's tokens
and head."""
import numpy as np

from .base_task import BOX_PROMPT_TOKEN, TaskSpec, register_task
from .mask import _to_numpy
from .text_forms import box_sequence_to_text, box_to_text, text_to_box_sequence


@register_task
class TrackTask(TaskSpec):
    """The trajectory of the object in a given first-frame box.

    Tracking is segmentation propagated from the first frame, so a track
    sample answers with the mask tokens (``<track_begin><tracking>``) and
    the mask head predicts its masks and boxes (``pred_track_bboxes``). Its
    question holds ``track_box``, by default the ``<track_box>``
    placeholder whose embedding encodes the sample's ``prompt_bboxes``.

    Text form: one normalised xyxy box per sampled frame (``[]``: absent);
    the question's placeholder becomes the text of ``prompt_bboxes[0]``.
    """

    name = 'track'
    alias_of = 'mask'
    query_key = 'track_box'
    placeholder = 'track_box'
    query_default = BOX_PROMPT_TOKEN
    prediction_fields = ('pred_track_bboxes', )

    def to_text(self, results: dict) -> str:
        height, width = self.require(results, 'ori_shape', self.name)[:2]
        xywh = np.asarray(self.require(results, 'gt_track_bboxes', self.name),
                          dtype=np.float64).reshape(-1, 4)
        absent = np.asarray(results.get('absent', np.zeros(len(xywh))))
        return box_sequence_to_text([
            None if gone else [x, y, x + w, y + h]
            for (x, y, w, h), gone in zip(xywh, absent.reshape(-1))
        ], width, height)

    def textualize_question(self, question: str, results: dict) -> str:
        if BOX_PROMPT_TOKEN not in question:
            return question
        height, width = results['ori_shape'][:2]
        prompt = np.asarray(self.require(results, 'prompt_bboxes',
                                         self.name))
        return question.replace(
            BOX_PROMPT_TOKEN,
            box_to_text(prompt.reshape(-1, 4)[0], width, height))

    def from_text(self, sample: dict, text: str) -> None:
        height, width = sample['ori_shape'][:2]
        num = len(_to_numpy(sample['gt_track_bboxes']).reshape(-1, 4))
        boxes = text_to_box_sequence(text, width, height, num)
        sample['pred_track_bboxes'] = np.asarray(
            [[0.0] * 4 if b is None else
             [b[0], b[1], b[2] - b[0], b[3] - b[1]] for b in boxes],
            dtype=np.float32)

    def empty_prediction(self, sample: dict) -> None:
        sample['pred_track_bboxes'] = np.zeros_like(
            _to_numpy(sample['gt_track_bboxes']), dtype=np.float32)
