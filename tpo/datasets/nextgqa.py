"""NExT-GQA grounded multiple-choice video question answering."""
import csv
import math
import os.path as osp
from typing import Dict, List, Optional

import numpy as np

from tpo.registry import DATASETS
from .annotation import (AnnotationError, AnnotationRecord, load_json,
                         require_path)
from .base import TPOBaseDataset
from .mcq_utils import mcq_prompt_fields
from .mvbench import ANSWER_PREFIX, SYSTEM_PROMPT, mvbench_prompt

NUM_OPTIONS = 5
# The first temporal grounding template of the paper (Table 18).
GROUNDING_PROMPT = (
    'Localize the visual content described by the given textual query '
    '{query} in the video, and output the start and end timestamps in '
    'seconds.')
CSV_COLUMNS = ('video_id', 'qid', 'question', 'answer', 'type') + tuple(
    f'a{i}' for i in range(NUM_OPTIONS))


def load_gsub(path: str) -> Dict[str, dict]:
    """Read a NExT-GQA ``gsub_{val,test}.json``.

    Format (``datasets/nextgqa/README.md`` of github.com/doc-doc/NExT-GQA):
    ``{video_id: {duration, location: {qid: [[start, end], ...]}, fps}}``,
    seconds; a question may have several segments.

    Segments are kept as released, as the official evaluation reads them:
    36 test segments start at -0.1 or -0.2 s and 3 val segments end up to
    0.5 s past the (integer) ``duration``; only a segment that is not a
    ``[start, end]`` pair of finite numbers with ``start <= end`` is an
    error.

    Args:
        path (str): The JSON file.

    Returns:
        dict: ``{video_id: {'duration': float, 'location': {qid: (M, 2)
        float64 array}}}``.
    """
    require_path(path, 'NExT-GQA gsub_file')
    out = {}
    for video_id, entry in load_json(path, dict).items():
        record = AnnotationRecord(path, f'video {video_id!r}', entry)
        duration = float(record.fetch('duration', (int, float)))
        if not math.isfinite(duration) or duration <= 0:
            raise record.error('duration',
                               f'must be positive, got {duration:g}')
        location = {}
        for qid, segments in record.fetch('location', dict).items():
            segment_record = AnnotationRecord(
                path, f'video {video_id!r} qid {qid!r}',
                dict(location=segments))
            array = segment_record.array('location', np.float64, 2)
            if len(array) == 0:
                raise segment_record.error('location', 'is empty')
            for start, end in array.tolist():
                if start > end:
                    raise segment_record.error(
                        'location',
                        f'has segment [{start:g}, {end:g}] with start > end')
            location[str(qid)] = array
        out[str(video_id)] = dict(duration=duration, location=location)
    return out


def _error(file: str, label: str, field: str,
           problem: str) -> AnnotationError:
    return AnnotationError(f'{file} {label}: field {field!r} {problem}.')


@DATASETS.register_module()
class NExTGQADataset(TPOBaseDataset):
    """NExT-GQA: the NExT-QA multiple-choice questions that have temporal
    grounding, one item per question.

    Files (github.com/doc-doc/NExT-GQA ``datasets/nextgqa/``, checked
    there): ``{val,test}.csv`` with columns ``video_id, frame_count, width,
    height, question, answer, qid, type, a0, ..., a4`` (``answer`` is the
    text of the right option; ``type`` is ``CW``, ``CH``, ``TN``, ``TP``,
    ``TC``), ``gsub_{val,test}.json`` (see :func:`load_gsub`) and
    ``map_vid_vidorID.json`` (``{video_id: 'folder/video_id'}``, the path of
    the NExT-QA video without extension).

    As the official ``eval_next.py``, only the questions with segments in
    ``gsub_file`` are read (all of them in the released val / test files);
    none at all is an error.

    Items: ``video_path``, ``task='mcq'``, ``source``, ``qid``
    (``'{video_id}_{qid}'``, the key of the official scripts), ``video_id``,
    ``question_id`` (the csv ``qid``), ``task_type`` (the csv ``type``),
    ``question``, ``candidates`` (``a0``-``a4``), ``answer``,
    ``answer_idx`` (the first option equal to it; one test question lists its
    answer twice), ``question_text`` (the MVBench-style prompt ``"Question:
    ...\\nOptions:\\n(A) ..."``), ``gt_answer`` (``"(X) answer"``),
    ``answer_prefix`` (``'Best option:('``), ``instruction``,
    ``conversation`` (as :class:`~tpo.datasets.MVBenchDataset`), ``duration``
    (the gsub ``duration``, s) and ``relevant_windows`` ``(M, 2)`` float32:
    all GT segments as released (:class:`~tpo.evaluation.metrics.NExTGQAMetric`
    takes the maximum over them).

    Args:
        ann_file (str): The csv, relative to ``data_root``.
        gsub_file (str): The ``gsub_*.json``, relative to ``data_root``.
        video_map_file (str, optional): ``map_vid_vidorID.json``, relative to
            ``data_root``: videos are ``{data_prefix.video}/{map[video_id]}
            {video_ext}``. Without it, ``{data_prefix.video}/{video_id}
            {video_ext}``.
        video_ext (str): Extension of the videos. Defaults to ``'.mp4'``.
        question_prompt (str): Text appended to the prompt of the
            conversation. Defaults to ``''``.
        instruction (str): The system prompt. Defaults to MVBench's.
        grounding_prompt (str, optional): The temporal grounding request
            asked about the same video for the question's window,
            ``{query}`` taking the question (items get ``query`` and
            ``grounding_question``; the model answers it with its temporal
            head, see :func:`tpo.models.grounded_qa.ground_questions`).
            Defaults to the first temporal template of the paper (Table
            18); None: no grounding request.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'mcq'
    METAINFO = dict(dataset_name='nextgqa')

    def __init__(self,
                 ann_file: str = '',
                 gsub_file: str = '',
                 video_map_file: Optional[str] = None,
                 video_ext: str = '.mp4',
                 question_prompt: str = '',
                 instruction: str = SYSTEM_PROMPT,
                 grounding_prompt: Optional[str] = GROUNDING_PROMPT,
                 **kwargs) -> None:
        self.grounding_prompt = grounding_prompt
        self.gsub_file = gsub_file
        self.video_map_file = video_map_file
        self.video_ext = video_ext
        self.question_prompt = question_prompt
        self.instruction = instruction
        super().__init__(ann_file=ann_file, **kwargs)

    def _join_prefix(self) -> None:
        """Also join ``data_root`` with the gsub and video map files."""
        super()._join_prefix()
        if self.data_root:
            if self.gsub_file and not osp.isabs(self.gsub_file):
                self.gsub_file = osp.join(self.data_root, self.gsub_file)
            if self.video_map_file and not osp.isabs(self.video_map_file):
                self.video_map_file = osp.join(self.data_root,
                                               self.video_map_file)

    def _load_video_map(self) -> Optional[Dict[str, str]]:
        if not self.video_map_file:
            return None
        require_path(self.video_map_file,
                     f'{type(self).__name__}: video_map_file')
        video_map = load_json(self.video_map_file, dict)
        for video_id, path in video_map.items():
            if not isinstance(path, str) or not path.strip():
                raise _error(self.video_map_file, f'video {video_id!r}',
                             'path', f'must be a non-empty string, got '
                             f'{path!r}')
        return video_map

    def parse_data_list(self) -> List[dict]:
        """One item per grounded question of the csv."""
        if not self.gsub_file:
            raise ValueError(f'{type(self).__name__} needs gsub_file (the '
                             'gsub_{val,test}.json of the split).')
        gsub = load_gsub(self.gsub_file)
        video_map = self._load_video_map()
        items, seen = [], {}
        with open(self.ann_file, newline='', encoding='utf-8') as f:
            reader = csv.DictReader(f)
            missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise AnnotationError(f'{self.ann_file}: missing CSV '
                                      f'columns {sorted(missing)}.')
            for row in reader:
                item = self._parse_row(reader.line_num, row, gsub,
                                       video_map)
                if item is None:
                    continue
                if item['qid'] in seen:
                    raise _error(
                        self.ann_file, f'line {reader.line_num}', 'qid',
                        f'repeats question {item["qid"]!r} of line '
                        f'{seen[item["qid"]]}')
                seen[item['qid']] = reader.line_num
                items.append(item)
        if not items:
            raise AnnotationError(
                f'{self.ann_file}: none of its questions has segments in '
                f'{self.gsub_file} (is it the csv of the same split?).')
        return items

    def _parse_row(self, line_no: int, row: dict, gsub: Dict[str, dict],
                   video_map: Optional[Dict[str, str]]) -> Optional[dict]:
        file = self.ann_file

        def text(label: str, field: str) -> str:
            value = row.get(field)
            if value is None or not value.strip():
                raise _error(file, label, field, 'is empty')
            return value.strip()

        label = f'line {line_no}'
        video_id = text(label, 'video_id')
        question_id = text(label, 'qid')
        label = f'line {line_no} (video_id={video_id!r}, qid={question_id!r})'
        entry = gsub.get(video_id)
        if entry is None or question_id not in entry['location']:
            return None
        question = text(label, 'question')
        candidates = [text(label, f'a{i}') for i in range(NUM_OPTIONS)]
        answer = text(label, 'answer')
        if answer not in candidates:
            raise _error(file, label, 'answer',
                         f'{answer!r} is not among the options {candidates}')
        answer_idx = candidates.index(answer)
        task_type = text(label, 'type')
        if video_map is None:
            video = video_id
        elif video_id in video_map:
            video = video_map[video_id].strip()
        else:
            raise _error(file, label, 'video_id',
                         f'is not in {self.video_map_file}')
        question_text, _ = mvbench_prompt(question, candidates, answer)
        gt_answer = f'({chr(ord("A") + answer_idx)}) {answer}'
        grounding = {} if self.grounding_prompt is None else dict(
            query=question,
            grounding_question=self.grounding_prompt.format(query=question))
        return dict(
            **grounding,
            video_path=self.video_path(video + self.video_ext),
            qid=f'{video_id}_{question_id}',
            video_id=video_id,
            question_id=question_id,
            task_type=task_type,
            question=question,
            candidates=candidates,
            answer=answer,
            answer_idx=answer_idx,
            **mcq_prompt_fields(question_text, gt_answer, gt_answer[1:],
                                self.question_prompt, ANSWER_PREFIX,
                                self.instruction),
            duration=entry['duration'],
            relevant_windows=entry['location'][question_id].astype(
                np.float32))
