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


def build_item(video: RenderedVideo, rng: np.random.Generator) -> dict:
    """A caption turn, then questions on the count, a colour and a motion."""
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
    ]
    return dict(video=f'{video.scene.video_id}.mp4', QA=qa)


def write_videochat2(out_dir: str, items: Dict[str, List[dict]]) -> None:
    """Write ``videochat2_it/{split}.json``."""
    folder = osp.join(out_dir, 'videochat2_it')
    os.makedirs(folder, exist_ok=True)
    for split, split_items in items.items():
        with open(osp.join(folder, f'{split}.json'), 'w') as f:
            json.dump(split_items, f)
