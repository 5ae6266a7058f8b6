"""AS-V2 (All-Seeing v2) grounded conversations as referring-box samples."""
import os.path as osp
import re
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

from tpo.registry import DATASETS
from .annotation import AnnotationRecord
from .sharegpt import ShareGPTDataset

# <ref>phrase</ref><box>[[x1, y1, x2, y2], ...]</box>
REF_BOX = re.compile(r'<ref>(.*?)</ref>\s*<box>\s*(\[\[.*?\]\])\s*</box>',
                     re.S)
NUMBER = re.compile(r'-?\d+(?:\.\d+)?')


@DATASETS.register_module()
class ASV2Dataset(ShareGPTDataset):
    """The referring boxes of AS-V2's relation-conversation files
    (``rec_conversation_22k.json``, ``rec_detailed_description.json``,
    ``rec_region_captioning.json``; ``*_wo_square_pad.json`` preferred), which
    are LLaVA-format conversations (see :class:`ShareGPTDataset`) whose
    objects read ``<ref>phrase</ref><box>[[x1, y1, x2, y2]]</box>``.

    Every such phrase linked to exactly one box becomes an item (a phrase
    with several boxes, a repeat of the same phrase and box in one sample,
    or a box empty inside the image is skipped). Box numbers are on a
    ``0..box_scale`` grid over the image; with ``square_pad`` they are over
    the image padded to a centred square (the released files without
    ``_wo_square_pad``). The image size, needed to turn them into pixels, is
    read from the image header, so the images must be present when the
    annotations are read.

    Items: ``video_path``, ``task='region'``, ``source``, ``expressions``
    (``[phrase]``), ``gt_bboxes`` ``(1, 4)`` float32 xyxy pixels,
    ``ori_shape`` ``(h, w)``, ``sample_id``.

    Args:
        box_scale (float): The box grid size. Defaults to 1000.
        square_pad (bool): Whether boxes are over the square-padded image.
            Defaults to False.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'region'
    METAINFO = dict(dataset_name='as_v2')

    def __init__(self,
                 box_scale: float = 1000.0,
                 square_pad: bool = False,
                 **kwargs) -> None:
        self.box_scale = box_scale
        self.square_pad = square_pad
        self._sizes: Dict[str, Tuple[int, int]] = {}
        super().__init__(**kwargs)

    def parse_data_list(self) -> List[dict]:
        """One item per single-box phrase of every entry."""
        groups = self.parse_each(
            lambda label, entry: self._parse_refs(
                AnnotationRecord(self.ann_file, label, entry, 'id')),
            self._rows())
        self._sizes.clear()
        return [item for items in groups for item in items]

    def _image_shape(self, record: AnnotationRecord,
                     path: str) -> Tuple[int, int]:
        if path not in self._sizes:
            if not osp.isfile(path):
                raise record.error(
                    'image', f'{path} does not exist (AS-V2 boxes are '
                    'relative to the image, whose size is read from it)')
            with Image.open(path) as image:
                width, height = image.size
            self._sizes[path] = (height, width)
        return self._sizes[path]

    def _parse_refs(self, record: AnnotationRecord) -> List[dict]:
        path = self.video_path(self._media(record))
        _, turns = self._turns(record)
        seen, refs = set(), []
        for turn in turns:
            for text in (turn['question'], turn['answer']):
                for phrase, boxes in REF_BOX.findall(text):
                    numbers = [float(n) for n in NUMBER.findall(boxes)]
                    key = (phrase.strip(), tuple(numbers))
                    if len(numbers) == 4 and key[0] and key not in seen:
                        seen.add(key)
                        refs.append(key)
        if not refs:
            return []
        height, width = self._image_shape(record, path)
        items = []
        for phrase, numbers in refs:
            if numbers[2] < numbers[0] or numbers[3] < numbers[1]:
                raise record.error(
                    'conversations', f'box {list(numbers)} of {phrase!r} '
                    'must be [x1, y1, x2 >= x1, y2 >= y1]')
            box = np.asarray(numbers, dtype=np.float32) / self.box_scale
            if self.square_pad:
                side = max(height, width)
                box = box * side - np.array(
                    [(side - width) / 2, (side - height) / 2] * 2,
                    dtype=np.float32)
            else:
                box = box * np.array([width, height] * 2, dtype=np.float32)
            box[0::2] = box[0::2].clip(0, width)
            box[1::2] = box[1::2].clip(0, height)
            if box[2] <= box[0] or box[3] <= box[1]:
                continue  # empty inside the image
            items.append(
                dict(
                    video_path=path,
                    expressions=[phrase],
                    gt_bboxes=box[None],
                    ori_shape=(height, width),
                    sample_id=record.get('id')))
        return items
