"""Visual Genome region descriptions as referring-box samples."""
import os.path as osp
from typing import Dict, List

import numpy as np

from tpo.registry import DATASETS
from .annotation import AnnotationRecord, load_json, require_path
from .base import TPOBaseDataset


@DATASETS.register_module()
class VisualGenomeDataset(TPOBaseDataset):
    """Visual Genome (v1.2) ``region_descriptions.json`` with the image sizes
    and paths of ``image_data.json``: one referring-box item per region.

    ``region_descriptions.json`` is a list of ``{"id": image_id, "regions":
    [{"region_id", "image_id", "phrase", "x", "y", "width", "height"}]}``
    (boxes in pixels, top-left corner + size); ``image_data.json`` is a list
    of ``{"image_id" (v1.0: "id"), "width", "height", "url", "coco_id",
    "flickr_id"}``. An image is ``{data_prefix.video}/{folder}/{name}`` with
    ``folder/name`` the last two parts of its ``url`` (``VG_100K/...`` or
    ``VG_100K_2/...``), as the image zips unpack.

    Regions narrower or lower than ``min_size`` pixels or with a blank phrase
    are skipped (VG holds some); their count is :attr:`num_skipped`. Boxes
    are clipped to the image. A region whose fields are missing, of the wrong
    type or negative raises :class:`~tpo.datasets.AnnotationError`.

    Items: ``video_path``, ``task='region'``, ``source``, ``expressions``
    (``[phrase]``), ``gt_bboxes`` ``(1, 4)`` float32 xyxy pixels,
    ``ori_shape`` ``(h, w)``, ``image_id``, ``region_id``.

    Args:
        ann_file (str): The regions file. Defaults to
            ``'region_descriptions.json'``.
        image_file (str): The image metadata, relative to ``data_root``.
            Defaults to ``'image_data.json'``.
        min_size (float): Smallest kept box side in pixels. Defaults to 1.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'region'
    METAINFO = dict(dataset_name='visual_genome')

    def __init__(self,
                 ann_file: str = 'region_descriptions.json',
                 image_file: str = 'image_data.json',
                 min_size: float = 1.0,
                 **kwargs) -> None:
        self.image_file = image_file
        self.min_size = min_size
        self.num_skipped = 0
        super().__init__(ann_file=ann_file, **kwargs)

    def _join_prefix(self) -> None:
        """Also join ``data_root`` with :attr:`image_file`."""
        super()._join_prefix()
        if self.data_root and not osp.isabs(self.image_file):
            self.image_file = osp.join(self.data_root, self.image_file)

    def _load_images(self) -> Dict[int, dict]:
        """``{image_id: {'path', 'shape'}}`` of the image metadata."""
        path = require_path(self.image_file,
                            f'{type(self).__name__}: image_file')

        def parse(index: int, row: dict) -> tuple:
            record = AnnotationRecord(path, f'index {index}', row)
            key = 'image_id' if 'image_id' in record or 'id' not in record \
                else 'id'
            image_id = record.fetch(key, int)
            url = record.get('url')
            name = ('/'.join(url.rstrip('/').split('/')[-2:])
                    if isinstance(url, str) and url.strip() else
                    f'{image_id}.jpg')
            shape = (record.fetch('height', int), record.fetch('width', int))
            if min(shape) <= 0:
                raise record.error('height', f'and width must be positive, '
                                   f'got {shape[0]} x {shape[1]}')
            return image_id, dict(path=self.video_path(name), shape=shape)

        return dict(self.parse_each(parse,
                                    enumerate(load_json(path, list))))

    def parse_data_list(self) -> List[dict]:
        """One item per kept region of every image."""
        images = self._load_images()
        self.num_skipped = 0

        def parse(index: int, entry: dict) -> List[dict]:
            record = AnnotationRecord(self.ann_file, f'index {index}', entry,
                                      'id')
            regions = record.fetch('regions', list)
            return self.parse_each(
                lambda i, region: self._parse_region(
                    AnnotationRecord(self.ann_file,
                                     f'{record.label} regions[{i}]', region,
                                     'region_id'), images),
                enumerate(regions))

        items = [
            item for group in self.parse_each(
                parse, enumerate(load_json(self.ann_file, list)))
            for item in group
        ]
        return [item for item in items if item is not None]

    def _parse_region(self, region: AnnotationRecord,
                      images: Dict[int, dict]) -> dict:
        image_id = region.fetch('image_id', int)
        if image_id not in images:
            raise region.error('image_id',
                               f'{image_id} is not in {self.image_file}')
        x, y, w, h = (float(region.fetch(k, (int, float)))
                      for k in ('x', 'y', 'width', 'height'))
        if w < 0 or h < 0:
            raise region.error('width', f'and height must be >= 0, got '
                               f'{w:g} x {h:g}')
        phrase = region.fetch('phrase', str).strip()
        image = images[image_id]
        height, width = image['shape']
        box = np.array([x, y, x + w, y + h], dtype=np.float32)
        box[0::2] = box[0::2].clip(0, width)
        box[1::2] = box[1::2].clip(0, height)
        if (not phrase or box[2] - box[0] < self.min_size
                or box[3] - box[1] < self.min_size):
            self.num_skipped += 1
            return None
        return dict(
            video_path=image['path'],
            expressions=[phrase],
            gt_bboxes=box[None],
            ori_shape=image['shape'],
            image_id=image_id,
            region_id=region.fetch('region_id', int))
