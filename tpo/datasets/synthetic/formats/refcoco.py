"""RefCOCO-style referring expressions on still frames.

``refcoco/instances.json`` is a COCO file (every visible object of a chosen
frame is an annotation with an RLE segmentation; categories are the shapes)
and ``refcoco/refs.json`` is the JSON form of ``refs(unc).p``: one ref per
clearly visible object, with its split and 1-3 sentences.
"""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np

from .. import language
from ..render import RenderedVideo
from ..scene import SHAPES
from ..video_io import write_jpeg
from .rle import encode_masks

MIN_REF_FRACTION = 0.3  # visible share of an object that a ref may target
MAX_IMAGES_PER_VIDEO = 2
POSITION_GAP = 0.15  # of the frame side, between extreme and next centre
SIZE_RATIO = 1.25


def _sentences(video: RenderedVideo, frame: int, idx: int,
               rng: np.random.Generator) -> List[str]:
    """A name sentence plus up to two that add position, size or colour."""
    scene = video.scene
    obj = scene.objects[idx]
    others = [j for j in np.flatnonzero(video.visible[frame]) if j != idx]
    boxes = video.boxes[frame]
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    extras = []
    for axis, (low, high), extent in ((0, ('left', 'right'), scene.width),
                                      (1, ('top', 'bottom'), scene.height)):
        own, rest = centres[idx, axis], centres[others, axis]
        gap = POSITION_GAP * extent
        side = low if own + gap <= rest.min() else (
            high if own - gap >= rest.max() else None)
        if side:
            extras.append(
                language.fill(
                    rng.choice(language.REF_POSITION),
                    obj,
                    position=language.POSITIONS[side]))
    sizes = [scene.objects[j].size for j in others]
    if obj.size >= SIZE_RATIO * max(sizes):
        extras.append(
            language.fill(rng.choice(language.REF_SIZE), obj, size='big'))
    elif obj.size * SIZE_RATIO <= min(sizes):
        extras.append(
            language.fill(rng.choice(language.REF_SIZE), obj, size='small'))
    if all(scene.objects[j].color != obj.color for j in others):
        extras.append(language.fill(rng.choice(language.REF_COLOR), obj))
    rng.shuffle(extras)
    return [language.fill(rng.choice(language.REF_NAME), obj)] + extras[:2]


def build_images(video: RenderedVideo, rng: np.random.Generator) -> List[dict]:
    """Pick 1-2 frames where at least two objects are clearly visible and
    describe every visible object of them (sentences only for the clearly
    visible ones)."""
    referable = video.visible_fraction >= MIN_REF_FRACTION
    candidates = np.flatnonzero(referable.sum(axis=1) >= 2)
    if not len(candidates):
        return []
    num = min(int(rng.integers(1, MAX_IMAGES_PER_VIDEO + 1)), len(candidates))
    images = []
    for frame in np.sort(rng.choice(candidates, num, replace=False)):
        objects = []
        rles = encode_masks(video.masks[frame])
        for idx in np.flatnonzero(video.visible[frame]):
            x1, y1, x2, y2 = video.boxes[frame, idx].tolist()
            objects.append(
                dict(
                    obj_id=int(idx),
                    category=video.scene.objects[idx].shape,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=int(video.area[frame, idx]),
                    segmentation=rles[idx],
                    sentences=_sentences(video, frame, idx, rng)
                    if referable[frame, idx] else []))
        images.append(
            dict(
                video_id=video.scene.video_id,
                frame=int(frame),
                image=video.frames[frame],
                objects=objects))
    return images


def write_refcoco(out_dir: str,
                  images: Dict[str, List[dict]]) -> Dict[str, List[dict]]:
    """Number images, annotations, refs and sentences over all splits and
    write ``refcoco/{images/*.jpg, instances.json, refs.json}``.

    Returns:
        dict: ``{video_id: [{'image_id', 'frame', 'objects': [{'obj_id',
        'ann_id'}, ...]}, ...]}``.
    """
    folder = osp.join(out_dir, 'refcoco')
    os.makedirs(osp.join(folder, 'images'), exist_ok=True)
    coco_images, annotations, refs, links = [], [], [], {}
    sent_id = 0
    for split, split_images in images.items():
        for draft in split_images:
            image_id = len(coco_images) + 1
            file_name = f'{image_id}.jpg'
            height, width = draft['image'].shape[:2]
            write_jpeg(osp.join(folder, 'images', file_name), draft['image'])
            coco_images.append(
                dict(
                    id=image_id,
                    file_name=file_name,
                    width=width,
                    height=height))
            link = dict(image_id=image_id, frame=draft['frame'], objects=[])
            links.setdefault(draft['video_id'], []).append(link)
            for obj in draft['objects']:
                ann_id = len(annotations) + 1
                link['objects'].append(
                    dict(obj_id=obj['obj_id'], ann_id=ann_id))
                category_id = SHAPES.index(obj['category']) + 1
                annotations.append(
                    dict(
                        id=ann_id,
                        image_id=image_id,
                        category_id=category_id,
                        bbox=obj['bbox'],
                        area=obj['area'],
                        iscrowd=0,
                        segmentation=obj['segmentation']))
                if not obj['sentences']:
                    continue
                sentences = [
                    dict(
                        sent_id=sent_id + k,
                        sent=sent,
                        raw=sent[0].upper() + sent[1:],
                        tokens=sent.split())
                    for k, sent in enumerate(obj['sentences'])
                ]
                sent_id += len(sentences)
                refs.append(
                    dict(
                        ref_id=len(refs),
                        ann_id=ann_id,
                        image_id=image_id,
                        category_id=category_id,
                        split=split,
                        sent_ids=[s['sent_id'] for s in sentences],
                        sentences=sentences,
                        file_name=f'{image_id}_{ann_id}.jpg'))
    categories = [
        dict(id=i + 1, name=shape, supercategory='shape')
        for i, shape in enumerate(SHAPES)
    ]
    with open(osp.join(folder, 'instances.json'), 'w') as f:
        json.dump(
            dict(
                info=dict(description='tpo synthetic world, RefCOCO-style'),
                licenses=[],
                images=coco_images,
                annotations=annotations,
                categories=categories), f)
    with open(osp.join(folder, 'refs.json'), 'w') as f:
        json.dump(refs, f)
    return links
