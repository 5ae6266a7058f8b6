"""Helpers shared by the multiple-choice benchmark readers (MVBench,
NExT-GQA, VideoMME, MLVU, MMIU, SEED-Bench-2): reading record files, option
lists and letters, and the prompt fields of an item."""
import os.path as osp
import string
from typing import Any, List, Optional, Sequence, Tuple

from .annotation import (AnnotationError, AnnotationRecord, iter_jsonl,
                         load_json)

LETTERS = string.ascii_uppercase


def option_letter(index: int) -> str:
    """``'A'`` for option 0, ``'B'`` for option 1, ..."""
    return LETTERS[index]


def format_options(options: Sequence[str], template: str) -> str:
    """One line per option, ``template`` filled with ``letter`` and ``text``,
    e.g. ``'({letter}) {text}'`` or ``'{letter}. {text}'``."""
    return '\n'.join(
        template.format(letter=option_letter(i), text=text)
        for i, text in enumerate(options))


def read_records(path: str,
                 list_key: Optional[str] = None) -> List[Tuple[str, Any]]:
    """``(label, record)`` of every record of an annotation file.

    ``.jsonl``: one JSON object per line (label ``'line N'``); ``.parquet``
    (needs ``pyarrow``): one record per row (label ``'row N'``); anything
    else: a JSON list (label ``'index N'``), or a JSON object holding that
    list under ``list_key``.
    """
    lower = path.lower()
    if lower.endswith('.jsonl'):
        return [(f'line {n}', row) for n, row in iter_jsonl(path)]
    if lower.endswith('.parquet'):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError(
                f'Reading {path} needs pyarrow (pip install pyarrow), or '
                'convert the parquet file to JSON first.') from None
        try:
            rows = pq.read_table(path).to_pylist()
        except Exception as error:  # pyarrow raises its own error types
            raise AnnotationError(
                f'{path}: cannot read the parquet file '
                f'({type(error).__name__}: {error}).') from None
        return [(f'row {i}', row) for i, row in enumerate(rows)]
    data = load_json(path)
    if list_key is not None and isinstance(data, dict):
        if list_key not in data:
            raise AnnotationError(
                f'{path}: expected a JSON list or an object with a '
                f'{list_key!r} list, got an object with keys '
                f'{sorted(data)[:10]}.')
        data = data[list_key]
    if not isinstance(data, list):
        raise AnnotationError(f'{path}: expected a JSON list of records, got '
                              f'{type(data).__name__}.')
    return [(f'index {i}', row) for i, row in enumerate(data)]


def read_text_list(record: AnnotationRecord,
                   field: str,
                   max_len: int = 26) -> List[str]:
    """A required non-empty list of at most ``max_len`` strings."""
    value = record.fetch(field, list)
    if not value or not all(isinstance(v, str) for v in value):
        raise record.error(field, 'must be a non-empty list of strings, got '
                           f'{str(value)[:80]}')
    if len(value) > max_len:
        raise record.error(field,
                           f'has {len(value)} entries, more than {max_len}')
    return list(value)


def read_letter(record: AnnotationRecord, field: str,
                num_options: int) -> str:
    """A required answer letter among the first ``num_options`` letters
    (surrounding spaces ignored)."""
    value = record.fetch(field, str).strip()
    valid = LETTERS[:num_options]
    if len(value) != 1 or value not in valid:
        raise record.error(
            field, f'must be one of the option letters {list(valid)}, got '
            f'{value!r}')
    return value


def join_path(root: str, name: str) -> str:
    """Absolute, normalised ``root/name`` (``./`` and ``../`` resolved)."""
    return osp.abspath(osp.normpath(osp.join(root, name)))


def mcq_prompt_fields(question_text: str, gt_answer: str, answer: str,
                      question_prompt: str, answer_prefix: str,
                      instruction: str) -> dict:
    """The fields a multiple-choice item is asked and scored with: the
    question text, the letter answer, the answer prefix and instruction of
    the prompt, and a one-turn ``conversation`` (the question text plus
    ``question_prompt``, answered with ``answer``)."""
    return dict(
        question_text=question_text,
        gt_answer=gt_answer,
        answer_prefix=answer_prefix,
        instruction=instruction,
        conversation=[
            dict(question=question_text + question_prompt, answer=answer)
        ])
