"""ShareGPT / LLaVA-style conversation annotations."""
import re
from typing import Any, Iterator, List, Tuple

from tpo.registry import DATASETS
from .annotation import (AnnotationRecord, iter_jsonl, load_json,
                         read_clip_window)
from .base import TPOBaseDataset

HUMAN_ROLES = ('human', 'user')
GPT_ROLES = ('gpt', 'assistant')
PLACEHOLDERS = ('<video>', '<image>')


@DATASETS.register_module()
class ShareGPTDataset(TPOBaseDataset):
    """Conversations in the ShareGPT / LLaVA format (ShareGPT4V,
    ShareGPT-4o, LLaVA-Hound SFT, LLaVA-665K...): a JSON list (or a ``.jsonl``
    file, one object a line) of ``{"id", "video" | "image": path,
    "conversations": [{"from": "human" | "gpt", "value": str}, ...]}``,
    optionally with a clip ``start`` / ``end`` (seconds).

    Turns alternate ``human`` (or ``user``) and ``gpt`` (or ``assistant``),
    after an optional first ``system`` turn, which becomes the instruction.
    The ``<video>`` / ``<image>`` placeholder (at most one per sample) is
    removed from the question: the model's prompt places the visual tokens
    itself. A sample without a video or image is an error (the model needs
    one).

    Items (as :class:`~tpo.datasets.VideoChat2ITDataset`'s): ``video_path``,
    ``task='chat'``, ``source``, ``instruction`` (str, may be empty),
    ``conversation`` (list of ``{'question', 'answer'}``), ``sample_id``
    (the ``id`` field, when present) and ``clip_window`` when given.

    Args: see :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'chat'
    METAINFO = dict(dataset_name='sharegpt')

    def _rows(self) -> Iterator[Tuple[str, Any]]:
        """``(label, entry)`` of every entry of the file."""
        if self.ann_file.endswith('.jsonl'):
            for line_no, row in iter_jsonl(self.ann_file):
                yield f'line {line_no}', row
        else:
            for index, row in enumerate(load_json(self.ann_file, list)):
                yield f'index {index}', row

    def parse_data_list(self) -> List[dict]:
        """One item per entry."""
        return self.parse_each(
            lambda label, entry: self._parse_entry(
                AnnotationRecord(self.ann_file, label, entry, 'id')),
            self._rows())

    def _media(self, record: AnnotationRecord) -> str:
        media = 'video' if 'video' in record else 'image'
        if media not in record:
            raise record.error('video', "is missing (and so is 'image')")
        return record.text(media)

    def _turns(self, record: AnnotationRecord) -> Tuple[str, List[dict]]:
        """The instruction and the ``{'question', 'answer'}`` turns."""
        raw = record.fetch('conversations', list)
        turns = [
            AnnotationRecord(record.file, f'{record.label} conversations[{i}]',
                             turn) for i, turn in enumerate(raw)
        ]
        instruction = ''
        if turns and turns[0].get('from') == 'system':
            instruction = turns.pop(0).fetch('value', str).strip()
        if not turns:
            raise record.error('conversations', 'has no human/gpt turn')
        if len(turns) % 2:
            raise turns[-1].error(
                'from', f'{turns[-1].get("from")!r} ends the conversation '
                'without an answer (turns must alternate human, gpt)')
        pairs, placeholders = [], 0
        for question, answer in zip(turns[0::2], turns[1::2]):
            for turn, roles in ((question, HUMAN_ROLES), (answer, GPT_ROLES)):
                role = turn.fetch('from', str)
                if role not in roles:
                    raise turn.error(
                        'from', f'must be one of {roles} here (turns '
                        f'alternate human, gpt), got {role!r}')
            text = question.fetch('value', str)
            placeholders += sum(text.count(p) for p in PLACEHOLDERS)
            pairs.append(
                dict(question=_strip_placeholders(text),
                     answer=answer.text('value')))
        if placeholders > 1:
            raise record.error(
                'conversations', f'holds {placeholders} <video>/<image> '
                'placeholders; one video or image per sample is supported')
        return instruction, pairs

    def _parse_entry(self, record: AnnotationRecord) -> dict:
        path = self._media(record)
        instruction, conversation = self._turns(record)
        item = dict(
            video_path=self.video_path(path),
            instruction=instruction,
            conversation=conversation)
        if 'id' in record:
            item['sample_id'] = record.get('id')
        window = read_clip_window(record)
        if window is not None:
            item['clip_window'] = window
        return item


def _strip_placeholders(text: str) -> str:
    for placeholder in PLACEHOLDERS:
        text = re.sub(rf'\s*{re.escape(placeholder)}\s*', ' ', text)
    return text.strip()
