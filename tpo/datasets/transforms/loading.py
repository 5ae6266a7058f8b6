"""Load a video (or a still image) as a fixed number of RGB frames."""
import logging
import os.path as osp
from functools import partial
from typing import Callable, Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from PIL import Image

from tpo.registry import TRANSFORMS
from .frame_sampling import (random_indices, uniform_indices,
                             window_to_frame_range)
from .skipped_samples import record_skipped_sample

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')

# (num_video_frames, fps) -> frame indices to decode
Sampler = Callable[[int, float], np.ndarray]
# frames (T, H, W, 3) uint8 RGB, frame indices, num_video_frames, fps
Clip = Tuple[np.ndarray, np.ndarray, int, float]
# (start, end) seconds
Window = Tuple[float, float]


class VideoReadError(IOError):
    """A video or image could not be opened or decoded."""


def decord_available() -> bool:
    """Whether decord can be imported (checked on call, not at import)."""
    try:
        import decord  # noqa: F401
    except ImportError:
        return False
    return True


def _read_decord(path: str, sample: Sampler) -> Clip:
    import decord
    decord.bridge.set_bridge('native')  # get_batch returns decord NDArrays
    reader = decord.VideoReader(path, num_threads=1)
    num_video_frames, fps = len(reader), reader.get_avg_fps()
    inds = sample(num_video_frames, fps)
    return reader.get_batch(inds).asnumpy(), inds, num_video_frames, fps


def _pyav_meta(container) -> Tuple[int, float]:
    """Frame count (from the header, else by demuxing, then rewinding) and
    frame rate of an open PyAV container."""
    if not container.streams.video:
        raise VideoReadError('the file has no video stream')
    stream = container.streams.video[0]
    fps = float(stream.average_rate or stream.guessed_rate or 0)
    num_video_frames = stream.frames
    if not num_video_frames:
        # matroska and some other containers do not store the frame count
        num_video_frames = sum(
            1 for packet in container.demux(stream) if packet.size)
        container.seek(0)
    return num_video_frames, fps


def _decode_pyav(container,
                 inds: np.ndarray) -> Tuple[Dict[int, np.ndarray], int]:
    """Decode up to the last of ``inds`` in one pass, converting only those
    to RGB; also count the frames."""
    wanted, last = set(inds.tolist()), int(inds.max())
    frames, count = {}, 0
    for count, frame in enumerate(container.decode(video=0), 1):
        if count - 1 in wanted:
            frames[count - 1] = frame.to_ndarray(format='rgb24')
        if count > last:
            break
    return frames, count


def _read_pyav(path: str, sample: Sampler) -> Clip:
    """One open of the file per clip: header, sampling and decoding."""
    import av
    with av.open(path) as container:
        num_video_frames, fps = _pyav_meta(container)
        inds = sample(num_video_frames, fps)
        frames, decoded = _decode_pyav(container, inds)
        if decoded <= inds.max():
            # the header over-counts the frames: sample again from those
            # decoded
            num_video_frames = decoded
            inds = sample(num_video_frames, fps)
            container.seek(0)
            frames, _ = _decode_pyav(container, inds)
    return np.stack([frames[i] for i in inds.tolist()]), inds, \
        num_video_frames, fps


def _read_image(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert('RGB'))


@TRANSFORMS.register_module()
class LoadVideoFrames(BaseTransform):
    """Decode ``num_frames`` RGB frames of a video, or repeat a still image.

    The frames are sampled from equal segments of the video, or of the clip
    window ``results['clip_window']`` (``(start, end)`` seconds) if given:
    each segment's centre frame (``'uniform'``, for testing) or a random frame
    of it (``'random'``, for training). Frame times stay relative to the start
    of the video.

    A missing or undecodable file either raises :class:`VideoReadError`
    (``on_error='raise'``) or logs a warning and returns ``None``
    (``on_error='skip'``), on which mmengine's ``BaseDataset`` fetches another
    sample.

    Required Keys:

    - video_path
    - clip_window (optional)

    Added Keys:

    - frames: ``(T, H, W, 3)`` uint8 RGB
    - frame_inds: ``(T,)`` int64
    - fps (float)
    - num_video_frames (int)
    - duration (float): ``num_video_frames / fps`` seconds
    - frame_times: ``(T,)`` float32, ``frame_inds / fps`` seconds
    - ori_shape: ``(H, W)``
    - img_shape: ``(H, W)``

    An image (:data:`IMAGE_EXTENSIONS`) is one frame at 1 fps.

    Args:
        num_frames (int): Number of frames ``T`` to sample. Defaults to 16.
        sampling (str): ``'uniform'`` or ``'random'``. Defaults to
            ``'uniform'``.
        backend (str): ``'decord'``, ``'pyav'`` or ``'auto'`` (decord if it
            can be imported, else PyAV). Defaults to ``'auto'``.
        on_error (str): ``'skip'`` or ``'raise'``. Defaults to ``'skip'``.
        image_repeat (bool): Repeat an image to ``num_frames`` frames, else
            give it one frame. Defaults to True.
        seed (int, optional): Seed of a private generator for ``'random'``
            sampling. None draws from numpy's global state, which mmengine
            seeds per dataloader worker. Defaults to None.
    """

    def __init__(self,
                 num_frames: int = 16,
                 sampling: str = 'uniform',
                 backend: str = 'auto',
                 on_error: str = 'skip',
                 image_repeat: bool = True,
                 seed: Optional[int] = None) -> None:
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}.')
        if sampling not in ('uniform', 'random'):
            raise ValueError("sampling must be 'uniform' or 'random', "
                             f'got {sampling!r}.')
        if backend not in ('auto', 'decord', 'pyav'):
            raise ValueError("backend must be 'auto', 'decord' or 'pyav', "
                             f'got {backend!r}.')
        if on_error not in ('skip', 'raise'):
            raise ValueError("on_error must be 'skip' or 'raise', "
                             f'got {on_error!r}.')
        if backend == 'auto':
            backend = 'decord' if decord_available() else 'pyav'
        elif backend == 'decord' and not decord_available():
            raise ImportError("backend='decord' needs decord: "
                              'pip install decord')
        self.num_frames = num_frames
        self.sampling = sampling
        self.backend = backend
        self.on_error = on_error
        self.image_repeat = image_repeat
        self.seed = seed
        self.rng = None if seed is None else np.random.default_rng(seed)

    def _sample(self, num_video_frames: int, fps: float,
                window: Optional[Window]) -> np.ndarray:
        if num_video_frames < 1:
            raise VideoReadError('the video has no frames')
        if not fps > 0:
            raise VideoReadError(f'invalid frame rate {fps}')
        frame_range = None if window is None else window_to_frame_range(
            window, fps, num_video_frames)
        if self.sampling == 'uniform':
            return uniform_indices(num_video_frames, self.num_frames,
                                   frame_range)
        rng = self.rng if self.rng is not None else np.random.default_rng(
            np.random.randint(2**31))
        return random_indices(num_video_frames, self.num_frames, rng,
                              frame_range)

    def reader_of(self, path: str) -> str:
        """The library that reads ``path``: PIL for an image, else the
        video backend."""
        return 'PIL' if path.lower().endswith(IMAGE_EXTENSIONS) else \
            self.backend

    def _read(self, path: str, window: Optional[Window]) -> Clip:
        if not osp.isfile(path):
            raise FileNotFoundError('no such file')
        if path.lower().endswith(IMAGE_EXTENSIONS):
            num = self.num_frames if self.image_repeat else 1
            frames = np.repeat(_read_image(path)[None], num, axis=0)
            return frames, np.zeros(num, np.int64), 1, 1.0
        reader = _read_decord if self.backend == 'decord' else _read_pyav
        return reader(path, partial(self._sample, window=window))

    def transform(self, results: dict) -> Optional[dict]:
        """Load the frames of ``results['video_path']``.

        Args:
            results (dict): The result dict.

        Returns:
            dict | None: The result dict, or None if the file could not be
            read and ``on_error='skip'``.
        """
        path = str(results['video_path'])
        try:
            frames, inds, num_video_frames, fps = self._read(
                path, results.get('clip_window'))
        except Exception as error:  # decord raises a bare DECORDError
            message = (f'Cannot read {path} ({self.reader_of(path)}): '
                       f'{type(error).__name__}: {error}')
            if self.on_error == 'raise':
                raise VideoReadError(message) from error
            print_log(
                f'{message}. Skipping the sample.',
                logger='current',
                level=logging.WARNING)
            record_skipped_sample(path, message)
            return None
        fps = float(fps)
        results['frames'] = frames
        results['frame_inds'] = inds.astype(np.int64)
        results['fps'] = fps
        results['num_video_frames'] = int(num_video_frames)
        results['duration'] = num_video_frames / fps
        results['frame_times'] = (inds / fps).astype(np.float32)
        results['ori_shape'] = results['img_shape'] = frames.shape[1:3]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, '
                f'sampling={self.sampling!r}, backend={self.backend!r}, '
                f'on_error={self.on_error!r}, '
                f'image_repeat={self.image_repeat}, seed={self.seed})')
