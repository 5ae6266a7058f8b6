"""QVHighlights-style moment retrieval + highlight detection queries.

One jsonl row per query (``qid`` is assigned when the split is written):
``query``, ``duration`` (int s), ``vid``, ``relevant_windows`` (2-s aligned),
``relevant_clip_ids`` (clip ``i`` covers ``[2i, 2i + 2)`` s) and
``saliency_scores`` (``[a1, a2, a3]`` per listed clip, 0..4).
"""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np

from .. import language
from ..render import RenderedVideo

CLIP_SECONDS = 2
MIN_CLIP_COVERAGE = 0.5
ANNOTATOR_NOISE = ((0, ), (-1, 0, 0, 1), (-1, 0, 1))


def _clip_means(values: np.ndarray, clip_len: int) -> np.ndarray:
    return values.reshape(-1, clip_len).mean(axis=1)


def _windows(clip_ids: List[int]) -> List[List[int]]:
    windows = []
    for clip in clip_ids:
        if windows and windows[-1][1] == clip * CLIP_SECONDS:
            windows[-1][1] += CLIP_SECONDS
        else:
            windows.append([clip * CLIP_SECONDS, (clip + 1) * CLIP_SECONDS])
    return windows


def build_queries(video: RenderedVideo,
                  rng: np.random.Generator) -> List[dict]:
    """One query per object that is visible for less than half of the
    video: when it can be seen.

    A clip is relevant when the object is visible in half of its frames;
    objects relevant in half of the clips or more get no query, so that the
    whole video never overlaps a query's window by half (the trivial answer
    scores 0 R1@0.5). Annotator 1 scores a relevant clip 1..4 from the
    object's visible share there, annotators 2 and 3 add random (seeded)
    noise of at most one point.
    """
    scene = video.scene
    clip_len = CLIP_SECONDS * scene.fps
    num_clips = scene.num_frames // clip_len
    rows = []
    for idx, obj in enumerate(scene.objects):
        visible = video.visible[:, idx]
        clip_ids = np.flatnonzero(
            _clip_means(visible, clip_len) >= MIN_CLIP_COVERAGE)
        query = language.fill(rng.choice(language.QVH_APPEAR), obj)
        if not len(clip_ids) or 2 * len(clip_ids) >= num_clips:
            continue
        quality = _clip_means(visible * video.visible_fraction[:, idx],
                              clip_len)[clip_ids]
        base = 1 + np.floor(3 * quality + 0.5).astype(int)
        noise = np.stack(
            [rng.choice(n, size=len(clip_ids)) for n in ANNOTATOR_NOISE],
            axis=1)
        scores = np.clip(base[:, None] + noise, 0, 4)
        rows.append(
            dict(
                query=query,
                duration=scene.duration,
                vid=scene.video_id,
                relevant_windows=_windows(clip_ids.tolist()),
                relevant_clip_ids=clip_ids.tolist(),
                saliency_scores=scores.tolist()))
    return rows


def write_qvhighlights(out_dir: str, rows: Dict[str, List[dict]]) -> None:
    """Number the queries of all splits and write
    ``qvhighlights/highlight_{split}_release.jsonl``."""
    folder = osp.join(out_dir, 'qvhighlights')
    os.makedirs(folder, exist_ok=True)
    qid = 0
    for split, split_rows in rows.items():
        with open(osp.join(folder, f'highlight_{split}_release.jsonl'),
                  'w') as f:
            for row in split_rows:
                f.write(json.dumps(dict(qid=qid, **row)) + '\n')
                qid += 1
