"""LaSOT and GOT-10k single-object tracking sequences."""
import os
import os.path as osp
import re
from typing import List, Optional, Tuple

import numpy as np

from tpo.registry import DATASETS
from .annotation import AnnotationError, require_path
from .base import TPOBaseDataset

Rows = List[Tuple[int, List[str]]]  # (line number, values)
BOX_FIELDS = ('x', 'y', 'w', 'h')


def _read_rows(path: str) -> Rows:
    """The comma- or space-separated values of every line of ``path``;
    only trailing lines may be blank."""
    with open(require_path(path, 'LaSOT annotation')) as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return [(n, [v for v in re.split(r'[,\s]+', line.strip()) if v])
            for n, line in enumerate(lines, 1)]


def read_boxes(path: str) -> np.ndarray:
    """The ``(T, 4)`` float32 ``x, y, w, h`` rows of a ground-truth file."""
    rows = _read_rows(path)
    if not rows:
        raise AnnotationError(f'{path}: no box rows.')
    boxes = np.zeros((len(rows), 4), dtype=np.float32)
    for i, (line_no, values) in enumerate(rows):
        if len(values) != 4:
            raise AnnotationError(
                f'{path} line {line_no}: field {",".join(BOX_FIELDS)!r} '
                f'must be 4 numbers, got {len(values)} ({values[:8]}).')
        for j, (field, value) in enumerate(zip(BOX_FIELDS, values)):
            try:
                boxes[i, j] = float(value)
            except ValueError:
                boxes[i, j] = np.nan
            if not np.isfinite(boxes[i, j]) or (j >= 2 and boxes[i, j] < 0):
                raise AnnotationError(
                    f'{path} line {line_no}: field {field!r} must be a '
                    f'finite number{" >= 0" if j >= 2 else ""}, got '
                    f'{value!r}.')
    return boxes


def read_flags(path: str,
               field: str,
               num_frames: int,
               max_value: int = 1) -> np.ndarray:
    """The ``(T,)`` uint8 flags (``0..max_value``; 0/1 by default) of a file
    holding one per frame (one a line, or comma-separated on one line)."""
    flags, line_no = [], 0
    allowed = tuple(str(v) for v in range(max_value + 1))
    for line_no, values in _read_rows(path):
        for value in values:
            if value not in allowed:
                raise AnnotationError(
                    f'{path} line {line_no}: field {field!r} must be an '
                    f'integer 0..{max_value}, got {value!r}.')
            flags.append(int(value))
            if len(flags) > num_frames:
                raise AnnotationError(
                    f'{path} line {line_no}: field {field!r} has more than '
                    f'the {num_frames} frames of the ground truth.')
    if len(flags) < num_frames:
        raise AnnotationError(
            f'{path} line {line_no + 1}: field {field!r} has {len(flags)} '
            f'frames, the ground truth has {num_frames}.')
    return np.asarray(flags, dtype=np.uint8)


@DATASETS.register_module()
class LaSOTDataset(TPOBaseDataset):
    """LaSOT sequences listed in a split file (one name a line).

    ``layout='lasot'`` reads the released folders
    ``{data_root}/{category}/{seq}/``: ``groundtruth.txt``,
    ``full_occlusion.txt``, ``out_of_view.txt`` and ``nlp.txt``.
    ``layout='annos'`` reads the evaluation toolkit's ``annos/{seq}.txt``,
    ``annos/absent/{seq}.txt`` and ``annos/nlp/{seq}.txt``. Frames are
    ``{data_prefix.video}/{category}/{seq}/img/00000001.jpg...``.

    ``layout='got10k'`` reads a GOT-10k split folder (``ann_file`` is its
    ``list.txt``): ``{data_root}/{seq}/groundtruth.txt``, ``absence.label``
    (0/1), ``cover.label`` (0-8, visible-ratio level) and
    ``cut_by_image.label`` (0/1), with ``meta_info.ini``'s ``object_class``
    as the category when present. Frames are
    ``{data_prefix.video}/{seq}/00000001.jpg...``. The test split ships only
    the first frame's box and no labels: such a sequence has one box row,
    ``first_box_only=True`` and ``num_frames`` counted from its ``.jpg``
    frames (1 when they are absent). GOT-10k has no language: its items have
    no ``expression``; GOT-10k boxes are 0-based.

    Items: ``video_path`` and ``frame_dir`` (the absolute frame folder),
    ``task='track'``, ``source``, ``sequence``, ``category``,
    ``num_frames``, ``gt_track_bboxes`` ``(T, 4)`` float32 ``x, y, w, h`` as
    in the file, ``gt_bboxes_xyxy`` ``(T, 4)`` float32 0-based xyxy pixels,
    ``absent`` ``(T,)`` uint8 (full occlusion or out of view; the box of an
    absent frame is not meaningful) and ``expression``.

    A sequence loads as a clip with ``ListFramePaths`` (frame names from
    ``num_frames``: ``00000001.jpg`` ...), ``LoadImageSequence`` (samples
    ``num_frames`` frames, records ``frame_inds``) and
    ``SelectTrackTargets``, which keeps the per-frame rows of the sampled
    frames (row ``t`` = clip frame ``t``, as the mask head and
    ``TrackingMetric`` expect) and sets ``prompt_bboxes`` (the first
    sampled frame's xyxy box) for the ``<track_box>`` placeholder; such a
    ``'track'`` sample is served by the mask head (its task spec aliases
    ``'mask'``).

    Args:
        ann_file (str): The split list, e.g. ``'testing_set.txt'``.
        layout (str): ``'lasot'``, ``'annos'`` or ``'got10k'``. Defaults to
            ``'lasot'``.
        one_based (bool, optional): Whether the boxes are 1-based as in
            LaSOT's MATLAB toolkit; ``gt_bboxes_xyxy`` is then ``(x - 1,
            y - 1, x - 1 + w, y - 1 + h)``, else ``(x, y, x + w, y + h)``.
            Defaults to None: True for LaSOT, False for GOT-10k.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'track'
    METAINFO = dict(dataset_name='lasot')
    LAYOUTS = ('lasot', 'annos', 'got10k')
    # GOT-10k per-frame label files: (file name, item key, largest value)
    GOT10K_LABELS = (('absence.label', 'absent', 1),
                     ('cover.label', 'cover', 8),
                     ('cut_by_image.label', 'cut_by_image', 1))

    def __init__(self,
                 ann_file: str = 'testing_set.txt',
                 layout: str = 'lasot',
                 one_based: Optional[bool] = None,
                 **kwargs) -> None:
        if layout not in self.LAYOUTS:
            raise ValueError(
                f'layout must be one of {self.LAYOUTS}, got {layout!r}.')
        self.layout = layout
        self.one_based = (layout != 'got10k'
                          if one_based is None else one_based)
        super().__init__(ann_file=ann_file, **kwargs)

    def _ann_paths(self, category: str, seq: str) -> Tuple[str, ...]:
        """The box, flag and language files of a sequence."""
        root = self.data_root or osp.dirname(self.ann_file)
        if self.layout == 'annos':
            annos = osp.join(root, 'annos')
            return (osp.join(annos, f'{seq}.txt'),
                    osp.join(annos, 'absent', f'{seq}.txt'),
                    osp.join(annos, 'nlp', f'{seq}.txt'))
        folder = osp.join(root, category, seq)
        return tuple(
            osp.join(folder, name)
            for name in ('groundtruth.txt', 'full_occlusion.txt',
                         'out_of_view.txt', 'nlp.txt'))

    def parse_data_list(self) -> List[dict]:
        """One item per sequence of the split list."""
        with open(self.ann_file) as f:
            names = [line.strip() for line in f if line.strip()]
        if not names:
            raise AnnotationError(f'{self.ann_file}: no sequence names.')
        parse = (self._parse_got10k
                 if self.layout == 'got10k' else self._parse_sequence)
        return self.parse_each(parse, names)

    def _boxes_xyxy(self, boxes: np.ndarray) -> np.ndarray:
        offset = 1 if self.one_based else 0
        x1y1 = boxes[:, :2] - offset
        return np.concatenate([x1y1, x1y1 + boxes[:, 2:]], 1)

    def _parse_got10k(self, seq: str) -> dict:
        root = self.data_root or osp.dirname(self.ann_file)
        folder = osp.join(root, seq)
        boxes = read_boxes(osp.join(folder, 'groundtruth.txt'))
        frame_dir = self.video_path(seq)
        item = dict(
            video_path=frame_dir,
            frame_dir=frame_dir,
            sequence=seq,
            category=_got10k_class(osp.join(folder, 'meta_info.ini')),
            num_frames=len(boxes),
            gt_track_bboxes=boxes,
            gt_bboxes_xyxy=self._boxes_xyxy(boxes),
            first_box_only=False)
        labels = [osp.join(folder, name) for name, _, _ in self.GOT10K_LABELS]
        if len(boxes) == 1 and not any(map(osp.exists, labels)):
            # test split: the first box only, no labels
            frames = (sum(n.endswith('.jpg') for n in os.listdir(frame_dir))
                      if osp.isdir(frame_dir) else 0)
            item.update(
                num_frames=max(frames, 1),
                first_box_only=True,
                absent=np.zeros(1, dtype=np.uint8))
            return item
        for path, (_, key, max_value) in zip(labels, self.GOT10K_LABELS):
            item[key] = read_flags(path, key, len(boxes), max_value)
        return item

    def _parse_sequence(self, seq: str) -> dict:
        category = seq.rsplit('-', 1)[0]
        box_file, *flag_files, nlp_file = self._ann_paths(category, seq)
        boxes = read_boxes(box_file)
        fields = ('absent', ) if self.layout == 'annos' else (
            'full_occlusion', 'out_of_view')
        absent = np.zeros(len(boxes), dtype=np.uint8)
        for path, field in zip(flag_files, fields):
            absent |= read_flags(path, field, len(boxes))
        with open(require_path(nlp_file, 'LaSOT nlp file')) as f:
            expression = f.read().strip()
        if not expression:
            raise AnnotationError(
                f"{nlp_file} line 1: field 'expression' is empty.")
        frame_dir = self.video_path(osp.join(category, seq, 'img'))
        return dict(
            video_path=frame_dir,
            frame_dir=frame_dir,
            sequence=seq,
            category=category,
            num_frames=len(boxes),
            gt_track_bboxes=boxes,
            gt_bboxes_xyxy=self._boxes_xyxy(boxes),
            absent=absent,
            expression=expression)


def _got10k_class(path: str) -> str:
    """``object_class`` of a GOT-10k ``meta_info.ini`` (``key: value``
    lines), or ``''`` without the file or the key."""
    if not osp.isfile(path):
        return ''
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(':')
            if key.strip() == 'object_class':
                return value.strip()
    return ''
