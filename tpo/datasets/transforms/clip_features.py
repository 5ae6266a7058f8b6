"""Read a video's cached clip features (the released VideoChat-TPO's
temporal-head input)."""
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from tpo.registry import TRANSFORMS


def clip_feature_path(root: str, video_path: str) -> str:
    """``<root>/<video file name without extension>.npz``: where
    ``tools/dataset_converters/extract_clip_features.py`` caches a video's
    features."""
    name = osp.splitext(osp.basename(str(video_path).rstrip('/')))[0]
    return osp.join(root, f'{name}.npz')


@TRANSFORMS.register_module()
class LoadClipFeatures(BaseTransform):
    """Add ``clip_features`` ``(L, D)`` float32 (key ``features`` of
    ``<root>/<video name>.npz``) when the cache holds the sample's video.

    A video without a cache file is counted and logged once per 100 misses
    (``on_missing='skip'``: the sample goes on without features, and a head
    that needs them names the tool to run) or fails (``'raise'``).

    Required Keys: video_path

    Added Keys: clip_features (when cached)

    Args:
        root (str): The cache folder.
        on_missing (str): ``'skip'`` or ``'raise'``. Defaults to
            ``'raise'``.
    """

    def __init__(self, root: str, on_missing: str = 'raise') -> None:
        if on_missing not in ('skip', 'raise'):
            raise ValueError(
                f"on_missing must be 'skip' or 'raise', got {on_missing!r}")
        self.root = root
        self.on_missing = on_missing
        self.missing = 0

    def transform(self, results: dict) -> dict:
        path = clip_feature_path(self.root, results['video_path'])
        if not osp.isfile(path):
            if self.on_missing == 'raise':
                raise FileNotFoundError(
                    f'{path}: no cached clip features of '
                    f'{results["video_path"]}; run `python tools/'
                    'dataset_converters/extract_clip_features.py` first.')
            self.missing += 1
            if self.missing % 100 == 1:
                print_log(f'LoadClipFeatures: {self.missing} video(s) without '
                          f'cached features so far, e.g. {path}', 'current',
                          level=30)
            return results
        with np.load(path) as archive:
            results['clip_features'] = archive['features'].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(root={self.root!r})'
