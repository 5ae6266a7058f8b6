"""Turn a sample into the model's inputs: the task conversation and the
packed tensors."""
import random
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS
from tpo.structures import TPODataSample
from tpo.tasks import NO_TASK, get_task
from tpo.tasks.templates import (TEMPLATE_FILE, choose_template,
                                 load_templates, task_templates)
from tpo.utils import describe_sample


@TRANSFORMS.register_module()
class FormatTaskConversation(BaseTransform):
    """Write the instruction-template conversation of a task sample.

    The sample's task spec (:mod:`tpo.tasks`) says how: a task with a
    ``query_key`` (``'region'``, ``'temporal'``, ``'mask'``, ``'track'``, or
    a plugin's) gets one turn, a question template of the task (Tables
    18-21) filled with the sample's expression, query or box, and an answer
    template filled with the task's begin and task tokens, e.g.
    ``'It is here <box_begin><boxes>.'``. A task that aliases another
    (``'track'`` -> ``'mask'``) keeps its own templates and takes the
    other's tokens: ``'The trajectory is <track_begin><tracking>.'``.
    Templates are random while training and chosen by ``sample_idx`` at
    test. Samples of tasks without a query (``'chat'``, ``'mcq'``) keep
    their conversation.

    Required Keys:

    - task
    - the task's ``query_key`` (e.g. ``expressions`` for region; track
      defaults to ``'<track_box>'``)
    - sample_idx (test)

    Added Keys:

    - conversation (task samples): ``[{'question': str, 'answer': str}]``
    - gt_task: the task's begin token, or ``'none'`` for chat and mcq

    Args:
        template_file (str, optional): The templates JSON. Defaults to the
            packaged ``instructions.json``; a task missing there uses its
            spec's own templates.
        train (bool): Random templates and expressions, else fixed ones.
            Defaults to True.
        seed (int, optional): Seed of a private generator for training
            (every dataloader worker then repeats its sequence). None uses
            Python's ``random``, which mmengine seeds per worker. Defaults to
            None.
    """

    def __init__(self,
                 template_file: Optional[str] = None,
                 train: bool = True,
                 seed: Optional[int] = None) -> None:
        self.template_file = template_file or TEMPLATE_FILE
        load_templates(self.template_file)  # read (and checked) once, here
        self.train = train
        self.seed = seed
        self.rng = random.Random(seed) if seed is not None else random

    def transform(self, results: dict) -> dict:
        """Add ``conversation`` (task samples) and ``gt_task``."""
        task = get_task(results['task'])
        if task.has_conversation:
            results['gt_task'] = NO_TASK
            return results
        tokens = get_task(task.alias_of) if task.alias_of else task
        templates = task_templates(task, self.template_file)
        key = task.query_key
        if task.query_default is not None:
            results.setdefault(key, task.query_default)
        if key not in results:
            raise KeyError(f'{type(self).__name__} needs {key!r} for the '
                           f'{task.name!r} {describe_sample(results)}.')
        rng = self.rng if self.train else None
        index = 0 if self.train else results['sample_idx']
        value = task.choose_query(results[key], rng)
        question = choose_template(templates['questions'], rng, index)
        answer = choose_template(templates['answers'], rng, index)
        results['conversation'] = [
            dict(
                question=question.format(**{task.placeholder: value}),
                answer=answer.format(begin=tokens.begin, token=tokens.token))
        ]
        results['gt_task'] = tokens.begin
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'template_file={self.template_file!r}, '
                f'train={self.train}, seed={self.seed})')


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
    - clip_features / query_features: precomputed temporal features
      (:class:`LoadClipFeatures`, :class:`LoadQueryFeatures`)
    - the ``meta_keys`` (e.g. MeViS ``mask_rles``, tracking ``absent``,
      the ``frame_names`` that ``MaskSubmission`` names its PNGs after,
      ``full_video`` of :class:`AttachFullVideo`)

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
        prompt_bboxes=('prompt_bboxes', torch.float32),
        clip_features=('clip_features', torch.float32),
        query_features=('query_features', torch.float32))

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
                                    'exp_id', 'frame_names', 'mask_rles',
                                    'sequence', 'absent',
                                    'grounding_question', 'full_video')
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
