"""The textualized-task (P2S) baseline's answers: task structures as text."""
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS
from tpo.structures import BOX_PROMPT_TOKEN, TASK_ALIASES, TPO_TASKS
from tpo.utils import describe_sample
from ..textualize import (box_sequence_to_text, box_to_text, mask_to_box,
                          windows_to_text)
from .formatting import CONVERSATION_TASKS


@TRANSFORMS.register_module()
class TextualizeTaskAnswer(BaseTransform):
    """Write a task sample's target as text in its answer (Table 11,
    "textualized task data"; Merlin-style box sequences).

    Runs after :class:`FormatTaskConversation`: the task-begin and task
    tokens of the answer (``'It is here <box_begin><boxes>.'``) are
    replaced by the structure (``'It is here [0.12,0.34,0.56,0.78].'``),
    see :mod:`tpo.datasets.textualize`; a tracking question's
    ``<track_box>`` becomes the text of its ``prompt_bboxes[0]``. The model
    then learns every task with the LM loss alone, without task tokens.
    ``'chat'`` and ``'mcq'`` samples pass unchanged.

    Required Keys (by task):

    - conversation, task, ori_shape ``(H, W)``
    - region: gt_bboxes (the first box is the referred one)
    - temporal: relevant_windows (seconds)
    - mask: gt_masks ``(T, H, W)`` at ``ori_shape`` (DecodeRLEMasks): one box
      per sampled frame, ``[]`` where the mask is empty
    - track: gt_track_bboxes ``(T, 4)`` xywh, optional absent ``(T,)``,
      prompt_bboxes ``(1, 4)`` xyxy (SelectTrackTargets)

    Modified Keys: conversation, gt_task (``'none'``: no task token is
    generated)

    Args:
        tasks (dict, optional): The task table whose tokens
            :class:`FormatTaskConversation` wrote; defaults to
            :data:`tpo.structures.TPO_TASKS`.
        task_aliases (dict, optional): Defaults to
            :data:`tpo.structures.TASK_ALIASES`.
    """

    def __init__(self,
                 tasks: Optional[Dict[str, dict]] = None,
                 task_aliases: Optional[Dict[str, str]] = None) -> None:
        self.tasks = TPO_TASKS if tasks is None else tasks
        self.task_aliases = TASK_ALIASES if task_aliases is None \
            else task_aliases

    def _require(self, results: dict, key: str):
        if results.get(key) is None:
            raise KeyError(
                f'{type(self).__name__} needs {key!r} for the '
                f'{results["task"]!r} {describe_sample(results)}; add the '
                'transform that provides it before this one.')
        return results[key]

    def target_text(self, results: dict) -> str:
        """The text of a task sample's target."""
        task = results['task']
        height, width = self._require(results, 'ori_shape')[:2]
        if task == 'region':
            box = np.asarray(self._require(results, 'gt_bboxes')).reshape(
                -1, 4)[0]
            return box_to_text(box, width, height)
        if task == 'temporal':
            return windows_to_text(self._require(results, 'relevant_windows'))
        if task == 'mask':
            return box_sequence_to_text(
                [mask_to_box(m) for m in self._require(results, 'gt_masks')],
                width, height)
        if task == 'track':
            xywh = np.asarray(self._require(results, 'gt_track_bboxes'),
                              dtype=np.float64).reshape(-1, 4)
            absent = np.asarray(results.get('absent', np.zeros(len(xywh))))
            return box_sequence_to_text([
                None if gone else [x, y, x + w, y + h]
                for (x, y, w, h), gone in zip(xywh, absent.reshape(-1))
            ], width, height)
        raise KeyError(f'{type(self).__name__} cannot write task {task!r} '
                       f'of {describe_sample(results)} as text (tasks: '
                       "region, temporal, mask, track).")

    def transform(self, results: dict) -> dict:
        """Replace the task tokens of the answer by the target's text.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        task = results['task']
        if task in CONVERSATION_TASKS:
            return results
        spec = self.tasks[self.task_aliases.get(task, task)]
        tokens = spec['begin'] + spec['token']
        turn = dict(self._require(results, 'conversation')[0])
        if tokens not in turn['answer']:
            raise ValueError(
                f'{type(self).__name__}: the answer {turn["answer"]!r} of '
                f'{describe_sample(results)} has no {tokens!r}; run '
                'FormatTaskConversation (with the same tasks) first.')
        turn['answer'] = turn['answer'].replace(tokens,
                                                self.target_text(results))
        if task == 'track' and BOX_PROMPT_TOKEN in turn['question']:
            height, width = results['ori_shape'][:2]
            prompt = np.asarray(self._require(results, 'prompt_bboxes'))
            turn['question'] = turn['question'].replace(
                BOX_PROMPT_TOKEN,
                box_to_text(prompt.reshape(-1, 4)[0], width, height))
        results['conversation'] = [turn] + list(results['conversation'][1:])
        results['gt_task'] = 'none'
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(tasks={self.tasks}, '
                f'task_aliases={self.task_aliases})')
