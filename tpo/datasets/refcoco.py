"""RefCOCO / RefCOCO+ / RefCOCOg referring expression annotations."""
import logging
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np
from mmengine.logging import print_log

from tpo.registry import DATASETS
from .annotation import (AnnotationError, AnnotationRecord, box_in_image,
                         load_json, require_path)
from .base import TPOBaseDataset

Records = Dict[int, AnnotationRecord]  # by id
PICKLE_MAGIC = (b'\x80', b'(')  # protocol >= 2, protocol 0/1 (a list)


def require_refs_json(path: str) -> str:
    """``path`` if it is not a pickle; a ``refs(*).p`` given as it was
    downloaded fails naming the file and the converter to run first."""
    require_path(path, 'RefCOCODataset: ann_file')
    with open(path, 'rb') as f:
        head = f.read(1)
    if path.endswith('.p') or head in PICKLE_MAGIC:
        raise AnnotationError(
            f'{path} is a refs pickle, not JSON: convert it once with '
            f'`python tools/dataset_converters/refcoco_pickle_to_json.py '
            f'"{path}"` (writes {osp.splitext(path)[0]}.json beside it) and '
            'point ann_file at the .json.')
    return path


@DATASETS.register_module()
class RefCOCODataset(TPOBaseDataset):
    """Referring expressions in the ``refer`` toolkit's format.

    ``ann_file`` is ``refs(unc).p`` as JSON: a list of ``{ref_id, ann_id,
    image_id, category_id, split, sent_ids, sentences: [{sent_id, sent, raw,
    tokens}], file_name}``; ``instances_file`` is the COCO ``instances.json``
    that holds the images (``file_name``, ``height``, ``width``) and the
    boxes (``bbox`` ``[x, y, w, h]`` pixels) of the refs. Images are
    ``{data_prefix.video}/{image file_name}``.

    While training an item is a ref with all its sentences (a transform picks
    one); in test mode an item is one sentence, so that each is evaluated.

    Items: ``video_path``, ``task='region'``, ``source``, ``expressions``
    (list of str), ``sent_ids``, ``gt_bboxes`` ``(1, 4)`` float32 xyxy
    pixels (``x2 = x + w``), ``ori_shape`` ``(h, w)``, ``ref_id``,
    ``image_id``, ``category_id``.

    A box must have a positive width and height and overlap its image (else
    :class:`~tpo.datasets.AnnotationError` names the file, the annotation
    and the field); a box reaching past the image is clipped to it, and the
    number clipped is logged (:attr:`num_clipped_boxes`).

    Args:
        ann_file (str): The refs JSON file. Defaults to ``'refs.json'``.
        instances_file (str): The COCO instances file, relative to
            ``data_root``. Defaults to ``'instances.json'``.
        split (str): The refs to read (``'train'``, ``'val'``, ``'testA'``,
            ``'testB'``, ``'test'``). Defaults to ``'train'``.
        **kwargs: See :class:`~tpo.datasets.base.TPOBaseDataset`.
    """

    TASK = 'region'
    METAINFO = dict(dataset_name='refcoco')

    def __init__(self,
                 ann_file: str = 'refs.json',
                 instances_file: str = 'instances.json',
                 split: str = 'train',
                 **kwargs) -> None:
        self.instances_file = instances_file
        self.split = split
        super().__init__(ann_file=ann_file, **kwargs)

    def _join_prefix(self) -> None:
        """Also join ``data_root`` with :attr:`instances_file`."""
        super()._join_prefix()
        if self.data_root and not osp.isabs(self.instances_file):
            self.instances_file = osp.join(self.data_root, self.instances_file)

    def _load_instances(self) -> Tuple[Records, Records]:
        """Images and annotations of the instances file, by id."""
        path = require_path(self.instances_file,
                            f'{type(self).__name__}: instances_file')
        instances = AnnotationRecord(path, 'top level', load_json(path))
        tables = []
        for key in ('images', 'annotations'):
            rows = instances.fetch(key, list)
            records = (AnnotationRecord(path, f'{key}[{i}]', row, 'id')
                       for i, row in enumerate(rows))
            tables.append({r.fetch('id', int): r for r in records})
        return tuple(tables)

    def parse_data_list(self) -> List[dict]:
        """One item per ref of :attr:`split` (per sentence in test mode)."""
        images, anns = self._load_instances()
        refs = load_json(require_refs_json(self.ann_file), list)
        splits = set()
        self.num_clipped_boxes = 0

        def parse(index: int, ref: dict) -> List[dict]:
            record = AnnotationRecord(self.ann_file, f'index {index}', ref,
                                      'ref_id')
            splits.add(record.get('split'))
            if record.fetch('split', str) != self.split:
                return []
            return self._parse_ref(record, images, anns)

        data_list = [
            item for items in self.parse_each(parse, enumerate(refs))
            for item in items
        ]
        if not data_list and not getattr(self, 'parse_errors', None):
            raise AnnotationError(
                f'{self.ann_file}: no ref has split {self.split!r}; the '
                f'splits are {sorted(map(str, splits))}.')
        if self.num_clipped_boxes:
            print_log(
                f'{self.instances_file}: {self.num_clipped_boxes} box(es) of '
                f'the {self.split!r} refs reach past their image and were '
                'clipped to it.', logger='current', level=logging.WARNING)
        return data_list

    def _parse_ref(self, ref: AnnotationRecord, images: Records,
                   anns: Records) -> List[dict]:
        ann_id = ref.fetch('ann_id', int)
        image_id = ref.fetch('image_id', int)
        if ann_id not in anns:
            raise ref.error(
                'ann_id',
                f'{ann_id} is not an annotation of {self.instances_file}')
        ann = anns[ann_id]
        if image_id not in images or ann.get('image_id') != image_id:
            raise ref.error(
                'image_id', f'{image_id} is not the image of annotation '
                f'{ann_id} in {self.instances_file}')
        image = images[image_id]
        bbox = ann.array('bbox', np.float32)
        if bbox.shape != (4, ) or (bbox[2:] <= 0).any():
            raise ann.error(
                'bbox', f'must be [x, y, w > 0, h > 0], got '
                f'{bbox.tolist()}')
        shape = (image.fetch('height', int), image.fetch('width', int))
        if min(shape) <= 0:
            raise image.error('height', f'and width must be positive, got '
                              f'{shape[0]} x {shape[1]}')
        box, clipped = box_in_image(
            ann, 'bbox', np.concatenate([bbox[:2], bbox[:2] + bbox[2:]]),
            shape)
        self.num_clipped_boxes += clipped
        sentences = ref.fetch('sentences', list)
        if not sentences:
            raise ref.error('sentences', 'is empty')
        sents = [
            AnnotationRecord(ref.file, f'{ref.label} sentences[{i}]', s,
                             'sent_id') for i, s in enumerate(sentences)
        ]
        base = dict(
            video_path=self.video_path(image.text('file_name')),
            gt_bboxes=box[None],
            ori_shape=shape,
            ref_id=ref.fetch('ref_id', int),
            image_id=image_id,
            category_id=ref.get('category_id', ann.get('category_id')))
        groups = [[s] for s in sents] if self.test_mode else [sents]
        return [
            dict(
                base,
                expressions=[s.text('sent') for s in group],
                sent_ids=[s.get('sent_id') for s in group]) for group in groups
        ]
