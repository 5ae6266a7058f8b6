"""Cache the released VideoChat-TPO's clip features of videos: one
InternVideo2-CLIP embedding per second (8 frames read at 8 fps, 224 px,
ImageNet-normalised), as its ``app.py`` computes them for CG-DETR.

    python tools/dataset_converters/extract_clip_features.py \\
        VIDEO_DIR OUT_DIR --config configs/tpo/videochat_tpo_release.py

writes ``OUT_DIR/<video name>.npz`` (key ``features``, ``(L, 768)``
float32; TEF is added by the head) for every video under VIDEO_DIR (or the
videos listed in ``--list``). The run is resumable: a video whose file
exists is skipped, and each file is written atomically, so an interrupted
run loses at most the video it was on. A video that cannot be read is
counted, listed at the end and skipped. ``LoadClipFeatures(root=OUT_DIR)``
reads the cache in a pipeline.

The encoder is the ``clip_vision`` entry of the config (an
``InternVideo2CLIPVision`` with its ``pretrained`` checkpoint).
"""
import argparse
import os
import os.path as osp
import sys
from typing import List

import numpy as np

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.avi', '.mov')
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('videos', help='folder of videos (searched '
                        'recursively)')
    parser.add_argument('out', help='cache folder')
    parser.add_argument('--config', required=True,
                        help='config whose `clip_vision` is the encoder')
    parser.add_argument('--list', help='text file: one video path per line, '
                        'relative to VIDEOS')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--img-size', type=int, default=224)
    return parser.parse_args(argv)


def list_videos(root: str, listing: str = None) -> List[str]:
    if listing:
        with open(listing) as f:
            return [osp.join(root, line.strip()) for line in f
                    if line.strip()]
    found = []
    for folder, _, files in os.walk(root):
        found += [osp.join(folder, f) for f in files
                  if f.lower().endswith(VIDEO_EXTENSIONS)]
    return sorted(found)


def read_clip_frames(path: str, img_size: int):
    """``(L * 8, 3, S, S)`` normalised frames at the release's 8-fps
    indices (:func:`tpo.models.encoders.clip_frame_indices`)."""
    import torch
    import torch.nn.functional as F

    from tpo.datasets.transforms.loading import (_read_decord, _read_pyav,
                                                 decord_available)
    from tpo.models.encoders import clip_frame_indices

    def sample(num_frames, fps):
        return np.asarray(clip_frame_indices(num_frames, fps), dtype=np.int64)

    reader = _read_decord if decord_available() else _read_pyav
    frames, inds, _, _ = reader(path, sample)
    if len(inds) == 0:
        raise ValueError('shorter than one clip (1 s)')
    frames = torch.from_numpy(frames).permute(0, 3, 1, 2)
    if tuple(frames.shape[-2:]) != (img_size, img_size):
        frames = F.interpolate(frames.float(), (img_size, img_size),
                               mode='bicubic', align_corners=False,
                               antialias=True).round().clamp(0, 255)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (frames.float() / 255 - mean) / std


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from tqdm import tqdm

    from tpo.datasets.transforms.clip_features import clip_feature_path
    from tpo.registry import MODELS
    init_default_scope('tpo')
    cfg = Config.fromfile(args.config)
    if 'clip_vision' not in cfg:
        print(f'{args.config} has no `clip_vision` encoder config',
              file=sys.stderr)
        return 2
    encoder = MODELS.build(cfg.clip_vision).to(args.device).eval()
    videos = list_videos(args.videos, args.list)
    os.makedirs(args.out, exist_ok=True)
    todo = [v for v in videos
            if not osp.isfile(clip_feature_path(args.out, v))]
    print(f'{len(videos)} videos, {len(videos) - len(todo)} already cached')
    failed = []
    for video in tqdm(todo, desc='clip features', unit='video'):
        target = clip_feature_path(args.out, video)
        try:
            frames = read_clip_frames(video, args.img_size)
        except Exception as error:  # unreadable video: counted, skipped
            failed.append(f'{video}: {type(error).__name__}: {error}')
            continue
        with torch.no_grad():
            feats = encoder.clip_features(frames.to(args.device))
        partial = target + '.partial.npz'
        np.savez(partial, features=feats.float().cpu().numpy())
        os.replace(partial, target)
    if failed:
        print(f'{len(failed)} video(s) could not be read:', file=sys.stderr)
        print('\n'.join(failed), file=sys.stderr)
    print(f'cached {len(todo) - len(failed)} video(s) in {args.out}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
