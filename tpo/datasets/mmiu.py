"""MMIU (multimodal multi-image understanding) multiple-choice questions.

Format of the released annotations (verified against ``OpenGVLab/MMIU``:
``VLMEvalKit/all.json`` and the per-task ``results/*/*/metadata_info.json``
files read by its ``evaluate.py`` / ``evaluate_correct.py``; data on Hugging
Face ``FanqingM/MMIU-Benchmark``): a JSON list of records with ``task``
(one of the 52 tasks, e.g. ``'spot_the_diff'``), ``visual_input_component``,
``source``, ``options`` (one string, one option per line: ``"A: ...\\nB:
..."``), ``question``, ``context`` (an instruction ending with ``"Select from
the following choices.\\nA: ...\\nB: ..."``), ``input_image_path`` (a list of
image paths relative to the benchmark folder, e.g.
``"./High-level-obj-semantic/spot_the_diff/spot_the_diff_0_0.png"`` or
``"../MMIU-Benchmark/forensic_detection_blink/..._0_0.jpg"``) and ``output``
(the answer letter).

MMIU does not publish an inference prompt; the default here is the
question, the context (which lists the options) and ``"Answer with the
option's letter from the given choices directly."``, as InternVL's MMIU
evaluation (``internvl_chat/eval/mmiu/evaluate_mmiu.py``) builds it.

The images of a question load as the frames of one clip with
:class:`~tpo.datasets.transforms.load_images.LoadImageSequence` (key
``image_paths``).
"""
import re
from typing import List, Optional, Sequence, Tuple

from tpo.registry import DATASETS
from .annotation import AnnotationRecord
from .base import TPOBaseDataset
from .mcq_utils import (LETTERS, join_path, mcq_prompt_fields, read_letter,
                        read_records, read_text_list)

QUESTION_PROMPT = ("\nAnswer with the option's letter from the given choices "
                   'directly.')
_OPTION_START = re.compile(r'^\s*([A-Z])\s*[:.)]\s?')


def parse_mmiu_options(text: str) -> Tuple[List[str], str]:
    """The option texts of an MMIU ``options`` string (``"A: ...\\nB:
    ..."``; a line not starting with the next letter continues the previous
    option) and an error message, empty if the string is well formed."""
    options: List[str] = []
    for line in text.strip().split('\n'):
        match = _OPTION_START.match(line)
        expected = LETTERS[len(options)] if len(options) < 26 else None
        if match is not None and match.group(1) == expected:
            options.append(line[match.end():].strip())
        elif options:
            options[-1] = f'{options[-1]}\n{line}'.strip()
        else:
            return [], (f'must start with "A:", got {line[:40]!r}')
    if not options:
        return [], 'has no option'
    return options, ''


@DATASETS.register_module()
class MMIUDataset(TPOBaseDataset):
    """MMIU: one item per question of the released JSON list.

    Items: ``image_paths`` (absolute, ``data_prefix['video']`` joined with
    each ``input_image_path``, ``./`` and ``../`` resolved), ``video_path``
    (the first image, for messages), ``task='mcq'``, ``source``,
    ``task_type`` (the record's ``task``), ``visual_input_component``,
    ``origin`` (the record's ``source``), ``question``, ``context``,
    ``options`` / ``candidates`` (option texts), ``gt_answer`` (``output``),
    ``answer`` (its text), ``question_text``, ``answer_prefix``,
    ``instruction`` and ``conversation``.

    Args:
        ann_file (str): The JSON list, relative to ``data_root``.
        data_prefix (dict): ``video``: the folder the image paths are
            relative to (the ``MMIU-Benchmark`` folder).
        task_types (Sequence[str], optional): Keep only these tasks.
            Defaults to all.
        question_prompt (str): Appended to the prompt.
        answer_prefix (str): Defaults to ``''``.
        instruction (str): System prompt. Defaults to ``''``.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'mcq'
    METAINFO = dict(dataset_name='mmiu')

    def __init__(self,
                 ann_file: str = '',
                 task_types: Optional[Sequence[str]] = None,
                 question_prompt: str = QUESTION_PROMPT,
                 answer_prefix: str = '',
                 instruction: str = '',
                 **kwargs) -> None:
        self.task_types = None if task_types is None else tuple(task_types)
        self.question_prompt = question_prompt
        self.answer_prefix = answer_prefix
        self.instruction = instruction
        super().__init__(ann_file=ann_file, **kwargs)

    def parse_data_list(self) -> List[dict]:
        """One item per question, in file order."""
        items = []
        for label, row in read_records(self.ann_file):
            record = AnnotationRecord(self.ann_file, label, row)
            task = record.text('task')
            if self.task_types is None or task in self.task_types:
                items.append(self._parse_item(record, task))
        return items

    def _parse_item(self, record: AnnotationRecord, task: str) -> dict:
        options, problem = parse_mmiu_options(record.text('options'))
        if problem:
            raise record.error('options', problem)
        gt_answer = read_letter(record, 'output', len(options))
        question = record.fetch('question', str).strip()
        context = record.get('context')
        if context is not None and not isinstance(context, str):
            raise record.error('context', 'must be str, got '
                               f'{type(context).__name__}')
        if not context:
            context = 'Select from the following choices.\n' + \
                record.text('options').strip()
        if not question and not context.strip():
            raise record.error('question', 'is empty')
        image_root = self.data_prefix.get('video', '')
        image_paths = [
            join_path(image_root, path)
            for path in read_text_list(record, 'input_image_path',
                                       max_len=10**6)
        ]
        question_text = '\n'.join(p for p in (question, context.strip()) if p)
        return dict(
            image_paths=image_paths,
            video_path=image_paths[0],
            task_type=task,
            visual_input_component=record.get('visual_input_component', ''),
            origin=record.get('source', ''),
            question=question,
            context=context,
            options=options,
            candidates=list(options),
            answer=options[LETTERS.index(gt_answer)],
            **mcq_prompt_fields(question_text, gt_answer, gt_answer,
                                self.question_prompt, self.answer_prefix,
                                self.instruction))
