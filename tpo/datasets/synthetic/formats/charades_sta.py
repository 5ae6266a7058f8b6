"""Charades-STA-style temporal grounding of the synthetic world: a second
temporal source (Table 15, "one temporal dataset vs several").

Derived from ``world_gt.json`` after the world is generated, so the world's
own files and format version are untouched. Where QVHighlights has one
2-s-aligned query per object, this source annotates *every* unambiguous
event of an object with frame-exact boundaries (0.1 s), one
``"<vid> <start> <end>##<sentence>"`` line per event, with the Charades
``id,length`` CSV of the video durations:

- the object is visible (its longest visible run);
- the object moves in a direction (only a direction it takes in a single
  run, so the sentence names one window).

Sentences reuse the QVHighlights templates of :mod:`..language`, so the
world's tokenizer covers them.
"""
import json
import os
import os.path as osp
import zlib
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .. import language

MIN_EVENT_S = 1.0  # shorter events are not annotated


def _runs(flags: np.ndarray) -> List[Tuple[int, int]]:
    """``[start, end)`` frame ranges of the True runs of ``flags``."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def _directions(boxes: Sequence[Optional[Sequence[float]]]) -> np.ndarray:
    """Per frame, the direction of the box centre's motion to the next
    frame (``''`` when static, absent or last)."""
    out = np.full(len(boxes), '', dtype=object)
    for t in range(len(boxes) - 1):
        a, b = boxes[t], boxes[t + 1]
        if a is None or b is None:
            continue
        dx = (b[0] + b[2] - a[0] - a[2]) / 2
        dy = (b[1] + b[3] - a[1] - a[3]) / 2
        if abs(dx) >= abs(dy) and dx:
            out[t] = 'right' if dx > 0 else 'left'
        elif dy:
            out[t] = 'down' if dy > 0 else 'up'
    return out


def _pick(templates: Sequence[str], key: str) -> str:
    """A template chosen deterministically by ``key``."""
    return templates[zlib.crc32(key.encode()) % len(templates)]


def build_lines(video: dict) -> List[str]:
    """The Charades-STA lines of one ``world_gt.json`` video entry."""
    fps, vid = video['fps'], video['video_id']
    min_frames = int(np.ceil(MIN_EVENT_S * fps))
    lines = []

    def add(start: int, end: int, sentence: str) -> None:
        lines.append(f'{vid} {start / fps:.1f} {end / fps:.1f}##{sentence}')

    for obj in video['objects']:
        words = dict(color=obj['color'], shape=obj['shape'])
        key = f'{vid}/{obj["obj_id"]}'
        visible = _runs(np.asarray(obj['visible'], dtype=bool))
        start, end = max(visible, key=lambda r: r[1] - r[0])
        if end - start >= min_frames:
            add(start, end,
                _pick(language.QVH_APPEAR, key).format(**words))
        directions = _directions(obj['boxes'])
        for direction in language.DIRECTIONS:
            runs = _runs(directions == direction)
            if len(runs) == 1 and runs[0][1] - runs[0][0] >= min_frames:
                add(*runs[0],
                    _pick(language.QVH_MOVE, key + direction).format(
                        direction=direction, **words))
    return lines


def _write_atomically(path: str, text: str) -> None:
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def write_charades_sta(world_root: str, out_dir: str,
                       splits: Sequence[str] = ('train', 'val')) -> dict:
    """Write ``charades_sta_{split}.txt`` and ``Charades_v1_{split}.csv``
    of the world in ``world_root`` into ``out_dir``.

    Returns:
        dict: Lines written per split.
    """
    with open(osp.join(world_root, 'world_gt.json')) as f:
        videos = json.load(f)['videos']
    os.makedirs(out_dir, exist_ok=True)
    counts = {}
    for split in splits:
        split_videos = [v for v in videos if v['split'] == split]
        lines = [line for v in split_videos for line in build_lines(v)]
        rows = [['id', 'length']] + [[v['video_id'], v['duration']]
                                     for v in split_videos]
        # Each file is renamed into place whole (processes may race), the
        # annotation file last: its presence marks a complete output.
        _write_atomically(
            osp.join(out_dir, f'Charades_v1_{split}.csv'),
            ''.join(f'{vid},{length}\n' for vid, length in rows))
        _write_atomically(
            osp.join(out_dir, f'charades_sta_{split}.txt'),
            ''.join(line + '\n' for line in lines))
        counts[split] = len(lines)
    return counts
