"""Video-MME multiple-choice video question answering.

Two released annotation formats are read (verified against the Hugging Face
dataset card of ``lmms-lab/Video-MME``, the README of ``BradyFU/Video-MME``
and its ``evaluation/output_test_template.json``, and the loader of
lmms-eval ``lmms_eval/tasks/videomme/utils.py``):

- Hugging Face (config ``videomme``, ``videomme/test-00000-of-00001.parquet``,
  2700 rows), one record per question: ``video_id`` (``'001'``),
  ``duration`` (``'short'`` / ``'medium'`` / ``'long'``), ``domain`` (e.g.
  ``'Knowledge'``), ``sub_category`` (e.g. ``'Humanity & History'``),
  ``url``, ``videoID`` (the YouTube id, which names the video file
  ``data/{videoID}.mp4``, sometimes ``.MP4`` or ``.mkv``), ``question_id``
  (``'001-1'``), ``task_type`` (e.g. ``'Counting Problem'``), ``question``,
  ``options`` (four strings ``'A. ...'``, ``'B. ...'``, ...) and
  ``answer`` (a letter). Read from the parquet file (needs pyarrow) or the
  same records as a JSON list / JSON lines.
- The official release JSON, one record per video: ``video_id``,
  ``duration_category``, ``video_category``, ``video_sub_category`` (the
  evaluation template spells it ``video_subcategory``; both are read),
  ``url`` and ``questions`` (``question_id``, ``task_type``, ``question``,
  ``choices`` = the ``'A. ...'`` strings, ``answer``). The video file is
  named by the YouTube id of ``url`` (or by ``videoID`` when present).

Subtitles are ``subtitle/{videoID}.srt``. The prompt is the official one of
the Video-MME README: ``"Select the best answer to the following
multiple-choice question based on the video. Respond with only the letter
(A, B, C, or D) of the correct option.\\n{question}\\n{options}\\nThe best
answer is:"``, preceded by ``"This video's subtitles are listed
below:\\n{subtitles}\\n"`` in the with-subtitles setting.
"""
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

from tpo.registry import DATASETS
from .annotation import AnnotationRecord
from .base import TPOBaseDataset
from .mcq_utils import LETTERS, read_letter, read_records, read_text_list

DURATIONS = ('short', 'medium', 'long')
OPTION_PROMPT = ('Select the best answer to the following multiple-choice '
                 'question based on the video. Respond with only the letter '
                 '(A, B, C, or D) of the correct option.')
SUBTITLE_PROMPT = "This video's subtitles are listed below:\n"
NO_SUBTITLES = 'No subtitles available'
_TAG = re.compile(r'<[^>]+>')


def read_srt_text(path: str) -> str:
    """The text lines of an ``.srt`` file (HTML tags such as Video-MME's
    ``<font color="white" size=".72c">`` removed), one cue per line."""
    with open(path, encoding='utf-8', errors='replace') as f:
        blocks = f.read().replace('\r\n', '\n').split('\n\n')
    cues = []
    for block in blocks:
        lines = block.strip().split('\n')
        if len(lines) >= 3 and '-->' in lines[1]:
            text = ' '.join(_TAG.sub('', line).strip() for line in lines[2:])
            if text.strip():
                cues.append(text.strip())
    return '\n'.join(cues)


@DATASETS.register_module()
class VideoMMEDataset(TPOBaseDataset):
    """Video-MME: one item per question of either released annotation format.

    Items: ``video_path`` (``{data_prefix.video}/{videoID}{ext}``, the first
    of ``video_exts`` that exists, else the first), ``task='mcq'``,
    ``source``, ``video_id``, ``youtube_id``, ``question_id``,
    ``duration_category`` (short / medium / long; the annotation's
    ``duration``, renamed because the frame loader writes ``duration`` in
    seconds), ``domain``, ``sub_category``, ``task_type``, ``question``,
    ``options`` (texts without the ``'A. '`` letters), ``candidates`` (the
    same list, the key :class:`~tpo.datasets.transforms.PackTPOInputs` packs
    by default), ``answer`` (the text of the right option), ``gt_answer``
    (its letter), ``question_text`` (the official prompt),
    ``answer_prefix``, ``instruction``, ``conversation``
    (``[{'question': question_text + question_prompt, 'answer':
    gt_answer}]``) and, with subtitles, ``subtitles``.

    Args:
        ann_file (str): The annotation file (``.parquet`` needs pyarrow;
            ``.json`` list or ``.jsonl``), relative to ``data_root``.
        data_prefix (dict): ``video``: folder of the videos; ``subtitle``
            (optional): folder of the ``{videoID}.srt`` files, which turns on
            the "with subtitles" prompt (the whole subtitle text, one cue a
            line; a video without a file gets ``'No subtitles
            available'``, as lmms-eval).
        durations (Sequence[str], optional): Keep only these duration
            categories. Defaults to all.
        video_exts (Sequence[str]): Extensions tried for each video.
            Defaults to ``('.mp4', '.MP4', '.mkv')`` (as lmms-eval).
        question_prompt (str): Appended to the prompt. Defaults to the
            official ``'\\nThe best answer is:'``.
        answer_prefix (str): Start of the answer the model continues.
            Defaults to ``''`` (a VideoChat2-style model may use
            ``'Best option:('``; the answer extraction handles both).
        instruction (str): System prompt. Defaults to ``''``.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'mcq'
    METAINFO = dict(dataset_name='videomme')

    def __init__(self,
                 ann_file: str = '',
                 durations: Optional[Sequence[str]] = None,
                 video_exts: Sequence[str] = ('.mp4', '.MP4', '.mkv'),
                 question_prompt: str = '\nThe best answer is:',
                 answer_prefix: str = '',
                 instruction: str = '',
                 **kwargs) -> None:
        if durations is not None:
            unknown = set(durations) - set(DURATIONS)
            if unknown:
                raise ValueError(f'durations must be among {DURATIONS}, got '
                                 f'{sorted(unknown)}.')
        if not video_exts:
            raise ValueError('video_exts must name at least one extension.')
        self.durations = None if durations is None else tuple(durations)
        self.video_exts = tuple(video_exts)
        self.question_prompt = question_prompt
        self.answer_prefix = answer_prefix
        self.instruction = instruction
        self._subtitle_cache: Dict[str, str] = {}
        super().__init__(ann_file=ann_file, **kwargs)

    def parse_data_list(self) -> List[dict]:
        """One item per question, in file order."""
        items = []
        for label, row in read_records(self.ann_file):
            record = AnnotationRecord(self.ann_file, label, row,
                                      id_key='question_id')
            if 'questions' in record:  # the release JSON: one record a video
                record = AnnotationRecord(self.ann_file, label, row,
                                          id_key='video_id')
                video = self._nested_video(record)
                questions = record.fetch('questions', list)
                if not questions:
                    raise record.error('questions', 'is empty')
                for index, question in enumerate(questions):
                    items.append(self._parse_question(
                        AnnotationRecord(record.file,
                                         f'{record.label} questions[{index}]',
                                         question, id_key='question_id'),
                        video))
            else:
                items.append(self._parse_question(record,
                                                  self._flat_video(record)))
        return [
            item for item in items if self.durations is None
            or item['duration_category'] in self.durations
        ]

    def _video_file(self, youtube_id: str) -> str:
        names = [youtube_id + ext for ext in self.video_exts]
        for name in names:
            path = self.video_path(name)
            if osp.exists(path):
                return path
        return self.video_path(names[0])

    def _subtitles(self, youtube_id: str) -> str:
        if youtube_id not in self._subtitle_cache:
            path = osp.join(self.data_prefix['subtitle'], f'{youtube_id}.srt')
            text = read_srt_text(path) if osp.isfile(path) else ''
            self._subtitle_cache[youtube_id] = text or NO_SUBTITLES
        return self._subtitle_cache[youtube_id]

    @staticmethod
    def _duration(record: AnnotationRecord, field: str) -> str:
        duration = record.text(field)
        if duration not in DURATIONS:
            raise record.error(field,
                               f'must be one of {DURATIONS}, got {duration!r}')
        return duration

    def _flat_video(self, record: AnnotationRecord) -> dict:
        """The video fields of a Hugging Face (one question) record."""
        return dict(
            video_id=str(record.fetch('video_id', (str, int))),
            youtube_id=record.text('videoID'),
            duration_category=self._duration(record, 'duration'),
            domain=record.text('domain'),
            sub_category=record.text('sub_category'))

    def _nested_video(self, record: AnnotationRecord) -> dict:
        """The video fields of a release-JSON (one video) record; the video
        file is named by ``videoID`` if given, else by the YouTube id in
        ``url``."""
        if 'videoID' in record:
            youtube_id = record.text('videoID')
        else:
            url = record.text('url')
            match = re.search(r'(?:[?&]v=|youtu\.be/|/shorts/)([\w-]+)', url)
            if match is None:
                raise record.error('url', f'has no YouTube video id: {url!r}')
            youtube_id = match.group(1)
        sub_field = 'video_subcategory' if 'video_subcategory' in record \
            and 'video_sub_category' not in record else 'video_sub_category'
        return dict(
            video_id=str(record.fetch('video_id', (str, int))),
            youtube_id=youtube_id,
            duration_category=self._duration(record, 'duration_category'),
            domain=record.text('video_category'),
            sub_category=record.text(sub_field))

    def _parse_question(self, record: AnnotationRecord, video: dict) -> dict:
        options_field = 'choices' if 'choices' in record and \
            'options' not in record else 'options'
        raw_options = read_text_list(record, options_field)
        options = []
        for index, option in enumerate(raw_options):
            letter = LETTERS[index]
            match = re.match(rf'\s*{letter}\s*[.:)]\s?', option)
            if match is None:
                raise record.error(
                    options_field, f'entry {index} must start with '
                    f'"{letter}.", got {option[:40]!r}')
            options.append(option[match.end():].strip())
        gt_answer = read_letter(record, 'answer', len(options))
        youtube_id = video['youtube_id']
        question = record.text('question')
        question_text = '\n'.join([OPTION_PROMPT, question, *raw_options])
        item = dict(
            video_path=self._video_file(youtube_id),
            **video,
            question_id=str(record.fetch('question_id', (str, int))),
            task_type=record.text('task_type'),
            question=question,
            options=options,
            candidates=list(options),
            answer=options[LETTERS.index(gt_answer)],
            gt_answer=gt_answer,
            answer_prefix=self.answer_prefix,
            instruction=self.instruction)
        if 'subtitle' in self.data_prefix:
            item['subtitles'] = self._subtitles(youtube_id)
            question_text = (SUBTITLE_PROMPT + item['subtitles'] + '\n' +
                             question_text)
        item['question_text'] = question_text
        item['conversation'] = [
            dict(question=question_text + self.question_prompt,
                 answer=gt_answer)
        ]
        return item
