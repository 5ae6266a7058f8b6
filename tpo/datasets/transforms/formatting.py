"""Turn a sample into the model's inputs: the task conversation and the
packed tensors."""
import random
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS
from tpo.structures import (BOX_PROMPT_TOKEN, TASK_ALIASES, TPO_TASKS,
                            TPODataSample)
from tpo.utils import describe_sample
from ..templates import TEMPLATE_FILE, choose_template, load_templates

# task -> (template placeholder, results key that fills it)
TASK_QUERIES = dict(
    region=('expr', 'expressions'),
    temporal=('query', 'query'),
    mask=('obj', 'expression'),
    track=('track_box', 'track_box'))
# tasks whose samples bring their own conversation
CONVERSATION_TASKS = ('chat', 'mcq')


@TRANSFORMS.register_module()
class FormatTaskConversation(BaseTransform):
    """Write the instruction-template conversation of a task sample.

    A ``'region'``, ``'temporal'``, ``'mask'`` or ``'track'`` sample gets one
    turn: a question template of its task (Tables 18-21) filled with its
    expression, query or box, and the answer template filled with the task's
    begin and task tokens, e.g. ``'It is here <box_begin><boxes>.'``.
    A task missing from ``tasks`` but named in ``task_aliases`` keeps its
    own templates and takes the tokens of the task it aliases: by default a
    ``'track'`` sample answers ``'The trajectory is
    <track_begin><tracking>.'`` (the mask head serves it) and its question
    holds its ``track_box`` (default ``'<track_box>'``, the placeholder whose
    embedding encodes the sample's ``prompt_bboxes``).
    Templates are random while training and chosen by ``sample_idx`` at test.
    A region sample's expression is a random one of ``expressions`` while
    training and the first at test. ``'chat'`` and ``'mcq'`` samples keep
    their conversation.

    Required Keys:

    - task
    - expressions (region), query (temporal), expression (mask) or
      track_box (track, a string; ``'<track_box>'`` when absent)
    - sample_idx (test)

    Added Keys:

    - conversation (task samples): ``[{'question': str, 'answer': str}]``
    - gt_task: the task's begin token, or ``'none'`` for chat and mcq

    Args:
        tasks (dict, optional): ``{task: dict(begin=..., token=...)}`` of the
            model; defaults to :data:`tpo.structures.TPO_TASKS`,
            e.g. ``dict(region=dict(begin='<box_begin>', token='<boxes>'))``.
        template_file (str, optional): The templates JSON. Defaults to the
            packaged ``instructions.json``.
        train (bool): Random templates and expressions, else fixed ones.
            Defaults to True.
        seed (int, optional): Seed of a private generator for training
            (every dataloader worker then repeats its sequence). None uses
            Python's ``random``, which mmengine seeds per worker. Defaults to
            None.
        task_aliases (dict, optional): ``{task: task whose tokens it
            uses}``; defaults to :data:`tpo.structures.TASK_ALIASES`
            (``track='mask'``). Aliases of a task not in ``tasks`` are
            ignored.
    """

    def __init__(self,
                 tasks: Optional[Dict[str, dict]] = None,
                 template_file: Optional[str] = None,
                 train: bool = True,
                 seed: Optional[int] = None,
                 task_aliases: Optional[Dict[str, str]] = None) -> None:
        self.template_file = template_file or TEMPLATE_FILE
        self.templates = load_templates(self.template_file)
        tasks = TPO_TASKS if tasks is None else tasks
        for task in tasks:
            self._check_templates(task)
        self.tasks = tasks
        aliases = TASK_ALIASES if task_aliases is None else task_aliases
        self.task_aliases = {
            alias: target
            for alias, target in aliases.items()
            if target in tasks and alias not in tasks
        }
        self.train = train
        self.seed = seed
        self.rng = random.Random(seed) if seed is not None else random

    def _check_templates(self, task: str) -> None:
        if task not in TASK_QUERIES or task not in self.templates:
            raise KeyError(
                f'{type(self).__name__}: no templates for task {task!r} '
                f'(tasks with templates: {sorted(TASK_QUERIES)}, in '
                f'{self.template_file}).')

    def transform(self, results: dict) -> dict:
        """Add ``conversation`` (task samples) and ``gt_task``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        task = results['task']
        if task in CONVERSATION_TASKS:
            results['gt_task'] = 'none'
            return results
        token_task = self.task_aliases.get(task, task)
        if token_task not in self.tasks:
            raise KeyError(f'Task {task!r} of {describe_sample(results)} is '
                           f'not in the tasks {sorted(self.tasks)} of '
                           f'{type(self).__name__}.')
        self._check_templates(task)
        placeholder, key = TASK_QUERIES[task]
        if task == 'track':
            results.setdefault(key, BOX_PROMPT_TOKEN)
        if key not in results:
            raise KeyError(f'{type(self).__name__} needs {key!r} for the '
                           f'{task!r} {describe_sample(results)}.')
        rng = self.rng if self.train else None
        index = 0 if self.train else results['sample_idx']
        value = results[key]
        if task == 'region':
            value = choose_template(value, rng, 0)
        templates = self.templates[task]
        tokens = self.tasks[token_task]
        question = choose_template(templates['questions'], rng, index)
        answer = choose_template(templates['answers'], rng, index)
        results['conversation'] = [
            dict(
                question=question.format(**{placeholder: value}),
                answer=answer.format(
                    begin=tokens['begin'], token=tokens['token']))
        ]
        results['gt_task'] = tokens['begin']
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(tasks={self.tasks}, '
                f'template_file={self.template_file!r}, '
                f'train={self.train}, seed={self.seed}, '
                f'task_aliases={self.task_aliases})')


@TRANSFORMS.register_module()
class PackTPOInputs(BaseTransform):
    """Pack the frames and the annotations of a sample.

    Required Keys:

    - frames: ``(T, H, W, 3)`` uint8

    Optional Keys:

    - gt_bboxes: ``(K, 4)`` xyxy pixels
    - relevant_windows: ``(K, 2)`` seconds
    - gt_masks: ``(T, H, W)`` bool, one per sampled frame
    - gt_track_bboxes: ``(T, 4)`` xywh pixels, one per sampled frame (see
      :class:`SelectTrackTargets`)
    - prompt_bboxes: ``(K, 4)`` xyxy pixels of the ``<track_box>`` prompts
    - the ``meta_keys`` (e.g. MeViS ``mask_rles``, tracking ``absent``,
      the release's cached ``clip_features``)

    Added Keys:

    - inputs: ``(T, 3, H, W)`` uint8 tensor
    - data_samples: a :class:`~tpo.structures.TPODataSample` with the
      ``meta_keys`` present as metainfo and ``gt_bboxes`` / ``gt_windows`` /
      ``gt_track_bboxes`` / ``prompt_bboxes`` (float32 tensors) and
      ``gt_masks`` (bool tensor) as data fields

    Args:
        meta_keys (Sequence[str]): Keys copied into the metainfo when
            present.
    """

    # results key -> (data field of the data sample, dtype)
    DATA_FIELDS = dict(
        gt_bboxes=('gt_bboxes', torch.float32),
        relevant_windows=('gt_windows', torch.float32),
        gt_masks=('gt_masks', torch.bool),
        gt_track_bboxes=('gt_track_bboxes', torch.float32),
        prompt_bboxes=('prompt_bboxes', torch.float32))

    def __init__(
        self,
        meta_keys: Sequence[str] = ('sample_idx', 'source', 'video_path',
                                    'task', 'task_type', 'instruction',
                                    'conversation', 'answer_prefix', 'gt_task',
                                    'gt_answer', 'query', 'ori_shape',
                                    'img_shape', 'frame_inds', 'frame_times',
                                    'fps', 'duration', 'candidates', 'qid',
                                    'ref_id', 'vid', 'relevant_clip_ids',
                                    'saliency_scores', 'expression',
                                    'exp_id', 'mask_rles', 'sequence',
                                    'absent', 'grounding_question',
                                    'clip_features')
    ) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack ``results`` into ``inputs`` and ``data_samples``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: ``{'inputs': Tensor, 'data_samples': TPODataSample}``.
        """
        if 'frames' not in results:
            raise KeyError(f'{type(self).__name__} needs the frames of '
                           f'{describe_sample(results)}; load them first '
                           '(LoadVideoFrames).')
        frames = np.ascontiguousarray(results['frames'].transpose(0, 3, 1, 2))
        data_sample = TPODataSample(metainfo={
            key: results[key]
            for key in self.meta_keys if key in results
        })
        for key, (field, dtype) in self.DATA_FIELDS.items():
            if results.get(key) is not None:
                data_sample.set_field(
                    torch.as_tensor(np.asarray(results[key]), dtype=dtype),
                    field)
        return dict(inputs=torch.from_numpy(frames), data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
