"""Rasterise a :class:`Scene` into frames and exact per-object ground truth."""
from dataclasses import dataclass

import numpy as np

from .scene import COLORS, Scene


def shape_masks(shape: str, centres: np.ndarray, size: int, height: int,
                width: int) -> np.ndarray:
    """Boolean ``(T, H, W)`` masks of a shape at ``(T, 2)`` centres.

    A pixel belongs to the shape when its centre does; triangles point up,
    crosses are plus signs with arms a third of the size thick.
    """
    dx = (np.arange(width) + 0.5)[None, None, :] - centres[:, 0, None, None]
    dy = (np.arange(height) + 0.5)[None, :, None] - centres[:, 1, None, None]
    r = size / 2
    if shape == 'circle':
        return dx**2 + dy**2 <= r**2
    if shape == 'square':
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    if shape == 'triangle':
        return (np.abs(dy) <= r) & (np.abs(dx) <= (dy + r) / 2)
    if shape == 'diamond':
        return np.abs(dx) + np.abs(dy) <= r
    if shape == 'cross':
        arm = r / 3
        return (((np.abs(dx) <= arm) & (np.abs(dy) <= r)) |
                ((np.abs(dy) <= arm) & (np.abs(dx) <= r)))
    raise ValueError(f'Unknown shape {shape!r}.')


@dataclass
class RenderedVideo:
    """Frames of a scene and the exact ground truth of its objects.

    Attributes:
        scene (Scene): The rendered scene.
        frames (np.ndarray): ``(T, H, W, 3)`` uint8 RGB frames.
        masks (np.ndarray): ``(T, N, H, W)`` bool visible masks: the shape
            inside its window minus the shapes drawn over it.
        full_area (np.ndarray): ``(T, N)`` pixel count of the whole shape
            inside its window (0 outside it).
        area (np.ndarray): ``(T, N)`` visible pixel count.
        boxes (np.ndarray): ``(T, N, 4)`` float xyxy box of the visible
            pixels (``x2 = max_x + 1``), NaN when nothing is visible.
        velocities (np.ndarray): ``(T, N, 2)`` velocity in pixels per frame.
    """

    scene: Scene
    frames: np.ndarray
    masks: np.ndarray
    full_area: np.ndarray
    area: np.ndarray
    boxes: np.ndarray
    velocities: np.ndarray

    @property
    def visible(self) -> np.ndarray:
        """``(T, N)`` bool: at least one pixel of the object is visible."""
        return self.area > 0

    @property
    def visible_fraction(self) -> np.ndarray:
        """``(T, N)`` visible share of the whole shape (0 outside window)."""
        return self.area / np.maximum(self.full_area, 1)


def _tight_boxes(masks: np.ndarray) -> np.ndarray:
    """xyxy boxes of ``(..., H, W)`` masks, NaN for empty masks."""
    rows, cols = masks.any(axis=-1), masks.any(axis=-2)
    height, width = masks.shape[-2:]
    x1, y1 = cols.argmax(-1), rows.argmax(-1)
    x2 = width - cols[..., ::-1].argmax(-1)
    y2 = height - rows[..., ::-1].argmax(-1)
    boxes = np.stack([x1, y1, x2, y2], axis=-1).astype(np.float64)
    boxes[~rows.any(-1)] = np.nan
    return boxes


def render_video(scene: Scene) -> RenderedVideo:
    """Draw the objects back to front and derive their visible ground truth.

    An object outside its window neither shows nor hides anything.
    """
    num_frames, height, width = scene.num_frames, scene.height, scene.width
    frame_inds = np.arange(num_frames)
    front = np.full((num_frames, height, width), -1, dtype=np.int8)
    full_area, velocities = [], []
    for idx, obj in enumerate(scene.objects):
        centres, velocity = obj.trajectory(num_frames, height, width)
        in_window = (frame_inds >= obj.appear) & (frame_inds < obj.disappear)
        full = shape_masks(obj.shape, centres, obj.size, height, width)
        full &= in_window[:, None, None]
        front[full] = idx  # later objects hide earlier ones
        full_area.append(full.sum(axis=(1, 2)))
        velocities.append(velocity)
    masks = front[:, None] == np.arange(len(scene.objects))[:, None, None]
    palette = np.array(
        [scene.background] + [COLORS[obj.color] for obj in scene.objects],
        dtype=np.uint8)
    return RenderedVideo(scene, palette[front + 1], masks,
                         np.stack(full_area, axis=1), masks.sum(axis=(2, 3)),
                         _tight_boxes(masks), np.stack(velocities, axis=1))
