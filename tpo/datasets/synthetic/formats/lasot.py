"""LaSOT-style single-object tracking sequences.

``lasot/{category}/{category}-{k}/`` holds ``img/00000001.jpg...``,
``groundtruth.txt`` (one ``x,y,w,h`` integer row per frame, 1-based pixel
coordinates as in LaSOT's MATLAB toolkit, ``0,0,0,0`` when the target is
absent), ``full_occlusion.txt`` and ``out_of_view.txt`` (one line of 0/1)
and ``nlp.txt``. ``lasot/training_set.txt`` / ``testing_set.txt`` list the
train / val sequences. A sequence starts at the target's first visible frame,
since trackers are initialised from the first box.
"""
import os
import os.path as osp
from typing import Dict, List

import numpy as np

from .. import language
from ..render import RenderedVideo
from ..video_io import write_jpeg

VIDEOS_PER_SEQUENCE = 2  # every 2nd video of a split becomes a sequence
SET_FILES = {'train': 'training_set.txt', 'val': 'testing_set.txt'}


def is_sequence(index: int) -> bool:
    """Whether the ``index``-th video of a split becomes a sequence."""
    return index % VIDEOS_PER_SEQUENCE == 0


def _line(flags: np.ndarray) -> str:
    return ','.join(str(int(v)) for v in flags)


def build_sequence(video: RenderedVideo, rng: np.random.Generator,
                   out_dir: str) -> dict:
    """Write a sequence that follows a random object into
    ``lasot/{category}/{video_id}`` (renamed by :func:`write_lasot`)."""
    scene = video.scene
    idx = int(rng.integers(len(scene.objects)))
    obj = scene.objects[idx]
    first = int(np.argmax(video.visible[:, idx]))
    folder = osp.join(out_dir, 'lasot', obj.shape, scene.video_id)
    os.makedirs(osp.join(folder, 'img'), exist_ok=True)
    for k, frame in enumerate(video.frames[first:]):
        write_jpeg(osp.join(folder, 'img', f'{k + 1:08d}.jpg'), frame)
    rows = []
    for box in video.boxes[first:, idx]:
        if np.isnan(box[0]):
            rows.append('0,0,0,0')
        else:
            x1, y1, x2, y2 = box.astype(int).tolist()
            rows.append(f'{x1 + 1},{y1 + 1},{x2 - x1},{y2 - y1}')
    frame_inds = np.arange(first, scene.num_frames)
    in_window = (frame_inds >= obj.appear) & (frame_inds < obj.disappear)
    visible = video.visible[first:, idx]
    files = {
        'groundtruth.txt': '\n'.join(rows) + '\n',
        'full_occlusion.txt': _line(in_window & ~visible),
        'out_of_view.txt': _line(~in_window),
        'nlp.txt': language.fill(language.LASOT_NLP, obj),
    }
    for name, text in files.items():
        with open(osp.join(folder, name), 'w') as f:
            f.write(text)
    return dict(
        video_id=scene.video_id,
        category=obj.shape,
        obj_id=obj.obj_id,
        first_frame=first)


def write_lasot(out_dir: str, sequences: Dict[str,
                                              List[dict]]) -> Dict[str, dict]:
    """Name the sequences ``{category}-{k}`` (k counts per category over
    all splits) and write the split lists.

    Returns:
        dict: ``{video_id: {'sequence', 'obj_id', 'first_frame'}}``.
    """
    root = osp.join(out_dir, 'lasot')
    os.makedirs(root, exist_ok=True)
    counts, links = {}, {}
    for split, split_sequences in sequences.items():
        names = []
        for seq in split_sequences:
            category = seq['category']
            counts[category] = counts.get(category, 0) + 1
            name = f'{category}-{counts[category]}'
            os.rename(
                osp.join(root, category, seq['video_id']),
                osp.join(root, category, name))
            names.append(name)
            links[seq['video_id']] = dict(
                sequence=name,
                obj_id=seq['obj_id'],
                first_frame=seq['first_frame'])
        with open(osp.join(root, SET_FILES[split]), 'w') as f:
            f.write(''.join(f'{name}\n' for name in names))
    return links
