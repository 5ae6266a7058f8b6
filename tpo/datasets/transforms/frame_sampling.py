"""Frame-index samplers: which frames of a video a clip is made of.

A range of frames is split into ``num_frames`` equal segments and one frame is
taken from each: its centre in test mode (:func:`uniform_indices`), its first
frame for a tracking clip that must start where the tracker is initialised
(:func:`start_indices`), a random frame inside it in training mode
(:func:`random_indices`, the TSN / VideoChat2 "random jitter"). A range shorter than ``num_frames`` repeats frames.
"""
import math
from typing import Optional, Tuple

import numpy as np

FrameRange = Tuple[int, int]


def window_to_frame_range(window: Tuple[float, float], fps: float,
                          num_video_frames: int) -> FrameRange:
    """The half-open range ``[first, stop)`` of frames inside a time window.

    Frame ``k`` is shown at ``k / fps`` seconds. The window is clipped to the
    video; one that holds no frame gives the first frame at or after its start
    (the last frame if it starts after the end).

    Args:
        window (tuple[float, float]): ``(start, end)`` in seconds.
        fps (float): Frame rate of the video.
        num_video_frames (int): Number of frames in the video.

    Returns:
        tuple[int, int]: ``(first, stop)``, never empty.
    """
    start, end = window
    if end < start:
        raise ValueError(f'The clip window {window} ends before it starts.')
    eps = 1e-6  # absorbs float error such as 0.1 * 30 = 3.0000000000000004
    first = min(max(math.ceil(start * fps - eps), 0), num_video_frames - 1)
    stop = min(math.floor(end * fps + eps) + 1, num_video_frames)
    return first, max(stop, first + 1)


def _segment_edges(num_video_frames: int, num_frames: int,
                   frame_range: Optional[FrameRange]) -> np.ndarray:
    """Integer edges of ``num_frames`` equal segments of the frame range."""
    if num_video_frames < 1 or num_frames < 1:
        raise ValueError('Both num_video_frames and num_frames must be >= 1, '
                         f'got {num_video_frames} and {num_frames}.')
    first, stop = frame_range or (0, num_video_frames)
    if not 0 <= first < stop <= num_video_frames:
        raise ValueError(f'Invalid frame range {frame_range} for a video of '
                         f'{num_video_frames} frames.')
    return first + np.arange(num_frames + 1) * (stop - first) // num_frames


def uniform_indices(num_video_frames: int,
                    num_frames: int,
                    frame_range: Optional[FrameRange] = None) -> np.ndarray:
    """The centre frame of each of ``num_frames`` equal segments.

    Args:
        num_video_frames (int): Number of frames in the video.
        num_frames (int): Number of frames to sample.
        frame_range (tuple[int, int], optional): Sample only inside this
            half-open range of frames. Defaults to the whole video.

    Returns:
        np.ndarray: ``(num_frames,)`` int64 indices, non-decreasing.
    """
    edges = _segment_edges(num_video_frames, num_frames, frame_range)
    first, length = edges[0], edges[-1] - edges[0]
    centres = (2 * np.arange(num_frames) + 1) * length // (2 * num_frames)
    return (first + centres).astype(np.int64)


def start_indices(num_video_frames: int,
                  num_frames: int,
                  frame_range: Optional[FrameRange] = None) -> np.ndarray:
    """The first frame of each of ``num_frames`` equal segments: the clip
    starts at the range's first frame (a tracker's initial frame).

    Args and returns as :func:`uniform_indices`.
    """
    return _segment_edges(num_video_frames, num_frames,
                          frame_range)[:-1].astype(np.int64)


def random_indices(num_video_frames: int,
                   num_frames: int,
                   rng: np.random.Generator,
                   frame_range: Optional[FrameRange] = None) -> np.ndarray:
    """One random frame inside each of ``num_frames`` equal segments.

    Args:
        num_video_frames (int): Number of frames in the video.
        num_frames (int): Number of frames to sample.
        rng (np.random.Generator): Source of randomness.
        frame_range (tuple[int, int], optional): Sample only inside this
            half-open range of frames. Defaults to the whole video.

    Returns:
        np.ndarray: ``(num_frames,)`` int64 indices, non-decreasing.
    """
    edges = _segment_edges(num_video_frames, num_frames, frame_range)
    low = edges[:-1]
    # a segment shorter than one frame (short video) holds its first frame
    high = np.maximum(edges[1:], low + 1)
    return rng.integers(low, high).astype(np.int64)
