"""Reading annotation files with errors that name the file, the record and
the field at fault."""
import json
import os.path as osp
from typing import Any, Iterator, Optional, Tuple, Type, Union

import numpy as np


class AnnotationError(ValueError):
    """An annotation file holds a record that cannot be read."""


def require_path(path: str, what: str) -> str:
    """Return ``path`` if it exists, else raise a :class:`FileNotFoundError`
    naming it and what it should be (e.g. ``'ann_file'``)."""
    if not path or not osp.exists(path):
        raise FileNotFoundError(f'{what} {path!r} does not exist.')
    return path


def _json_error(path: str, error: json.JSONDecodeError,
                first_line: int = 1) -> AnnotationError:
    """An error naming the file, line and column of a JSON syntax error;
    text that ends before the JSON does (a file cut short) is named so, at
    its last character."""
    doc = error.doc.rstrip()
    pos = min(error.pos, len(doc))
    line = doc.count('\n', 0, pos) + first_line
    column = pos - (doc.rfind('\n', 0, pos) + 1) + 1
    cut = ' (the text ends before the JSON value does: is it cut short?)' \
        if error.pos >= len(doc) else ''
    return AnnotationError(f'{path} line {line} column {column}: invalid '
                           f'JSON ({error.msg}){cut}.')


def load_json(path: str, kind: Optional[type] = None) -> Any:
    """Load a JSON file whose top level is of type ``kind`` (any if None); a
    syntax error names the file, line and column."""
    with open(path, encoding='utf-8') as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as error:
            raise _json_error(path, error) from None
        except UnicodeDecodeError as error:
            raise AnnotationError(
                f'{path}: not a UTF-8 JSON file (byte {error.start} is '
                f'{error.object[error.start:error.start + 1]!r}); is it a '
                'binary file, e.g. a pickle that must be converted '
                'first?') from None
    if kind is not None and not isinstance(data, kind):
        raise AnnotationError(f'{path}: expected a JSON {kind.__name__} at '
                              f'the top level, got {type(data).__name__}.')
    return data


def iter_jsonl(path: str) -> Iterator[Tuple[int, Any]]:
    """``(line number, object)`` of every non-empty line of a JSON-lines
    file; a line that is not JSON names the file and the line."""
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield line_no, json.loads(line)
            except json.JSONDecodeError as error:
                raise _json_error(path, error, line_no) from None


class AnnotationRecord:
    """One record (a JSON object) of an annotation file.

    Its errors read ``'{file} {label}: field {field!r} {problem}'``, e.g.
    ``"val.jsonl line 17 (qid=123): field 'relevant_windows' is missing"``.

    Args:
        file (str): The annotation file.
        label (str): Where the record is, e.g. ``'line 17'`` or
            ``'index 3'``.
        data (Any): The record; it must be a dict.
        id_key (str, optional): A field that identifies the record; its value
            is added to the label when present.
    """

    def __init__(self,
                 file: str,
                 label: str,
                 data: Any,
                 id_key: Optional[str] = None) -> None:
        if not isinstance(data, dict):
            raise AnnotationError(f'{file} {label}: expected a JSON object, '
                                  f'got {type(data).__name__}.')
        if id_key is not None and id_key in data:
            label = f'{label} ({id_key}={data[id_key]!r})'
        self.file = file
        self.label = label
        self.data = data

    def error(self, field: str, problem: str) -> AnnotationError:
        """An error naming the file, this record and ``field``."""
        return AnnotationError(
            f'{self.file} {self.label}: field {field!r} {problem}.')

    def __contains__(self, field: str) -> bool:
        return field in self.data

    def get(self, field: str, default: Any = None) -> Any:
        """The value of an optional field."""
        return self.data.get(field, default)

    def fetch(self,
              field: str,
              kind: Union[Type, Tuple[Type, ...], None] = None) -> Any:
        """The value of a required field, checked to be of type ``kind``."""
        if field not in self.data:
            raise self.error(field, 'is missing')
        value = self.data[field]
        if kind is not None and (not isinstance(value, kind)
                                 or isinstance(value, bool)):
            names = ' or '.join(
                k.__name__
                for k in (kind if isinstance(kind, tuple) else (kind, )))
            raise self.error(field,
                             f'must be {names}, got {type(value).__name__}')
        return value

    def text(self, field: str) -> str:
        """A required non-empty string field."""
        value = self.fetch(field, str)
        if not value.strip():
            raise self.error(field, 'is empty')
        return value

    def array(self,
              field: str,
              dtype: type,
              width: Optional[int] = None) -> np.ndarray:
        """A required list of numbers as a ``(K,)`` array, or of
        ``width``-number lists as a ``(K, width)`` array."""
        value = self.fetch(field, list)
        shape = (0, ) if width is None else (0, width)
        try:
            array = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError):
            array = None
        if array is not None and array.size == 0:
            array = array.reshape(shape)
        if (array is None or array.shape[1:] != shape[1:]
                or not np.isfinite(array).all()):
            kind = 'numbers' if width is None else f'[{width} numbers] lists'
            raise self.error(
                field, f'must be a list of {kind}, got {str(value)[:80]}')
        return array


def read_clip_window(record: AnnotationRecord
                     ) -> Optional[Tuple[float, float]]:
    """The optional clip ``(start, end)`` seconds of a record (its ``start``
    and ``end`` fields); None when it has neither."""
    if 'start' not in record and 'end' not in record:
        return None
    start = float(record.fetch('start', (int, float)))
    end = float(record.fetch('end', (int, float)))
    if not 0 <= start <= end:
        raise record.error(
            'end', f'must be >= start >= 0, got start={start:g}, end={end:g}')
    return start, end


def box_in_image(record: AnnotationRecord, field: str, box: np.ndarray,
                 shape: Tuple[int, int]) -> Tuple[np.ndarray, bool]:
    """An ``x1, y1, x2, y2`` box of ``record`` clipped to an image of
    ``shape`` ``(h, w)``, and whether clipping changed it.

    A box without area, or one that does not overlap the image, raises an
    error naming the file, the record and ``field``.
    """
    height, width = shape
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        raise record.error(
            field, f'has no area (width {x2 - x1:g}, height {y2 - y1:g}); '
            'a box must be wider and higher than 0')
    if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
        raise record.error(
            field, f'({x1:g}, {y1:g}, {x2:g}, {y2:g} as x1, y1, x2, y2) lies '
            f'outside its {width}x{height} image')
    clipped = np.clip(np.asarray(box, dtype=np.float32), 0,
                      np.array([width, height, width, height], np.float32))
    return clipped, bool((clipped != box).any())
