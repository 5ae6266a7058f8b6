"""MeViS-style motion expressions with per-frame object masks.

Per split: ``mevis/{split}/meta_expressions.json`` =
``{'videos': {vid: {'expressions': {'0': {'exp', 'obj_id', 'anno_id'}},
'frames': ['00000', ...]}}}``, ``mevis/{split}/mask_dict.json`` =
``{str(anno_id): [COCO RLE or None per frame]}`` and the frames as
``mevis/{split}/JPEGImages/{vid}/{frame}.jpg``.
"""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np

from .. import language
from ..render import RenderedVideo
from ..video_io import write_jpeg
from .rle import encode_masks


def _expressions(video: RenderedVideo, rng: np.random.Generator) -> List[dict]:
    """A motion expression per object that is in the video from its first
    frame (naming its shape, colour or neither when that still identifies
    it), and one more for such an object that leaves before the end.

    Every expression refers to one object that is there when a clip
    starts: the mask head prompts SAM2 on a clip's first frame with one
    object, so an object that enters later, or a group of objects, could
    not be segmented from that prompt.
    """
    scene = video.scene
    objects = scene.objects

    def unique(obj, attrs):
        return sum(
            all(getattr(o, a) == getattr(obj, a) for a in attrs)
            for o in objects) == 1

    identifying = ((language.MEVIS_SHAPE_MOTION, ('shape', 'motion')),
                   (language.MEVIS_COLOR_MOTION, ('color', 'motion')),
                   (language.MEVIS_MOTION, ('motion', )))
    expressions = []
    present = [obj for obj in objects if obj.appear == 0]
    for obj in present:
        options = [t for t, attrs in identifying if unique(obj, attrs)]
        options = options or [language.MEVIS_FULL_MOTION]
        expressions.append(
            dict(
                exp=language.fill(rng.choice(options), obj),
                obj_id=[obj.obj_id]))
    for obj in present:
        if language.leaves_early(obj, scene):
            expressions.append(
                dict(
                    exp=language.fill(language.MEVIS_LEAVES, obj),
                    obj_id=[obj.obj_id]))
    return expressions


def build_video(video: RenderedVideo, rng: np.random.Generator, out_dir: str,
                split: str) -> dict:
    """Write the frames of one video and return its expressions and the
    RLE masks of its objects (``None`` where an object is not visible)."""
    scene = video.scene
    frames = [f'{t:05d}' for t in range(scene.num_frames)]
    folder = osp.join(out_dir, 'mevis', split, 'JPEGImages', scene.video_id)
    os.makedirs(folder, exist_ok=True)
    for name, frame in zip(frames, video.frames):
        write_jpeg(osp.join(folder, f'{name}.jpg'), frame)
    masks = {
        obj.obj_id: [
            rle if visible else None for rle, visible in zip(
                encode_masks(video.masks[:, idx]), video.visible[:, idx])
        ]
        for idx, obj in enumerate(scene.objects)
    }
    return dict(
        video_id=scene.video_id,
        frames=frames,
        expressions=_expressions(video, rng),
        masks=masks)


def write_mevis(out_dir: str, videos: Dict[str, List[dict]]) -> None:
    """Number the object tracks of each split (``anno_id``) and write its
    ``meta_expressions.json`` and ``mask_dict.json``."""
    for split, split_videos in videos.items():
        meta, mask_dict = {}, {}
        for video in split_videos:
            anno_ids = {}
            for obj_id, rles in video['masks'].items():
                anno_ids[obj_id] = len(mask_dict)
                mask_dict[str(len(mask_dict))] = rles
            expressions = {
                str(k):
                dict(
                    exp=exp['exp'],
                    obj_id=exp['obj_id'],
                    anno_id=[anno_ids[i] for i in exp['obj_id']])
                for k, exp in enumerate(video['expressions'])
            }
            meta[video['video_id']] = dict(
                expressions=expressions, frames=video['frames'])
        folder = osp.join(out_dir, 'mevis', split)
        os.makedirs(folder, exist_ok=True)
        with open(osp.join(folder, 'meta_expressions.json'), 'w') as f:
            json.dump(dict(videos=meta), f)
        with open(osp.join(folder, 'mask_dict.json'), 'w') as f:
            json.dump(mask_dict, f)
