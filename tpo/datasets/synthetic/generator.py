"""Generate the synthetic video world: mp4 videos, their exact ground truth
and annotations in the formats of public datasets."""
import json
import os
import os.path as osp
import zlib
from dataclasses import asdict
from multiprocessing import Pool
from typing import Dict, Optional, Sequence

import numpy as np

from .formats import lasot, mevis, mvbench, qvhighlights, refcoco, videochat2
from .render import RenderedVideo, render_video
from .scene import COLORS, sample_scene
from .video_io import write_mp4

FORMAT_VERSION = 2
SPLITS = ('train', 'val')
DEFAULT_NUM_VIDEOS = {'train': 400, 'val': 100}
MIN_VISIBLE_S = 1  # every object is visible for at least this long
#: Top-level entries of a world folder; ``meta.json`` is written last.
WORLD_ENTRIES = ('videos', 'world_gt.json', 'qvhighlights', 'refcoco', 'mevis',
                 'lasot', 'videochat2_it', 'mvbench', 'mvbench_train',
                 'meta.json')
#: What a rendered video contributes to (see ``_make_video``).
PARTS = ('gt', 'qvhighlights', 'refcoco', 'mevis', 'lasot', 'videochat2',
         'mvbench')


def world_params(
    num_videos: Optional[Dict[str, int]] = None,
    seed: int = 0,
    size: Sequence[int] = (128, 128),
    fps: int = 8,
    duration_range: Sequence[int] = (8, 12),
    num_objects_range: Sequence[int] = (2, 4)
) -> dict:
    """Validate generator parameters and return them as stored in
    ``meta.json`` (see :func:`generate_world` for their meaning)."""
    num_videos = DEFAULT_NUM_VIDEOS if num_videos is None else num_videos
    if not set(num_videos) <= set(SPLITS) or any(
            int(n) < 0 for n in num_videos.values()):
        raise ValueError(f'num_videos must map {SPLITS} to counts >= 0, '
                         f'got {num_videos}.')
    height, width = (int(v) for v in size)
    if height < 32 or width < 32 or height % 2 or width % 2:
        raise ValueError(f'size must be even and >= 32 (H.264 4:2:0), got '
                         f'{size}.')
    low, high = (int(v) for v in duration_range)
    if not 2 <= low <= high or low == high and low % 2:
        raise ValueError('duration_range must contain an even number of '
                         f'seconds >= 2, got {duration_range}.')
    min_objects, max_objects = (int(v) for v in num_objects_range)
    if not 2 <= min_objects <= max_objects <= 9:
        raise ValueError('num_objects_range must lie within [2, 9], got '
                         f'{num_objects_range}.')
    if int(fps) < 1:
        raise ValueError(f'fps must be >= 1, got {fps}.')
    return dict(
        num_videos={split: int(num_videos.get(split, 0))
                    for split in SPLITS},
        seed=int(seed),
        size=[height, width],
        fps=int(fps),
        duration_range=[low, high],
        num_objects_range=[min_objects, max_objects])


def _rng(params: dict, split: str, index: int,
         stream: str) -> np.random.Generator:
    """An independent random stream per video and purpose."""
    return np.random.default_rng([
        params['seed'],
        zlib.crc32(split.encode()), index,
        zlib.crc32(stream.encode())
    ])


def _ground_truth(video: RenderedVideo, split: str) -> dict:
    scene = video.scene
    objects = []
    for idx, obj in enumerate(scene.objects):
        boxes = video.boxes[:, idx]
        objects.append(
            dict(
                asdict(obj),
                motion=obj.motion,
                rgb=list(COLORS[obj.color]),
                boxes=[None if np.isnan(b[0]) else b.tolist() for b in boxes],
                visible=video.visible[:, idx].tolist(),
                area=video.area[:, idx].tolist()))
    return dict(
        video_id=scene.video_id,
        split=split,
        file_name=f'videos/{scene.video_id}.mp4',
        height=scene.height,
        width=scene.width,
        fps=scene.fps,
        num_frames=scene.num_frames,
        duration=scene.duration,
        background=list(scene.background),
        objects=objects)


def _make_video(task: tuple) -> Dict[str, list]:
    """Render one video, write its per-video files and return its parts of
    the annotation files (a list per part)."""
    out_dir, params, split, index = task
    video_id = f'{split}_{index:05d}'
    rng = _rng(params, split, index, 'scene')
    while True:
        scene = sample_scene(rng, video_id, params['size'], params['fps'],
                             params['duration_range'],
                             params['num_objects_range'])
        video = render_video(scene)
        min_frames = MIN_VISIBLE_S * scene.fps
        if (video.visible.sum(axis=0) >= min_frames).all():
            break
    write_mp4(
        osp.join(out_dir, 'videos', f'{video_id}.mp4'), video.frames,
        scene.fps)

    def stream(name: str) -> np.random.Generator:
        return _rng(params, split, index, name)

    return dict(
        gt=[_ground_truth(video, split)],
        qvhighlights=qvhighlights.build_queries(video, stream('qvhighlights')),
        refcoco=refcoco.build_images(video, stream('refcoco')),
        mevis=[mevis.build_video(video, stream('mevis'), out_dir, split)],
        lasot=[lasot.build_sequence(video, stream('lasot'), out_dir)]
        if lasot.is_sequence(index) else [],
        videochat2=[videochat2.build_item(video, stream('videochat2'))],
        mvbench=[mvbench.build_items(video, stream('mvbench'))])


def _count(parts: Dict[str, Dict[str, list]]) -> Dict[str, Dict[str, int]]:
    """Items per output and split, for ``meta.json`` and summaries."""

    def per_split(name, size=len):
        return {split: size(parts[name][split]) for split in SPLITS}

    return dict(
        videos=per_split('gt'),
        qvhighlights_queries=per_split('qvhighlights'),
        refcoco_images=per_split('refcoco'),
        refcoco_refs=per_split(
            'refcoco', lambda images: sum(
                bool(obj['sentences']) for image in images
                for obj in image['objects'])),
        mevis_expressions=per_split(
            'mevis',
            lambda videos: sum(len(video['expressions']) for video in videos)),
        lasot_sequences=per_split('lasot'),
        videochat2_items=per_split('videochat2'),
        mvbench_items=per_split('mvbench',
                                lambda videos: sum(map(len, videos))))


def generate_world(out_dir: str,
                   num_videos: Optional[Dict[str, int]] = None,
                   seed: int = 0,
                   size: Sequence[int] = (128, 128),
                   fps: int = 8,
                   duration_range: Sequence[int] = (8, 12),
                   num_objects_range: Sequence[int] = (2, 4),
                   num_workers: Optional[int] = None) -> dict:
    """Render a synthetic world into the new or empty folder ``out_dir``.

    ``meta.json`` is written last, so its presence marks a complete world.
    The output depends only on the parameters (not on ``num_workers``):
    every video draws from its own random streams.

    Args:
        out_dir (str): New or empty folder to write into.
        num_videos (dict, optional): Videos per split, ``{'train': N,
            'val': M}``. Defaults to :data:`DEFAULT_NUM_VIDEOS`.
        seed (int): Seed of the whole world. Defaults to 0.
        size (Sequence[int]): Frame ``(H, W)``, even. Defaults to 128x128.
        fps (int): Frames per second. Defaults to 8.
        duration_range (Sequence[int]): Inclusive range of video lengths in
            seconds; only even lengths are drawn. Defaults to (8, 12).
        num_objects_range (Sequence[int]): Inclusive range of objects per
            video, within [2, 9]. Defaults to (2, 4).
        num_workers (int, optional): Processes that render videos; defaults
            to the CPU count, 0 or 1 renders in this process.

    Returns:
        dict: The content of ``meta.json``: ``format_version``, ``params``
        and ``counts`` (items per output and split).
    """
    params = world_params(num_videos, seed, size, fps, duration_range,
                          num_objects_range)
    if osp.isdir(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f'{out_dir} is not empty.')
    os.makedirs(osp.join(out_dir, 'videos'), exist_ok=True)
    tasks = [(out_dir, params, split, index) for split in SPLITS
             for index in range(params['num_videos'][split])]
    num_workers = os.cpu_count() if num_workers is None else num_workers
    if num_workers > 1 and len(tasks) > 1:
        with Pool(min(num_workers, len(tasks))) as pool:
            results = pool.map(_make_video, tasks, chunksize=4)
    else:
        results = [_make_video(task) for task in tasks]

    parts = {name: {split: [] for split in SPLITS} for name in PARTS}
    for (_, _, split, _), result in zip(tasks, results):
        for name, part in result.items():
            parts[name][split].extend(part)
    qvhighlights.write_qvhighlights(out_dir, parts['qvhighlights'])
    image_links = refcoco.write_refcoco(out_dir, parts['refcoco'])
    mevis.write_mevis(out_dir, parts['mevis'])
    sequence_links = lasot.write_lasot(out_dir, parts['lasot'])
    videochat2.write_videochat2(out_dir, parts['videochat2'])
    mvbench.write_mvbench(out_dir, parts['mvbench'])
    videos = [
        dict(
            gt,
            refcoco_images=image_links.get(gt['video_id'], []),
            lasot=sequence_links.get(gt['video_id'])) for split in SPLITS
        for gt in parts['gt'][split]
    ]
    with open(osp.join(out_dir, 'world_gt.json'), 'w') as f:
        json.dump(
            dict(format_version=FORMAT_VERSION, videos=videos),
            f,
            separators=(',', ':'))
    meta = dict(
        format_version=FORMAT_VERSION, params=params, counts=_count(parts))
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    return meta
