"""Resize the frames of a clip."""
from typing import Tuple, Union

import mmcv
import numpy as np
from mmcv.image.geometric import cv2_interp_codes
from mmcv.transforms import BaseTransform

from tpo.registry import TRANSFORMS


def check_resize_args(size: Union[int, Tuple[int, int]],
                      interpolation: str) -> Tuple[int, int]:
    """Validate a target size and an mmcv interpolation name; returns the
    size as ``(h, w)`` (an int is a square)."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'size must be positive (h, w), got {size}.')
    if interpolation not in cv2_interp_codes:
        raise ValueError(f'interpolation must be one of '
                         f'{sorted(cv2_interp_codes)}, '
                         f'got {interpolation!r}.')
    return size


@TRANSFORMS.register_module()
class ResizeFrames(BaseTransform):
    """Resize every frame of a clip.

    Only the pixels change: boxes and other annotations stay in ``ori_shape``
    pixels, which the model normalises by.

    Required Keys:

    - frames: ``(T, H, W, C)``

    Modified Keys:

    - frames
    - img_shape: ``(h, w)`` after resizing

    Added Keys:

    - scale_factor: ``(w_scale, h_scale)``, new size over old size

    Args:
        size (int | tuple[int, int]): Target ``(h, w)``; an int is a square.
            Defaults to ``(224, 224)``.
        keep_ratio (bool): Scale by the largest factor that fits the frames
            inside ``size`` instead of stretching them to it. Defaults to
            False.
        interpolation (str): ``'nearest'``, ``'bilinear'``, ``'bicubic'``,
            ``'area'`` or ``'lanczos'``. Defaults to ``'bilinear'``.
    """

    def __init__(self,
                 size: Union[int, Tuple[int, int]] = (224, 224),
                 keep_ratio: bool = False,
                 interpolation: str = 'bilinear') -> None:
        self.size = check_resize_args(size, interpolation)
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation

    def _new_shape(self, height: int, width: int) -> Tuple[int, int]:
        if not self.keep_ratio:
            return self.size
        scale = min(self.size[0] / height, self.size[1] / width)
        return (max(int(height * scale + 0.5), 1),
                max(int(width * scale + 0.5), 1))

    def transform(self, results: dict) -> dict:
        """Resize ``results['frames']``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        frames = results['frames']
        height, width = frames.shape[1:3]
        new_h, new_w = self._new_shape(height, width)
        results['frames'] = np.stack([
            mmcv.imresize(
                frame, (new_w, new_h), interpolation=self.interpolation)
            for frame in frames
        ])
        results['img_shape'] = (new_h, new_w)
        results['scale_factor'] = (new_w / width, new_h / height)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'keep_ratio={self.keep_ratio}, '
                f'interpolation={self.interpolation!r})')
