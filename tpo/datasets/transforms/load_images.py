"""Load a list of images (a multi-image question, or the extracted frames
of a video) as the frames of one clip."""
import logging
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from PIL import Image

from tpo.registry import TRANSFORMS
from .frame_sampling import start_indices, uniform_indices
from .loading import VideoReadError
from .processing import check_resize_args
from .skipped_samples import record_skipped_sample


def _read_rgb(path: str) -> np.ndarray:
    # PIL decides the format from the content: names without an extension
    # (e.g. SEED-Bench's CC3M ids) load too.
    with Image.open(path) as image:
        return np.asarray(image.convert('RGB'))


@TRANSFORMS.register_module()
class LoadImageSequence(BaseTransform):
    """Load the images ``results['image_paths']`` as the frames of a clip.

    :class:`~tpo.datasets.transforms.LoadVideoFrames` reads one video or one
    still image (repeated); a multi-image question (MMIU, SEED-Bench-2) has
    several images of different sizes, so this transform reads them in order,
    resizes them to one size and stacks them as the frames ``(T, H, W, 3)``.
    Image ``k`` is frame ``k`` at 1 fps (``frame_times`` = ``k`` seconds).

    With ``num_frames`` set, ``num_frames`` images are taken from equal
    segments, the centre of each (``sampling='uniform'``,
    :func:`~tpo.datasets.transforms.uniform_indices`) or the first of each
    (``'start'``: the clip starts at image 0, where a tracker is initialised
    from the first frame's box); images repeat when there are fewer, as a
    still image is repeated by ``LoadVideoFrames``. Otherwise every image is
    one frame.

    Required Keys:

    - image_paths (list[str])

    Added Keys:

    - frames: ``(T, H, W, 3)`` uint8 RGB
    - frame_inds: ``(T,)`` int64 (indices into ``image_paths``)
    - fps (float): 1.0
    - num_video_frames (int): number of images
    - duration (float): number of images (seconds at 1 fps)
    - frame_times: ``(T,)`` float32
    - ori_shape, img_shape: ``(H, W)`` of the stacked frames

    Args:
        num_frames (int, optional): Frames to take; None takes every image
            once. Defaults to None.
        size (int | tuple[int, int], optional): ``(h, w)`` every image is
            resized to; None resizes the others to the first image's size.
            Defaults to None.
        interpolation (str): mmcv interpolation. Defaults to ``'bilinear'``.
        on_error (str): ``'skip'`` (warn and return None, so the dataset
            fetches another sample) or ``'raise'`` (:class:`VideoReadError`).
            Defaults to ``'skip'``.
        sampling (str): ``'uniform'`` or ``'start'`` (see above). Defaults
            to ``'uniform'``.
    """

    SAMPLERS = dict(uniform=uniform_indices, start=start_indices)

    def __init__(self,
                 num_frames: Optional[int] = None,
                 size: Union[int, Tuple[int, int], None] = None,
                 interpolation: str = 'bilinear',
                 on_error: str = 'skip',
                 sampling: str = 'uniform') -> None:
        if num_frames is not None and num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}.')
        if sampling not in self.SAMPLERS:
            raise ValueError(f'sampling must be one of {tuple(self.SAMPLERS)}'
                             f', got {sampling!r}.')
        if size is not None:
            size = check_resize_args(size, interpolation)
        if on_error not in ('skip', 'raise'):
            raise ValueError("on_error must be 'skip' or 'raise', "
                             f'got {on_error!r}.')
        self.num_frames = num_frames
        self.size = size
        self.sampling = sampling
        self.interpolation = interpolation
        self.on_error = on_error

    def _load(self, paths: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        if not paths:
            raise VideoReadError('image_paths is empty')
        inds = np.arange(len(paths), dtype=np.int64) \
            if self.num_frames is None else self.SAMPLERS[self.sampling](
                len(paths), self.num_frames)
        images = {}
        for index in sorted(set(inds.tolist())):
            try:
                images[index] = _read_rgb(str(paths[index]))
            except Exception as error:
                raise VideoReadError(
                    f'Cannot read image {index} {paths[index]!r} (PIL): '
                    f'{type(error).__name__}: {error}') from error
        height, width = self.size or images[int(inds[0])].shape[:2]
        for index, image in images.items():
            if image.shape[:2] != (height, width):
                images[index] = mmcv.imresize(
                    image, (width, height), interpolation=self.interpolation)
        return np.stack([images[i] for i in inds.tolist()]), inds

    def transform(self, results: dict) -> Optional[dict]:
        """Load the frames of ``results['image_paths']``.

        Args:
            results (dict): The result dict.

        Returns:
            dict | None: The result dict, or None if an image could not be
            read and ``on_error='skip'``.
        """
        paths = results['image_paths']
        try:
            frames, inds = self._load(paths)
        except VideoReadError as error:
            if self.on_error == 'raise':
                raise
            print_log(f'{error}. Skipping the sample.', logger='current',
                      level=logging.WARNING)
            record_skipped_sample(str(paths[0]) if paths else '?', str(error))
            return None
        results['frames'] = frames
        results['frame_inds'] = inds
        results['fps'] = 1.0
        results['num_video_frames'] = len(paths)
        results['duration'] = float(len(paths))
        results['frame_times'] = inds.astype(np.float32)
        results['ori_shape'] = results['img_shape'] = frames.shape[1:3]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, '
                f'size={self.size}, sampling={self.sampling!r}, '
                f'interpolation={self.interpolation!r}, '
                f'on_error={self.on_error!r})')
