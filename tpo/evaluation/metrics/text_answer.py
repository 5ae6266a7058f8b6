"""Score text answers (the textualized-task baseline) with the task metrics
that score the heads' structured predictions."""
import string
from typing import Optional, Sequence

import numpy as np

from tpo.datasets.textualize import (MalformedAnswerError, boxes_to_masks,
                                     text_to_box_sequence, text_to_boxes,
                                     text_to_windows)
from tpo.registry import METRICS
from .utils import TaskMetric, require_key, to_numpy


def _decode(sample: dict, task: str, text: str) -> None:
    """Write the prediction of a well-formed answer; raise
    :class:`MalformedAnswerError` otherwise."""
    if task == 'temporal':
        windows = np.asarray(text_to_windows(text), dtype=np.float32)
        scores = 1.0 / (1.0 + np.arange(len(windows), dtype=np.float32))
        sample['pred_windows'] = np.concatenate([windows, scores[:, None]],
                                                axis=1)
    elif task == 'mcq':
        letters = string.ascii_uppercase[:len(
            sample.get('candidates') or string.ascii_uppercase)]
        answer = text.strip()
        if not answer or answer[0].upper() not in letters or (
                len(answer) > 1 and answer[1].isalnum()):
            raise MalformedAnswerError(
                f'{text!r} does not start with an option letter '
                f'({letters}).')
    elif task in ('region', 'mask', 'track'):
        height, width = sample['ori_shape'][:2]
        if task == 'region':
            sample['pred_bboxes'] = np.asarray(
                text_to_boxes(text, width, height), dtype=np.float32)
        elif task == 'mask':
            gt = to_numpy(sample['gt_masks'])
            boxes = text_to_box_sequence(text, width, height, len(gt))
            sample['pred_masks'] = boxes_to_masks(boxes, *gt.shape[1:])
        else:
            num = len(to_numpy(sample['gt_track_bboxes']).reshape(-1, 4))
            boxes = text_to_box_sequence(text, width, height, num)
            sample['pred_track_bboxes'] = np.asarray(
                [[0.0] * 4 if b is None else
                 [b[0], b[1], b[2] - b[0], b[3] - b[1]] for b in boxes],
                dtype=np.float32)
    else:
        raise KeyError(f'decode_text_answer cannot decode task {task!r} '
                       '(tasks: region, temporal, mask, track, mcq).')


def decode_text_answer(sample: dict) -> bool:
    """Write the structured prediction of a sample's ``pred_text`` in
    place, as the task's head would (see :mod:`tpo.datasets.textualize`).

    ``region``: ``pred_bboxes`` ``(K, 4)`` xyxy pixels (the boxes in the
    order written); ``temporal``: ``pred_windows`` ``(K, 3)``
    ``[start, end, score]``, score decreasing with the rank; ``mask``:
    ``pred_masks`` ``(T, H, W)`` filled boxes, ``T`` and ``H, W`` those of
    ``gt_masks``; ``track``: ``pred_track_bboxes`` ``(T, 4)`` xywh, ``T``
    that of ``gt_track_bboxes`` (a frame written ``[]`` is a zero box);
    ``mcq``: ``pred_text`` is kept when it starts with an option letter (of
    ``candidates`` when given), e.g. ``'B) red'`` after MVBench's
    ``'Best option:('``.

    A malformed answer gets the empty prediction (no box, no window, empty
    masks, zero boxes), which every metric scores as a miss; a malformed
    multiple-choice answer becomes ``'malformed'``, since MVBench's matching
    rule counts an empty answer as correct (``'('`` is in ``'(b)'``).

    Returns:
        bool: True when the answer was malformed.
    """
    task = sample['task']
    try:
        _decode(sample, task, sample.get('pred_text', ''))
        return False
    except MalformedAnswerError:
        if task == 'region':
            sample['pred_bboxes'] = np.zeros((0, 4), dtype=np.float32)
        elif task == 'temporal':
            sample['pred_windows'] = np.zeros((0, 3), dtype=np.float32)
        elif task == 'mask':
            sample['pred_masks'] = np.zeros_like(
                to_numpy(sample['gt_masks']), dtype=bool)
        elif task == 'track':
            sample['pred_track_bboxes'] = np.zeros_like(
                to_numpy(sample['gt_track_bboxes']), dtype=np.float32)
        else:
            sample['pred_text'] = 'malformed'
        return True


@METRICS.register_module()
class TextAnswerMetric(TaskMetric):
    """Decode each sample's text answer into the structure of its task,
    then score it with ``metric``; count the malformed answers.

    The textualized-task baseline (Table 11) answers with text such as
    ``'It is here [0.12,0.34,0.56,0.78].'``; :func:`decode_text_answer`
    turns it into the fields the task metric reads, so the same metric
    scores the text answers and the heads' predictions. A malformed answer
    is a miss. Wrapping ``MultipleChoiceAccuracy`` makes an answer without
    an option letter (e.g. an empty one) a miss.

    Reports the wrapped metric's numbers, plus ``{prefix}/malformed`` (the
    number of malformed answers) and ``{prefix}/answers`` (the number of
    answers), under the wrapped metric's prefix.

    Args:
        metric (dict): Config of the task metric, e.g.
            ``dict(type='ReferringBoxAccuracy', tasks=('region', ))``; its
            ``tasks`` select the samples.
        collect_device, collect_dir: see :class:`TaskMetric`.
    """

    def __init__(self,
                 metric: dict,
                 collect_device: str = 'cpu',
                 collect_dir: Optional[str] = None) -> None:
        self.metric = METRICS.build(metric)
        if not isinstance(self.metric, TaskMetric):
            raise TypeError(f'TextAnswerMetric wraps a TaskMetric, got '
                            f'{type(self.metric).__name__}.')
        super().__init__(
            tasks=self.metric.tasks,
            collect_device=collect_device,
            prefix=self.metric.prefix,
            collect_dir=collect_dir)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Decode the selected samples (copies) and pass them on."""
        decoded = []
        for sample in self.selected(data_samples):
            sample = dict(sample)
            require_key(sample, 'pred_text', self)
            self.results.append(decode_text_answer(sample))
            decoded.append(sample)
        self.metric.process(data_batch, decoded)

    def compute_metrics(self, results: list) -> dict:
        """The malformed count and the number of answers."""
        return dict(malformed=int(sum(results)), answers=len(results))

    def evaluate(self, size: int) -> dict:
        """The wrapped metric's numbers and the malformed count."""
        metrics = self.metric.evaluate(size)
        metrics.update(super().evaluate(size))
        return metrics
