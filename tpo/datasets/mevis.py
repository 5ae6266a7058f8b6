"""MeViS referring video object segmentation annotations."""
import os.path as osp
from typing import Any, Callable, List, Optional, Sequence

import numpy as np
import pycocotools.mask as mask_utils

from tpo.registry import DATASETS
from .annotation import AnnotationRecord, load_json, require_path
from .base import TPOBaseDataset


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def decode_masks(mask_rles: Sequence[Sequence[Optional[dict]]],
                 shape: Sequence[int],
                 frame_inds: Optional[Sequence[int]] = None) -> np.ndarray:
    """The union over objects of their COCO RLE masks.

    Args:
        mask_rles: Per object, one RLE (``{'size', 'counts'}``) or None
            (object absent) per frame.
        shape: ``(H, W)`` of the masks.
        frame_inds: Frames to decode. Defaults to all.

    Returns:
        np.ndarray: ``(T, H, W)`` bool.
    """
    num_frames = len(mask_rles[0]) if mask_rles else 0
    inds = range(num_frames) if frame_inds is None else frame_inds
    masks = np.zeros((len(inds), *shape), dtype=bool)
    for rles in mask_rles:
        for out, ind in enumerate(inds):
            rle = rles[int(ind)]
            if rle is None:
                continue
            if isinstance(rle['counts'], list):  # uncompressed RLE
                rle = mask_utils.frPyObjects(rle, *rle['size'])
            masks[out] |= mask_utils.decode(rle).astype(bool)
    return masks


def parse_meta_expressions(
        dataset: TPOBaseDataset,
        parse_expression: Callable[[str, list, str, AnnotationRecord],
                                   Any]) -> List[Any]:
    """Parse every expression of a ``meta_expressions.json`` (``{"videos":
    {vid: {"expressions": {exp_id: {...}}, "frames": [names]}}}``, the layout
    of MeViS and Ref-YouTube-VOS) at ``dataset.ann_file``.

    Calls ``parse_expression(vid, frames, exp_id, record)`` through
    ``dataset.parse_each``, so that a reader collecting errors skips a bad
    video or expression and goes on.
    """
    ann_file = dataset.ann_file
    top = AnnotationRecord(ann_file, 'top level', load_json(ann_file))

    def parse_video(vid: str, video: Any) -> List[Any]:
        video = AnnotationRecord(ann_file, f'video {vid!r}', video)
        frames = video.fetch('frames', list)
        expressions = video.fetch('expressions', dict)
        return dataset.parse_each(
            lambda exp_id, expression: parse_expression(
                vid, frames, exp_id,
                AnnotationRecord(ann_file,
                                 f'{video.label} expression {exp_id!r}',
                                 expression)), expressions.items())

    return [
        item for items in dataset.parse_each(
            parse_video,
            top.fetch('videos', dict).items()) for item in items
    ]


@DATASETS.register_module()
class MeViSDataset(TPOBaseDataset):
    """MeViS ``{split}/meta_expressions.json`` (``{"videos": {vid:
    {"expressions": {exp_id: {"exp", "obj_id", "anno_id"}}, "frames":
    [names]}}}``) with the masks of ``mask_dict.json`` (``{anno_id: [RLE or
    null per frame]}``): one item per expression. The video is
    ``{data_prefix.video}/{vid}.mp4``.

    The masks stay COCO RLEs; :func:`decode_masks` decodes the frames a
    pipeline samples (the ``DecodeRLEMasks`` transform writes them as
    ``gt_masks``, one per ``frame_inds``, for ``ReferringVOSMetric`` and
    the mask head).

    Items: ``video_path``, ``task='mask'``, ``source``, ``vid``, ``exp_id``,
    ``expression``, ``obj_ids``, ``anno_ids`` (str), ``frame_names`` and, with
    a mask file, ``mask_rles`` (per anno_id, one RLE or None per frame) and
    ``ori_shape`` ``(H, W)``.

    Args:
        ann_file (str): The expressions file. Defaults to
            ``'meta_expressions.json'``.
        mask_file (str, optional): The masks file, relative to ``data_root``;
            None for a split without released masks. Defaults to
            ``'mask_dict.json'``.
        video_ext (str): Extension of the video files. Defaults to
            ``'.mp4'``.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'mask'
    METAINFO = dict(dataset_name='mevis')

    def __init__(self,
                 ann_file: str = 'meta_expressions.json',
                 mask_file: Optional[str] = 'mask_dict.json',
                 video_ext: str = '.mp4',
                 **kwargs) -> None:
        self.mask_file = mask_file
        self.video_ext = video_ext
        super().__init__(ann_file=ann_file, **kwargs)

    def _join_prefix(self) -> None:
        """Also join ``data_root`` with :attr:`mask_file`."""
        super()._join_prefix()
        if self.mask_file and self.data_root and not osp.isabs(self.mask_file):
            self.mask_file = osp.join(self.data_root, self.mask_file)

    def parse_data_list(self) -> List[dict]:
        """One item per expression of every video."""
        masks = None
        if self.mask_file:
            require_path(self.mask_file, f'{type(self).__name__}: mask_file')
            masks = AnnotationRecord(self.mask_file, 'top level',
                                     load_json(self.mask_file))

        def parse(vid: str, frames: list, exp_id: str,
                  record: AnnotationRecord) -> dict:
            item = dict(
                video_path=self.video_path(vid + self.video_ext),
                vid=vid,
                exp_id=exp_id,
                expression=record.text('exp'),
                obj_ids=_as_list(record.fetch('obj_id')),
                anno_ids=[str(a) for a in _as_list(record.fetch('anno_id'))],
                frame_names=frames)
            if masks is not None:
                item.update(
                    self._masks(record, item['anno_ids'], len(frames), masks))
            return item

        return parse_meta_expressions(self, parse)

    def _masks(self, record: AnnotationRecord, anno_ids: List[str],
               num_frames: int, masks: AnnotationRecord) -> dict:
        """``mask_rles`` and ``ori_shape`` of an expression's objects."""
        mask_rles, shape = [], None
        for anno_id in anno_ids:
            if anno_id not in masks:
                raise record.error('anno_id',
                                   f'{anno_id} is not in {masks.file}')
            rles = masks.fetch(anno_id, list)
            if len(rles) != num_frames:
                raise masks.error(
                    anno_id,
                    f'has {len(rles)} masks for the {num_frames} frames of '
                    f'{record.label}')
            for frame, rle in enumerate(rles):
                if rle is None:
                    continue
                if not (isinstance(rle, dict) and 'counts' in rle
                        and len(rle.get('size', ())) == 2):
                    raise masks.error(
                        anno_id, f'frame {frame} is neither a COCO RLE '
                        "{'size': [h, w], 'counts': ...} nor null")
                shape = shape or tuple(int(v) for v in rle['size'])
            mask_rles.append(rles)
        if shape is None:
            raise record.error('anno_id', 'has no mask in any frame')
        return dict(mask_rles=mask_rles, ori_shape=shape)
