"""Charades-STA temporal sentence grounding annotations."""
import csv
import math
import os.path as osp
from typing import Dict, List, Optional

import numpy as np

from tpo.registry import DATASETS
from .annotation import AnnotationError, require_path
from .base import TPOBaseDataset


def _error(file: str, line_no: int, field: str,
           problem: str) -> AnnotationError:
    """An error naming the file, the line and ``field``."""
    return AnnotationError(f'{file} line {line_no}: field {field!r} '
                           f'{problem}.')


def _seconds(file: str, line_no: int, field: str, text: str) -> float:
    """A finite non-negative number of seconds read from ``text``."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise _error(file, line_no, field,
                     f'must be a number >= 0, got {text!r}')
    return value


@DATASETS.register_module()
class CharadesSTADataset(TPOBaseDataset):
    """Charades-STA ``charades_sta_{split}.txt``: one item per line.

    Each line is ``"<vid> <start> <end>##<sentence>"`` (seconds); the video
    is ``{data_prefix.video}/{vid}{video_ext}``. With ``meta_file`` (the
    Charades ``Charades_v1_{split}.csv``, columns ``id`` and ``length``) the
    duration of each video is known and a GT end past it is clipped to it
    (562 lines of the test split end after their video); the window as
    annotated is kept in ``raw_window``.

    Items: ``video_path``, ``task='temporal'``, ``source``, ``vid``,
    ``query`` (the sentence), ``duration`` (float, s; None when unknown:
    no ``meta_file`` or a video missing from it), ``relevant_windows``
    ``(1, 2)`` float32 ``[start, end]`` seconds, clipped to ``duration``, and
    ``raw_window`` ``(1, 2)`` float32, unclipped.

    Args:
        ann_file (str): The ``.txt`` annotation file.
        meta_file (str, optional): The Charades CSV with the video lengths,
            relative to ``data_root``. Defaults to None (durations unknown).
        video_ext (str): Extension of the video files. Defaults to
            ``'.mp4'``.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'temporal'
    METAINFO = dict(dataset_name='charades_sta')

    def __init__(self,
                 ann_file: str = '',
                 meta_file: Optional[str] = None,
                 video_ext: str = '.mp4',
                 **kwargs) -> None:
        self.meta_file = meta_file
        self.video_ext = video_ext
        super().__init__(ann_file=ann_file, **kwargs)

    def _join_prefix(self) -> None:
        """Also join ``data_root`` with :attr:`meta_file`."""
        super()._join_prefix()
        if self.meta_file and self.data_root and not osp.isabs(self.meta_file):
            self.meta_file = osp.join(self.data_root, self.meta_file)

    def _load_durations(self) -> Dict[str, float]:
        """``{vid: length}`` of the meta file; empty without one."""
        if not self.meta_file:
            return {}
        require_path(self.meta_file, f'{type(self).__name__}: meta_file')
        with open(self.meta_file, newline='', encoding='utf-8') as f:
            reader = csv.DictReader(f)
            missing = {'id', 'length'} - set(reader.fieldnames or ())
            if missing:
                raise AnnotationError(f'{self.meta_file}: missing CSV '
                                      f'columns {sorted(missing)}.')
            durations = {}
            for row in reader:
                length = _seconds(self.meta_file, reader.line_num, 'length',
                                  row['length'] or '')
                if length == 0:
                    raise _error(self.meta_file, reader.line_num, 'length',
                                 'must be positive, got 0')
                durations[row['id']] = length
        return durations

    def parse_data_list(self) -> List[dict]:
        """One item per non-empty line of the annotation file."""
        durations = self._load_durations()
        with open(self.ann_file, encoding='utf-8') as f:
            return self.parse_each(
                self._parse_line,
                ((n, line.strip(), durations)
                 for n, line in enumerate(f, 1) if line.strip()))

    def _parse_line(self, line_no: int, line: str,
                    durations: Dict[str, float]) -> dict:
        file = self.ann_file
        head, sep, sentence = line.partition('##')
        if not sep:
            raise _error(file, line_no, 'sentence',
                         f"is missing (no '##' in {line[:80]!r})")
        if not sentence.strip():
            raise _error(file, line_no, 'sentence', 'is empty')
        fields = head.split()
        if len(fields) != 3:
            raise _error(file, line_no, 'window',
                         f"must be '<vid> <start> <end>', got {head!r}")
        vid = fields[0]
        start = _seconds(file, line_no, 'start', fields[1])
        end = _seconds(file, line_no, 'end', fields[2])
        if start > end:
            raise _error(
                file, line_no, 'end',
                f'must be >= start, got start={start:g}, end={end:g}')
        duration = durations.get(vid)
        if duration is not None and start > duration:
            raise _error(
                file, line_no, 'start',
                f'is past the video ({start:g} > duration {duration:g})')
        clipped_end = end if duration is None else min(end, duration)
        return dict(
            video_path=self.video_path(vid + self.video_ext),
            vid=vid,
            query=sentence.strip(),
            duration=duration,
            relevant_windows=np.array([[start, clipped_end]], np.float32),
            raw_window=np.array([[start, end]], np.float32))
