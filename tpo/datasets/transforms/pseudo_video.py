"""A still image turned into a clip by a moving crop (the paper's "expanded
AS-V2: we convert images into videos", appendix, Settings of Stage 2)."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from tpo.registry import TRANSFORMS
from tpo.utils import describe_sample


def _window(rng: np.random.Generator, width: int, height: int,
            box: np.ndarray, scale: float) -> np.ndarray:
    """A crop ``(x0, y0, x1, y1)`` of ``scale`` x the image that holds
    ``box`` whole when it fits."""
    w, h = scale * width, scale * height
    low = np.array([max(0.0, box[2] - w), max(0.0, box[3] - h)])
    high = np.array([min(box[0], width - w), min(box[1], height - h)])
    fits = low <= high
    low = np.where(fits, low, 0.0)
    high = np.where(fits, high, [width - w, height - h])
    x0, y0 = rng.uniform(low, high)
    return np.array([x0, y0, x0 + w, y0 + h])


@TRANSFORMS.register_module()
class ImageToPseudoVideo(BaseTransform):
    """Make ``num_frames`` frames of one image by a crop that moves and
    zooms linearly from a random start window to a random end window (each
    ``min_scale`` to 1 of the image, holding the object's box when it fits),
    every crop resized back to the image size; the box follows the crop.

    Required Keys:

    - frames: ``(1, H, W, 3)`` uint8 (``LoadVideoFrames`` with
      ``image_repeat=False``)
    - gt_bboxes: ``(1, 4)`` xyxy pixels of the object

    Modified Keys:

    - frames: ``(num_frames, H, W, 3)``; frame_inds, frame_times, fps,
      num_video_frames, duration: of a clip at 1 fps

    Added Keys:

    - gt_track_bboxes: ``(num_frames, 4)`` xywh pixels, the box on every
      frame (what the mask head's box-prompt distillation reads on frame
      0); gt_bboxes_xyxy: the same as xyxy

    Args:
        num_frames: frames of the clip.
        min_scale: the smallest crop side, as a fraction of the image's.
        seed: seed of a private generator; None draws from numpy's global
            state (seeded per dataloader worker by mmengine).
    """

    def __init__(self, num_frames: int = 16, min_scale: float = 0.6,
                 seed: Optional[int] = None) -> None:
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}.')
        if not 0 < min_scale <= 1:
            raise ValueError(f'min_scale must be in (0, 1], got {min_scale}.')
        self.num_frames = num_frames
        self.min_scale = min_scale
        self.seed = seed
        self.rng = None if seed is None else np.random.default_rng(seed)

    def _crops(self, rng: np.random.Generator, width: int, height: int,
               box: np.ndarray) -> np.ndarray:
        start, end = (_window(rng, width, height, box,
                              rng.uniform(self.min_scale, 1.0))
                      for _ in range(2))
        alphas = np.linspace(0.0, 1.0, self.num_frames)[:, None]
        return (1 - alphas) * start + alphas * end

    def transform(self, results: dict) -> dict:
        frames = np.asarray(results['frames'])
        boxes = np.asarray(results.get('gt_bboxes', np.zeros((0, 4))),
                           dtype=np.float64).reshape(-1, 4)
        if len(frames) != 1 or len(boxes) != 1:
            raise ValueError(
                f'{type(self).__name__} needs one image and one box, got '
                f'{len(frames)} frame(s) and {len(boxes)} box(es) in '
                f'{describe_sample(results)}.')
        height, width = frames.shape[1:3]
        rng = self.rng if self.rng is not None else np.random.default_rng(
            np.random.randint(2**31))
        crops = self._crops(rng, width, height, boxes[0])
        image = Image.fromarray(frames[0])
        clip, xyxy = [], []
        for x0, y0, x1, y1 in crops:
            clip.append(np.asarray(image.resize(
                (width, height), Image.BILINEAR, box=(x0, y0, x1, y1))))
            scale = np.array([width / (x1 - x0), height / (y1 - y0)] * 2)
            box = (boxes[0] - np.array([x0, y0, x0, y0])) * scale
            box[0::2] = box[0::2].clip(0, width)
            box[1::2] = box[1::2].clip(0, height)
            xyxy.append(box)
        xyxy = np.asarray(xyxy, dtype=np.float32)
        count = self.num_frames
        results.update(
            frames=np.stack(clip), frame_inds=np.arange(count),
            frame_times=np.arange(count, dtype=np.float32), fps=1.0,
            num_video_frames=count, duration=float(count),
            gt_bboxes_xyxy=xyxy,
            gt_track_bboxes=np.concatenate([xyxy[:, :2],
                                            xyxy[:, 2:] - xyxy[:, :2]], 1))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_frames={self.num_frames}, '
                f'min_scale={self.min_scale}, seed={self.seed})')
