"""MVBench multiple-choice video question answering."""
import glob
import os.path as osp
from typing import Dict, List, Sequence, Tuple, Union

from tpo.registry import DATASETS
from .annotation import (AnnotationRecord, load_json, read_clip_window,
                         require_path)
from .base import TPOBaseDataset
from .mcq_utils import mcq_prompt_fields

ANSWER_PREFIX = 'Best option:('
SYSTEM_PROMPT = (
    'Carefully watch the video and pay attention to the cause and sequence of '
    'events, the detail and movement of objects, and the action and pose of '
    'persons. Based on your observations, select the best option that '
    'accurately addresses the question.')

# The official evaluation's data_list (VideoChat2 ``mvbench.ipynb``): each
# task's JSON file -> the folder of its source videos under the video root.
# Episodic Reasoning reads TVQA frame folders (3 fps), the others videos.
MVBENCH_VIDEO_FOLDERS = {
    'action_sequence': 'star/Charades_v1_480',
    'action_prediction': 'star/Charades_v1_480',
    'action_antonym': 'ssv2_video',
    'fine_grained_action': 'Moments_in_Time_Raw/videos',
    'unexpected_action': 'FunQA_test/test',
    'object_existence': 'clevrer/video_validation',
    'object_interaction': 'star/Charades_v1_480',
    'object_shuffle': 'perception/videos',
    'moving_direction': 'clevrer/video_validation',
    'action_localization': 'sta/sta_video',
    'scene_transition': 'scene_qa/video',
    'action_count': 'perception/videos',
    'moving_count': 'clevrer/video_validation',
    'moving_attribute': 'clevrer/video_validation',
    'state_change': 'perception/videos',
    'fine_grained_pose': 'nturgbd',
    'character_order': 'perception/videos',
    'egocentric_navigation': 'vlnqa',
    'episodic_reasoning': 'tvqa/frames_fps3_hq',
    'counterfactual_inference': 'clevrer/video_validation',
}


def mvbench_prompt(question: str, candidates: Sequence[str],
                   answer: str) -> Tuple[str, str]:
    """The official MVBench ``qa_template``: the prompt ``"Question: ...
    \\nOptions:\\n(A) ...\\n(B) ..."`` and the GT ``"(X) answer"``, ``X`` the
    letter of the last candidate equal to ``answer``."""
    lines = [f'Question: {question}', 'Options:']
    letter = None
    for index, candidate in enumerate(candidates):
        lines.append(f'({chr(ord("A") + index)}) {candidate}')
        if candidate == answer:
            letter = chr(ord('A') + index)
    return '\n'.join(lines), f'({letter}) {answer}'


@DATASETS.register_module()
class MVBenchDataset(TPOBaseDataset):
    """MVBench: a folder of per-task JSON files, each a list of ``{video,
    question, candidates, answer}`` with an optional ``start`` / ``end``
    (seconds) clip. Videos are ``{data_prefix.video}/{video}``.

    Items: ``video_path``, ``task='mcq'``, ``source``, ``task_type``,
    ``question``, ``candidates``, ``answer``, ``question_text`` (the official
    prompt), ``gt_answer`` (``"(X) answer"``), ``answer_prefix``
    (``'Best option:('``), ``instruction`` (the official system prompt),
    ``conversation`` (``[{'question': question_text + question_prompt,
    'answer': gt_answer[1:]}]``, the answer after the ``"("`` that ends the
    prompt) and ``clip_window`` when given.

    Args:
        ann_file (str): The folder of the JSON files, relative to
            ``data_root``. Defaults to ``''`` (``data_root`` itself).
        task_types (Sequence[str] | dict, optional): File names (without
            ``.json``) to read, each the ``task_type`` of its items, or a
            dict ``{task_type: file name}``. Defaults to every ``*.json`` of
            the folder, sorted.
        question_prompt (str): Text appended to the prompt of the
            conversation; the official evaluation appends
            ``'\\nOnly give the best option.'``. Defaults to ``''``.
        instruction (str): The system prompt. Defaults to MVBench's.
        video_folders (dict | str, optional): ``{task_type: folder}``: the
            videos of a task are ``{data_prefix.video}/{folder}/{video}``
            (MVBench keeps each source's videos in its own folder);
            ``'official'`` is :data:`MVBENCH_VIDEO_FOLDERS`; a task not
            listed uses ``{data_prefix.video}/{video}``. Defaults to None.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'mcq'
    METAINFO = dict(dataset_name='mvbench')

    def __init__(self,
                 ann_file: str = '',
                 task_types: Union[Sequence[str], Dict[str, str], None] = None,
                 question_prompt: str = '',
                 instruction: str = SYSTEM_PROMPT,
                 video_folders: Union[Dict[str, str], str, None] = None,
                 **kwargs) -> None:
        if video_folders == 'official':
            video_folders = MVBENCH_VIDEO_FOLDERS
        elif isinstance(video_folders, str):
            raise ValueError(f"video_folders must be a dict or 'official', "
                             f'got {video_folders!r}')
        self.video_folders = dict(video_folders or {})
        self.task_types = task_types
        self.question_prompt = question_prompt
        self.instruction = instruction
        super().__init__(ann_file=ann_file, **kwargs)

    def _join_prefix(self) -> None:
        """An empty ``ann_file`` is ``data_root`` itself."""
        super()._join_prefix()
        self.ann_file = self.ann_file or self.data_root

    def _task_files(self) -> Dict[str, str]:
        """``{task_type: json path}`` of the files to read."""
        task_types = self.task_types
        if task_types is None:
            paths = sorted(glob.glob(osp.join(self.ann_file, '*.json')))
            if not paths:
                raise FileNotFoundError(
                    f'{type(self).__name__}: no *.json file in ann_file '
                    f'folder {self.ann_file!r}.')
            return {osp.splitext(osp.basename(p))[0]: p for p in paths}
        if not isinstance(task_types, dict):
            task_types = {name: name for name in task_types}
        return {
            task_type:
            require_path(
                osp.join(self.ann_file,
                         name if name.endswith('.json') else f'{name}.json'),
                f'{type(self).__name__}: task file')
            for task_type, name in task_types.items()
        }

    def parse_data_list(self) -> List[dict]:
        """One item per question of every task file."""
        return self.parse_each(
            self._parse_item,
            ((AnnotationRecord(path, f'index {index}', row), task_type)
             for task_type, path in self._task_files().items()
             for index, row in enumerate(load_json(path, list))))

    def _parse_item(self, record: AnnotationRecord, task_type: str) -> dict:
        question = record.text('question')
        candidates = record.fetch('candidates', list)
        if not candidates or not all(isinstance(c, str) for c in candidates):
            raise record.error('candidates',
                               'must be a non-empty list of strings')
        if len(candidates) > 26:
            raise record.error('candidates', 'has more than 26 options')
        answer = record.fetch('answer', str)
        if answer not in candidates:
            raise record.error(
                'answer', f'{answer!r} is not among the candidates '
                f'{candidates}')
        question_text, gt_answer = mvbench_prompt(question, candidates, answer)
        item = dict(
            video_path=self.video_path(
                osp.join(self.video_folders.get(task_type, ''),
                         record.text('video'))),
            task_type=task_type,
            question=question,
            candidates=candidates,
            answer=answer,
            **mcq_prompt_fields(question_text, gt_answer, gt_answer[1:],
                                self.question_prompt, ANSWER_PREFIX,
                                self.instruction))
        window = read_clip_window(record)
        if window is not None:
            item['clip_window'] = window
        return item
