"""VideoChat2-IT-style instruction data: ``videochat2_it/{split}.json`` is a
list of ``{'video': '{vid}.mp4', 'QA': [{'i', 'q', 'a'}, ...]}``."""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np

from .. import language
from ..render import RenderedVideo


def _caption(video: RenderedVideo, rng: np.random.Generator) -> str:
    scene = video.scene
    objects = [scene.objects[i] for i in rng.permutation(len(scene.objects))]
    items = [language.fill(language.CAPTION_ITEM, obj) for obj in objects]
    caption = language.CAPTION.format(
        count=language.NUMBER_WORDS[len(items)],
        items=', '.join(items[:-1]) + ' and ' + items[-1])
    for obj in objects:
        if language.appears_later(obj, scene):
            caption += ' ' + language.fill(language.CAPTION_APPEARS, obj)
        if language.leaves_early(obj, scene):
            caption += ' ' + language.fill(language.CAPTION_LEAVES, obj)
    return caption


def _color_question(video: RenderedVideo,
                    rng: np.random.Generator) -> List[dict]:
    """Ask the colour of an object that its shape (and motion) identify."""
    objects = video.scene.objects
    for idx in rng.permutation(len(objects)):
        obj = objects[idx]
        same_shape = [o for o in objects if o.shape == obj.shape]
        if len(same_shape) == 1:
            question = language.fill(language.COLOR_QUESTION, obj)
        elif [o.motion for o in same_shape].count(obj.motion) == 1:
            question = language.fill(language.COLOR_MOTION_QUESTION, obj)
        else:
            continue
        return [
            dict(
                i=rng.choice(language.QA_INSTRUCTIONS),
                q=question,
                a=language.fill(language.COLOR_ANSWER, obj))
        ]
    return []


def _where_question(video: RenderedVideo,
                    rng: np.random.Generator) -> List[dict]:
    """Ask where an object that does not move is (thirds of the frame)."""
    scene = video.scene
    still = [i for i, obj in enumerate(scene.objects)
             if obj.motion == 'static']
    if not still:
        return []
    idx = int(rng.choice(still))
    obj = scene.objects[idx]
    row = min(2, int(3 * obj.start[1] / scene.height))
    col = min(2, int(3 * obj.start[0] / scene.width))
    return [
        dict(
            i=rng.choice(language.QA_INSTRUCTIONS),
            q=language.fill(language.WHERE_QUESTION, obj),
            a=language.WHERE_ANSWER.format(place=language.PLACES[row, col]))
    ]


def _when_question(video: RenderedVideo,
                   rng: np.random.Generator) -> List[dict]:
    """Ask when an object can be seen: an object that is only there for a
    while if there is one (the third of the video holding the centre of its
    window), else any (the whole video)."""
    scene = video.scene
    guests = [obj for obj in scene.objects
              if obj.disappear - obj.appear < scene.num_frames]
    obj = guests[rng.integers(len(guests))] if guests else \
        scene.objects[rng.integers(len(scene.objects))]
    if guests:
        centre = (obj.appear + obj.disappear) / 2
        key = min(2, int(3 * centre / scene.num_frames))
    else:
        key = 'whole'
    return [
        dict(
            i=rng.choice(language.QA_INSTRUCTIONS),
            q=language.fill(language.WHEN_QUESTION, obj),
            a=language.WHEN_ANSWERS[key])
    ]


def build_item(video: RenderedVideo, rng: np.random.Generator) -> dict:
    """A caption turn, then questions on the count, a colour, a motion, the
    place of a still object and when an object can be seen."""
    objects = video.scene.objects
    mover = objects[rng.integers(len(objects))]
    qa = [
        dict(
            i=rng.choice(language.CAPTION_INSTRUCTIONS),
            q='',
            a=_caption(video, rng)),
        dict(
            i=rng.choice(language.QA_INSTRUCTIONS),
            q=language.COUNT_QUESTION,
            a=language.COUNT_ANSWER.format(
                count=language.NUMBER_WORDS[len(objects)])),
        *_color_question(video, rng),
        dict(
            i=rng.choice(language.QA_INSTRUCTIONS),
            q=language.fill(language.MOTION_QUESTION, mover),
            a=language.MOTION_ANSWERS[mover.motion]),
        *_where_question(video, rng),
        *_when_question(video, rng),
    ]
    return dict(video=f'{video.scene.video_id}.mp4', QA=qa)


def write_videochat2(out_dir: str, items: Dict[str, List[dict]]) -> None:
    """Write ``videochat2_it/{split}.json``."""
    folder = osp.join(out_dir, 'videochat2_it')
    os.makedirs(folder, exist_ok=True)
    for split, split_items in items.items():
        with open(osp.join(folder, f'{split}.json'), 'w') as f:
            json.dump(split_items, f)
