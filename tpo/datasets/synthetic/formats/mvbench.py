"""MVBench-style multiple-choice questions, one file per task:
``mvbench/{task}.json`` (val split) and ``mvbench_train/{task}.json``, each a
list of ``{'video', 'question', 'candidates', 'answer'}``. Task names are
those of the MVBench tasks the questions imitate."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from .. import language
from ..render import RenderedVideo
from ..scene import COLORS, SHAPES, direction_of

NUM_CANDIDATES = 4
FOLDERS = {'train': 'mvbench_train', 'val': 'mvbench'}


def _item(video: RenderedVideo, rng: np.random.Generator, question: str,
          answer: str, options: Sequence[str]) -> dict:
    """An item whose candidates are the answer plus distractors from
    ``options``, in random order."""
    others = [o for o in options if o != answer]
    num = min(NUM_CANDIDATES - 1, len(others))
    candidates = [answer] + rng.choice(others, num, replace=False).tolist()
    return dict(
        video=f'{video.scene.video_id}.mp4',
        question=question,
        candidates=[candidates[i] for i in rng.permutation(len(candidates))],
        answer=answer)


def _moving_count(video, rng) -> dict:
    count = sum(obj.motion != 'static' for obj in video.scene.objects)
    options = [str(k) for k in range(max(count, NUM_CANDIDATES) + 1)]
    return _item(video, rng, language.MOVING_COUNT_QUESTION, str(count),
                 options)


def _moving_direction(video, rng) -> dict:
    idx = int(rng.integers(len(video.scene.objects)))
    first = int(np.argmax(video.visible[:, idx]))
    answer = direction_of(video.velocities[first, idx]) or language.NOT_MOVING
    question = language.fill(language.MOVING_DIRECTION_QUESTION,
                             video.scene.objects[idx])
    return _item(video, rng, question, answer,
                 language.DIRECTIONS + (language.NOT_MOVING, ))


def _moving_attribute(video, rng) -> Optional[dict]:
    objects = video.scene.objects
    motions = [obj.motion for obj in objects]
    unique = [obj for obj in objects if motions.count(obj.motion) == 1]
    if not unique:
        return None
    obj = unique[rng.integers(len(unique))]
    question = language.fill(language.MOVING_ATTRIBUTE_QUESTION, obj)
    return _item(video, rng, question, obj.color, tuple(COLORS))


def _object_existence(video, rng) -> dict:
    present = {(obj.color, obj.shape) for obj in video.scene.objects}
    if rng.random() < 0.5:
        pairs, answer = sorted(present), 'yes'
    else:
        pairs = [(c, s) for c in COLORS for s in SHAPES
                 if (c, s) not in present]
        answer = 'no'
    color, shape = pairs[rng.integers(len(pairs))]
    question = language.EXISTENCE_QUESTION.format(
        article=language.article(color), color=color, shape=shape)
    return _item(video, rng, question, answer, language.EXISTENCE_CANDIDATES)


_BUILDERS = dict(
    moving_count=_moving_count,
    moving_direction=_moving_direction,
    moving_attribute=_moving_attribute,
    object_existence=_object_existence)
TASKS = tuple(_BUILDERS)


def build_items(video: RenderedVideo,
                rng: np.random.Generator) -> Dict[str, dict]:
    """At most one question per task about ``video``."""
    items = {task: build(video, rng) for task, build in _BUILDERS.items()}
    return {task: item for task, item in items.items() if item is not None}


def write_mvbench(out_dir: str, items: Dict[str, List[dict]]) -> None:
    """Write one json per task for each split."""
    for split, split_items in items.items():
        folder = osp.join(out_dir, FOLDERS[split])
        os.makedirs(folder, exist_ok=True)
        for task in TASKS:
            with open(osp.join(folder, f'{task}.json'), 'w') as f:
                json.dump([item[task] for item in split_items if task in item],
                          f)
