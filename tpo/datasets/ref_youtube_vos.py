"""Ref-YouTube-VOS referring video object segmentation annotations."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image

from tpo.registry import DATASETS
from .annotation import AnnotationError, AnnotationRecord
from .base import TPOBaseDataset
from .mevis import parse_meta_expressions


def decode_palette_masks(mask_dir: str,
                         frame_names: Sequence[str],
                         obj_ids: Sequence[int],
                         frame_inds: Optional[Sequence[int]] = None,
                         ext: str = '.png') -> np.ndarray:
    """The union of objects ``obj_ids`` in palette PNGs (pixel value = object
    id, 0 = background), as in YouTube-VOS and DAVIS ``Annotations/``.

    Args:
        mask_dir: The video's annotation folder.
        frame_names: The video's frame names (without extension).
        obj_ids: The object ids to take.
        frame_inds: Positions in ``frame_names`` to decode. Defaults to all.
        ext: Extension of the PNGs. Defaults to ``'.png'``.

    Returns:
        np.ndarray: ``(T, H, W)`` bool. A frame whose PNG is missing raises
        :class:`FileNotFoundError` naming it.
    """
    inds = range(len(frame_names)) if frame_inds is None else frame_inds
    masks = []
    for ind in inds:
        path = osp.join(mask_dir, f'{frame_names[int(ind)]}{ext}')
        if not osp.isfile(path):
            raise FileNotFoundError(f'mask {path} does not exist.')
        with Image.open(path) as image:
            if image.mode not in ('P', 'L', 'I', '1'):
                raise ValueError(f'mask {path} must be a palette or '
                                 f'grey-level PNG, got mode {image.mode}.')
            ids = np.asarray(image)
        masks.append(np.isin(ids, np.asarray(obj_ids)))
    if not masks:
        return np.zeros((0, 0, 0), dtype=bool)
    return np.stack(masks)


@DATASETS.register_module()
class RefYouTubeVOSDataset(TPOBaseDataset):
    """Ref-YouTube-VOS ``meta_expressions/{split}/meta_expressions.json``
    (``{"videos": {vid: {"expressions": {exp_id: {"exp", "obj_id"}},
    "frames": [names]}}}``, the layout MeViS shares): one item per
    expression. The frames are ``{data_prefix.video}/{vid}/{name}.jpg``; the
    masks, where the split has them (train), are palette PNGs
    ``{data_prefix.mask}/{vid}/{name}.png`` whose pixel value is the object
    id. The valid / test expressions have no ``obj_id``: set
    ``data_prefix.mask`` to None (the default) to read them.

    Masks stay on disk; :func:`decode_palette_masks` (or the
    ``LoadPaletteMasks`` transform) reads the frames a pipeline samples.

    Items: ``video_path`` and ``frame_dir`` (the absolute frame folder),
    ``task='mask'``, ``source``, ``vid``, ``exp_id``, ``expression``,
    ``frame_names``, ``num_frames`` and, with masks, ``obj_ids`` (int) and
    ``mask_dir`` (absolute).

    Args:
        ann_file (str): The expressions file. Defaults to
            ``'meta_expressions/train/meta_expressions.json'``.
        data_prefix (dict): ``video``: the frame folders (e.g.
            ``'train/JPEGImages'``); ``mask``: the mask folders (e.g.
            ``'train/Annotations'``) or None.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'mask'
    METAINFO = dict(dataset_name='ref_youtube_vos')

    def __init__(self,
                 ann_file: str = 'meta_expressions/train/'
                 'meta_expressions.json',
                 data_prefix: dict = dict(video='train/JPEGImages', mask=None),
                 **kwargs) -> None:
        data_prefix = dict(data_prefix)
        self._with_masks = bool(data_prefix.get('mask'))
        if not self._with_masks:
            data_prefix.pop('mask', None)
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    def parse_data_list(self) -> List[dict]:
        """One item per expression of every video."""
        return parse_meta_expressions(self, self._parse_expression)

    def _parse_expression(self, vid: str, frames: list, exp_id: str,
                          record: AnnotationRecord) -> dict:
        if not frames or not all(isinstance(f, str) for f in frames):
            raise AnnotationError(
                f"{record.file} video {vid!r}: field 'frames' must be a "
                'non-empty list of frame names.')
        frame_dir = self.video_path(vid)
        item = dict(
            video_path=frame_dir,
            frame_dir=frame_dir,
            vid=vid,
            exp_id=exp_id,
            expression=record.text('exp'),
            frame_names=frames,
            num_frames=len(frames))
        if self._with_masks:
            obj_id = record.fetch('obj_id', (str, int))
            try:
                obj_id = int(obj_id)
            except ValueError:
                raise record.error(
                    'obj_id', f'must be an integer object id, got '
                    f'{obj_id!r}') from None
            if not 0 < obj_id < 256:
                raise record.error('obj_id',
                                   f'must be in 1..255, got {obj_id}')
            item.update(
                obj_ids=[obj_id],
                mask_dir=osp.abspath(
                    osp.join(self.data_prefix['mask'], vid)))
        return item
