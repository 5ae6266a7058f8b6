"""SA-V (Segment Anything Video) manual masklets as mask / track samples."""
import os
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import pycocotools.mask as mask_utils

from tpo.registry import DATASETS
from tpo.tasks import BOX_PROMPT_TOKEN
from .annotation import (AnnotationError, AnnotationRecord, load_json,
                         require_path)
from .base import TPOBaseDataset

ANN_SUFFIX = '_manual.json'


def _is_rle(rle) -> bool:
    return (isinstance(rle, dict) and isinstance(rle.get('counts'),
                                                 (str, list))
            and isinstance(rle.get('size'), list) and len(rle['size']) == 2)


def read_masklets(path: str) -> AnnotationRecord:
    """Load and check one ``{video_id}_manual.json``.

    Returns the file as a record whose ``masklet`` is a list over annotated
    frames of a list over masklets of COCO RLEs, one per ``masklet_id``.
    """
    video = AnnotationRecord(path, 'top level', load_json(path, dict))
    ids = video.fetch('masklet_id', list)
    frames = video.fetch('masklet', list)
    for key in ('video_height', 'video_width'):
        if video.fetch(key, (int, float)) <= 0:
            raise video.error(key, 'must be positive')
    if not frames:
        raise video.error('masklet', 'has no annotated frame')
    for t, objects in enumerate(frames):
        if not isinstance(objects, list) or len(objects) != len(ids):
            raise video.error(
                'masklet', f'frame {t} must list one RLE per masklet_id '
                f'({len(ids)}), got '
                f'{len(objects) if isinstance(objects, list) else objects!r}')
        for k, rle in enumerate(objects):
            if rle is not None and not _is_rle(rle):
                raise video.error(
                    'masklet', f'frame {t} object {k} is not a COCO RLE '
                    "{'size': [h, w], 'counts': ...}")
    return video


def _rles(frames: list, index: int) -> List[Optional[dict]]:
    rles = []
    for objects in frames:
        rle = objects[index]
        if rle is not None and isinstance(rle['counts'], list):
            rle = mask_utils.frPyObjects(rle, *rle['size'])
        rles.append(rle)
    return rles


def load_masklet(path: str, index: int) -> List[Optional[dict]]:
    """The RLEs (one per annotated frame) of masklet ``index`` of a
    ``*_manual.json``."""
    return _rles(read_masklets(path).fetch('masklet'), index)


def decode_masklet(rles: Sequence[Optional[dict]], shape: Sequence[int],
                   frame_inds: Sequence[int], stride: int) -> np.ndarray:
    """``(T, H, W)`` bool masks of a masklet at video frames ``frame_inds``;
    a frame between annotations takes the nearest annotated frame's mask
    (SA-V annotates every ``stride``-th frame)."""
    masks = np.zeros((len(frame_inds), *shape[:2]), dtype=bool)
    for out, ind in enumerate(frame_inds):
        t = min(int(round(int(ind) / stride)), len(rles) - 1)
        if rles[t] is not None:
            masks[out] = mask_utils.decode(rles[t]).astype(bool)
    return masks


@DATASETS.register_module()
class SAVDataset(TPOBaseDataset):
    """SA-V train ``{video_id}_manual.json`` masklets: one item per masklet.

    A file holds ``video_height``, ``video_width``, ``masklet_id`` and
    ``masklet``: per annotated frame (every ``stride``-th frame of the 24 fps
    video; 6 fps), one COCO RLE per masklet. ``ann_file`` is either a text
    file listing video stems (``sav_000/sav_000001``, one a line) or a folder
    that is searched for ``*_manual.json``; an annotation is
    ``{data_prefix.ann}/{stem}_manual.json`` and its video
    ``{data_prefix.video}/{stem}.mp4``.

    SA-V masklets have no text, so an item is prompted by its box in the
    first annotated frame where it is visible: ``prompt_bboxes`` holds the
    box, which the model encodes at the ``<track_box>`` placeholder. With
    ``task='mask'`` (default) the placeholder sits in ``expression``
    (``expression`` with ``{box}`` replaced, e.g. "the object in the box
    <track_box>"), which fills the segmentation templates; with
    ``task='track'`` it is ``track_box``, which fills the tracking templates
    (tracking samples are served by the mask head: the ``'track'`` task
    spec aliases ``'mask'``).

    The RLEs stay in the file unless ``keep_rles``: the ``LoadMaskletMasks``
    transform (or :func:`load_masklet` + :func:`decode_masklet`) reads them.

    Items: ``video_path``, ``task``, ``source``, ``video_id``, ``mask_file``,
    ``masklet_index``, ``masklet_id``, ``mask_stride``, ``num_mask_frames``,
    ``ori_shape`` ``(H, W)``, ``first_visible`` (annotated-frame index),
    ``prompt_bboxes`` ``(1, 4)`` float32 xyxy pixels (the box there),
    ``expression``, ``track_box`` and, with ``keep_rles``, ``mask_rles``
    (one RLE per annotated frame).

    Args:
        ann_file (str): The list file or annotation folder.
        task (str): ``'mask'`` or ``'track'``. Defaults to ``'mask'``.
        expression (str): The referring text of a masklet; ``{box}`` becomes
            the ``<track_box>`` placeholder. Defaults to ``'the object in the
            box {box}'``.
        stride (int): Video frames per annotated frame. Defaults to 4.
        keep_rles (bool): Keep the RLEs in the items. Defaults to False.
        data_prefix (dict): ``video`` (the mp4 folder) and ``ann`` (the json
            folder; defaults to ``video``).
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'mask'
    METAINFO = dict(dataset_name='sav')
    TASKS = ('mask', 'track')

    def __init__(self,
                 ann_file: str = 'sav_train',
                 task: str = 'mask',
                 expression: str = 'the object in the box {box}',
                 stride: int = 4,
                 keep_rles: bool = False,
                 data_prefix: dict = dict(video='sav_train'),
                 **kwargs) -> None:
        if task not in self.TASKS:
            raise ValueError(
                f'task must be one of {self.TASKS}, got {task!r}.')
        if stride < 1:
            raise ValueError(f'stride must be >= 1, got {stride}.')
        self.TASK = task
        self.expression = expression.format(box=BOX_PROMPT_TOKEN)
        self.stride = stride
        self.keep_rles = keep_rles
        data_prefix = dict(data_prefix)
        data_prefix.setdefault('ann', data_prefix.get('video', ''))
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    def _stems(self) -> List[str]:
        if osp.isdir(self.ann_file):
            stems = []
            for folder, _, names in os.walk(self.ann_file):
                for name in names:
                    if name.endswith(ANN_SUFFIX):
                        path = osp.join(folder, name)[:-len(ANN_SUFFIX)]
                        stems.append(osp.relpath(path, self.ann_file))
            if not stems:
                raise AnnotationError(
                    f'{self.ann_file}: no *{ANN_SUFFIX} file in the folder.')
            return sorted(stems)
        with open(self.ann_file) as f:
            stems = [line.strip() for line in f if line.strip()]
        if not stems:
            raise AnnotationError(f'{self.ann_file}: no video names.')
        return stems

    def parse_data_list(self) -> List[dict]:
        """One item per masklet of every listed video."""
        ann_root = (self.ann_file if osp.isdir(self.ann_file) else
                    self.data_prefix['ann'])
        groups = self.parse_each(
            lambda stem: self._parse_video(stem, ann_root), self._stems())
        return [item for items in groups for item in items]

    def _parse_video(self, stem: str, ann_root: str) -> List[dict]:
        path = require_path(
            osp.join(ann_root, stem + ANN_SUFFIX), 'SA-V annotation')
        video = read_masklets(path)
        frames = video.fetch('masklet')
        shape = (int(video.fetch('video_height')),
                 int(video.fetch('video_width')))
        video_path = self.video_path(stem + '.mp4')
        items = []
        for index, masklet_id in enumerate(video.fetch('masklet_id')):
            rles = _rles(frames, index)
            present = [
                t for t, rle in enumerate(rles)
                if rle is not None and mask_utils.area(rle) > 0
            ]
            if not present:
                raise video.error(
                    'masklet', f'object {index} (masklet_id {masklet_id}) '
                    'is empty in every frame')
            t = present[0]
            x, y, w, h = mask_utils.toBbox(rles[t]).tolist()
            box = np.array([[x, y, x + w, y + h]], dtype=np.float32)
            item = dict(
                video_path=video_path,
                video_id=video.get('video_id', osp.basename(stem)),
                mask_file=osp.abspath(path),
                masklet_index=index,
                masklet_id=masklet_id,
                mask_stride=self.stride,
                num_mask_frames=len(frames),
                ori_shape=shape,
                first_visible=t,
                prompt_bboxes=box,
                expression=self.expression,
                track_box=BOX_PROMPT_TOKEN)
            if self.keep_rles:
                item['mask_rles'] = rles
            items.append(item)
        return items
