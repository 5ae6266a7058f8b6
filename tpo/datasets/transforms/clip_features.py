"""Read a video's cached clip features for the temporal heads: the
CG-DETR / Moment-DETR release layout (e.g. QVHighlights' SlowFast + CLIP
features) or the released VideoChat-TPO's InternVideo2-CLIP cache."""
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from tpo.registry import TRANSFORMS
from .query_features import l2_normalize, read_npz


def clip_feature_path(root: str, video_path: str) -> str:
    """``<root>/<video file name without extension>.npz``: the release
    layouts, and where ``tools/dataset_converters/extract_clip_features.py``
    caches a video's features."""
    name = osp.splitext(osp.basename(str(video_path).rstrip('/')))[0]
    return osp.join(root, f'{name}.npz')


@TRANSFORMS.register_module()
class LoadClipFeatures(BaseTransform):
    """Add ``clip_features`` ``(L, D)`` float32: the array ``key`` of
    ``<root>/<video name>.npz``; of several roots, cut to the shortest and
    concatenated along channels (each L2-normalised first with
    ``normalize``, as CG-DETR does).

    A video without a cache file fails (``on_missing='raise'``) or is
    counted and logged once per 100 misses (``'skip'``: the sample goes on
    without features, and a head that needs them names the tool to run).

    Required Keys: video_path

    Added Keys: clip_features (when cached)

    Args:
        root (str | list[str]): The cache folder(s).
        key (str): The array in the npz files. Defaults to ``'features'``.
        normalize (bool): L2-normalise each root's features (CG-DETR's
            default; the VideoChat-TPO release does not). Defaults to
            False.
        max_clips (int, optional): Keep at most this many clips (CG-DETR
            ``max_v_l``: 75 on QVHighlights). Defaults to None (all).
        on_missing (str): ``'skip'`` or ``'raise'``. Defaults to
            ``'raise'``.
    """

    def __init__(self,
                 root: Union[str, Sequence[str]],
                 key: str = 'features',
                 normalize: bool = False,
                 max_clips: Optional[int] = None,
                 on_missing: str = 'raise') -> None:
        if on_missing not in ('skip', 'raise'):
            raise ValueError(
                f"on_missing must be 'skip' or 'raise', got {on_missing!r}")
        self.roots: List[str] = [root] if isinstance(root, str) \
            else list(root)
        if not self.roots:
            raise ValueError('LoadClipFeatures needs a root folder')
        self.key = key
        self.normalize = normalize
        self.max_clips = max_clips
        self.on_missing = on_missing
        self.missing = 0

    def transform(self, results: dict) -> dict:
        paths = [clip_feature_path(root, results['video_path'])
                 for root in self.roots]
        absent = [p for p in paths if not osp.isfile(p)]
        if absent:
            if self.on_missing == 'raise':
                raise FileNotFoundError(
                    f'{absent[0]}: no cached clip features of '
                    f'{results["video_path"]}; run `python tools/'
                    'dataset_converters/extract_clip_features.py` (or '
                    'download the release\'s features) first.')
            self.missing += 1
            if self.missing % 100 == 1:
                print_log(f'LoadClipFeatures: {self.missing} video(s) without '
                          f'cached features so far, e.g. {absent[0]}',
                          'current', level=30)
            return results
        parts = []
        for path in paths:
            part = read_npz(self, path, self.key, results)[:self.max_clips]
            parts.append(l2_normalize(part) if self.normalize else part)
        length = min(len(p) for p in parts)
        if length == 0:
            raise ValueError(f'{paths[0]}: no clip features')
        results['clip_features'] = np.concatenate(
            [p[:length] for p in parts], -1)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(root={self.roots}, key={self.key!r}, '
                f'normalize={self.normalize}, max_clips={self.max_clips}, '
                f'on_missing={self.on_missing!r})')
