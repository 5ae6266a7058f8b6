"""MLVU (multi-task long video understanding), multiple-choice tasks.

Format of the released annotations (verified against the files of
``FlagOpen/FlagEmbedding`` ``MLVU/data/*.json``, which the MLVU README links
as the annotation release, and the evaluation scripts of ``JUNJIE99/MLVU``):

- MLVU-Dev: one JSON list per task, ``1_plotQA.json``, ``2_needle.json``,
  ``3_ego.json``, ``4_count.json``, ``5_order.json``,
  ``6_anomaly_reco.json``, ``7_topic_reasoning.json`` (multiple choice) and
  ``8_sub_scene.json``, ``9_summary.json`` (generation, no ``candidates``;
  skipped here). Each record: ``video`` (file name), ``duration`` (seconds),
  ``question``, ``candidates`` (option texts), ``answer`` (the text of the
  right option) and ``question_type`` (e.g. ``'plotQA'``, ``'findNeedle'``,
  ``'order'``; the generation types are ``'subPlot'`` and ``'summary'``).
  The videos of ``N_task.json`` are in ``video/N_task/``.
- MLVU-Test: one JSON list (``test_question.json``) of the same records with
  a ``question_id`` (e.g. ``'AR_0'``), up to six candidates and no
  ``answer`` (the ground truth is withheld; read it with
  ``test_mode=True``).

The prompt is the official one (``choice_bench.py``): ``"Question:
{question}\\nOptions:\\n(A) ...\\n(B) ..."``, then ``"\\nOnly give the best
option."``, the answer starting with ``"Best option:("``; the system prompt
is ``"Carefully watch this video and pay attention to every detail. Based on
your observations, select the best option that accurately addresses the
question."``
"""
import glob
import os.path as osp
from typing import List, Optional, Sequence

from tpo.registry import DATASETS
from .annotation import AnnotationRecord
from .base import TPOBaseDataset
from .mcq_utils import LETTERS, format_options, read_records, read_text_list

GENERATION_TYPES = ('subPlot', 'summary')
ANSWER_PREFIX = 'Best option:('
SYSTEM_PROMPT = ('Carefully watch this video and pay attention to every '
                 'detail. Based on your observations, select the best option '
                 'that accurately addresses the question.')


@DATASETS.register_module()
class MLVUDataset(TPOBaseDataset):
    """MLVU multiple-choice questions: a folder of per-task JSON files (Dev)
    or one JSON file (Test).

    Items: ``video_path``, ``task='mcq'``, ``source``, ``task_type`` (the
    record's ``question_type``), ``question``, ``options`` and
    ``candidates`` (the candidate texts), ``question_text`` (the official
    prompt), ``answer_prefix``, ``instruction``, ``conversation``, optional
    ``question_id`` and ``video_duration`` (seconds, from the annotation),
    and, when the record has an ``answer``, ``answer`` and ``gt_answer``
    (the letter of the last candidate equal to it, as the official
    ``qa_template``). The conversation's answer is ``'X) answer'``, the
    continuation of ``'Best option:('``.

    Args:
        ann_file (str): A JSON file, or a folder whose ``*.json`` files are
            all read (sorted), relative to ``data_root``. Defaults to ``''``
            (``data_root`` itself).
        data_prefix (dict): ``video``: the video folder.
        video_subfolder (str): Sub-folder of ``data_prefix['video']`` holding
            a record's video; ``{file}`` is replaced by the JSON file name
            without ``.json`` and ``{task}`` by the ``question_type``.
            Defaults to ``'{file}'`` (the Dev layout ``video/1_plotQA/``);
            use ``''`` for one flat folder (the Test layout).
        task_types (Sequence[str], optional): Keep only these
            ``question_type`` values. Defaults to every multiple-choice one.
        question_prompt (str): Appended to the prompt. Defaults to the
            official ``'\\nOnly give the best option.'``.
        answer_prefix (str): Defaults to ``'Best option:('``.
        instruction (str): System prompt. Defaults to MLVU's.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
            A record without ``answer`` is an error unless ``test_mode``.
    """

    TASK = 'mcq'
    METAINFO = dict(dataset_name='mlvu')

    def __init__(self,
                 ann_file: str = '',
                 video_subfolder: str = '{file}',
                 task_types: Optional[Sequence[str]] = None,
                 question_prompt: str = '\nOnly give the best option.',
                 answer_prefix: str = ANSWER_PREFIX,
                 instruction: str = SYSTEM_PROMPT,
                 **kwargs) -> None:
        self.video_subfolder = video_subfolder
        self.task_types = None if task_types is None else tuple(task_types)
        self.question_prompt = question_prompt
        self.answer_prefix = answer_prefix
        self.instruction = instruction
        super().__init__(ann_file=ann_file, **kwargs)

    def _join_prefix(self) -> None:
        """An empty ``ann_file`` is ``data_root`` itself."""
        super()._join_prefix()
        self.ann_file = self.ann_file or self.data_root

    def _files(self) -> List[str]:
        if not osp.isdir(self.ann_file):
            return [self.ann_file]
        paths = sorted(glob.glob(osp.join(self.ann_file, '*.json')))
        if not paths:
            raise FileNotFoundError(
                f'{type(self).__name__}: no *.json file in ann_file folder '
                f'{self.ann_file!r}.')
        return paths

    def parse_data_list(self) -> List[dict]:
        """One item per multiple-choice question of every file."""
        items = []
        for path in self._files():
            stem = osp.splitext(osp.basename(path))[0]
            for label, row in read_records(path):
                record = AnnotationRecord(path, label, row,
                                          id_key='question_id')
                task_type = record.text('question_type')
                if task_type in GENERATION_TYPES or (
                        self.task_types is not None
                        and task_type not in self.task_types):
                    continue
                items.append(self._parse_item(record, task_type, stem))
        return items

    def _parse_item(self, record: AnnotationRecord, task_type: str,
                    stem: str) -> dict:
        question = record.text('question')
        candidates = read_text_list(record, 'candidates')
        subfolder = self.video_subfolder.format(file=stem, task=task_type)
        question_text = '\n'.join([
            f'Question: {question}', 'Options:',
            format_options(candidates, '({letter}) {text}')
        ])
        item = dict(
            video_path=self.video_path(
                osp.join(subfolder, record.text('video'))),
            task_type=task_type,
            question=question,
            options=candidates,
            candidates=list(candidates),
            question_text=question_text,
            answer_prefix=self.answer_prefix,
            instruction=self.instruction)
        if 'question_id' in record:
            item['question_id'] = str(
                record.fetch('question_id', (str, int)))
        if 'duration' in record:
            item['video_duration'] = float(
                record.fetch('duration', (int, float)))
        answer_text = ''
        if 'answer' in record or not self.test_mode:
            answer = record.fetch('answer', str)
            # the official qa_template keeps the last equal candidate
            matches = [i for i, c in enumerate(candidates) if c == answer]
            if not matches:
                raise record.error(
                    'answer', f'{answer!r} is not among the candidates '
                    f'{candidates}')
            item['answer'] = answer
            item['gt_answer'] = LETTERS[matches[-1]]
            answer_text = f'{item["gt_answer"]}) {answer}'
        item['conversation'] = [
            dict(question=question_text + self.question_prompt,
                 answer=answer_text)
        ]
        return item
