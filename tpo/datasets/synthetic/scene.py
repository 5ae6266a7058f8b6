"""The scene model of the synthetic world: coloured shapes that move on a
plain background, bounce at the borders and exist in a window of frames."""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

#: Saturated RGB colours, distinct after 4:2:0 video compression.
COLORS: Dict[str, Tuple[int, int, int]] = {
    'red': (220, 40, 40),
    'green': (40, 170, 60),
    'blue': (40, 90, 230),
    'yellow': (235, 215, 40),
    'purple': (150, 60, 200),
    'orange': (245, 140, 30),
}
SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'diamond', 'cross')
MOTIONS: Tuple[str, ...] = ('horizontal', 'vertical', 'static')
BACKGROUND: Tuple[int, int, int] = (110, 110, 110)

# Sampling ranges; sizes and speeds are fractions of the frame's short side.
SIZE_RANGE = (0.2, 0.4)
# Fast enough that a moving object travels about its own size between two
# of 8 frames sampled from a video: motion is visible to a tiny video model
# and holding the first box still is a weak tracker.
SPEED_RANGE = (0.1, 0.25)  # per second
MOTION_PROBS = (0.375, 0.375, 0.25)
# An object that is only in the video for a while ("guest") enters and
# leaves on the 2-s clip grid of QVHighlights, for WINDOW_CLIPS clips, and
# stays for less than half of the video (so that the whole video is a poor
# answer to "when is it visible?").
PARTIAL_WINDOW_PROB = 0.4
CLIP_S = 2
WINDOW_CLIPS = (1, 2)


def direction_of(velocity: Sequence[float]) -> Optional[str]:
    """Name of a velocity's direction in image coordinates (``'left'``,
    ``'right'``, ``'up'``, ``'down'``), ``None`` when static."""
    vx, vy = velocity
    if vx:
        return 'right' if vx > 0 else 'left'
    if vy:
        return 'down' if vy > 0 else 'up'
    return None


@dataclass(frozen=True)
class SceneObject:
    """A coloured shape with linear motion that bounces at the borders.

    Args:
        obj_id (int): Index of the object in its scene, also its z-order:
            a later object is drawn over (hides) earlier ones.
        shape (str): One of :data:`SHAPES`.
        color (str): A key of :data:`COLORS`.
        size (int): Side of the shape's bounding square in pixels.
        start (tuple[float, float]): Centre ``(x, y)`` at frame 0.
        velocity (tuple[float, float]): ``(vx, vy)`` in pixels per frame at
            frame 0; at most one of them is non-zero.
        appear (int): First frame of the object's window.
        disappear (int): First frame after its window (exclusive).
    """

    obj_id: int
    shape: str
    color: str
    size: int
    start: Tuple[float, float]
    velocity: Tuple[float, float]
    appear: int
    disappear: int

    @property
    def motion(self) -> str:
        """``'horizontal'``, ``'vertical'`` or ``'static'``."""
        if self.velocity[0]:
            return 'horizontal'
        return 'vertical' if self.velocity[1] else 'static'

    def trajectory(self, num_frames: int, height: int,
                   width: int) -> Tuple[np.ndarray, np.ndarray]:
        """Centres and velocities of frames ``0..num_frames-1``.

        The centre moves linearly and is reflected at the borders, so the
        shape's bounding square always stays inside the frame.

        Returns:
            tuple[np.ndarray, np.ndarray]: ``(T, 2)`` centres ``(x, y)`` and
            ``(T, 2)`` velocities (their sign flips at each bounce).
        """
        t = np.arange(num_frames, dtype=np.float64)[:, None]
        velocity = np.array(self.velocity)
        low = self.size / 2
        span = np.array([width, height], dtype=np.float64) - self.size
        phase = np.mod(np.array(self.start) - low + velocity * t, 2 * span)
        forward = phase <= span
        centres = low + np.where(forward, phase, 2 * span - phase)
        return centres, np.where(forward, velocity, -velocity)


@dataclass(frozen=True)
class Scene:
    """A short video: frame geometry plus objects in z-order (back first)."""

    video_id: str
    height: int
    width: int
    fps: int
    num_frames: int
    objects: Tuple[SceneObject, ...]
    background: Tuple[int, int, int] = BACKGROUND

    @property
    def duration(self) -> int:
        """Length in whole seconds."""
        return self.num_frames // self.fps


def sample_scene(rng: np.random.Generator, video_id: str,
                 size: Tuple[int, int], fps: int, duration_range: Tuple[int,
                                                                        int],
                 num_objects_range: Tuple[int, int]) -> Scene:
    """Draw a random scene whose objects have distinct colours.

    Durations are drawn from the even seconds of ``duration_range`` so that
    a video splits into whole 2-s clips. With probability
    :data:`PARTIAL_WINDOW_PROB` an object is only present for 1 or 2 whole
    clips (:data:`WINDOW_CLIPS`) that cover less than half of the video.
    Colours are unique within a video, so the colour alone tells its objects
    apart; shapes repeat at random (a tiny model learns colours much faster
    than shapes).
    """
    height, width = size
    short = min(height, width)
    durations = [
        d for d in range(duration_range[0], duration_range[1] + 1)
        if d % 2 == 0
    ]
    num_frames = int(rng.choice(durations)) * fps
    num_objects = int(
        rng.integers(num_objects_range[0], num_objects_range[1] + 1))
    colors = rng.choice(len(COLORS), size=num_objects, replace=False)
    shapes = rng.integers(len(SHAPES), size=num_objects)
    num_clips = num_frames // (CLIP_S * fps)
    window_clips = [n for n in WINDOW_CLIPS if 2 * n < num_clips]
    objects = []
    for obj_id, (color, shape) in enumerate(zip(colors, shapes)):
        color, shape = list(COLORS)[color], SHAPES[shape]
        side = int(round(rng.uniform(*SIZE_RANGE) * short))
        start = (round(float(rng.uniform(side / 2, width - side / 2)), 3),
                 round(float(rng.uniform(side / 2, height - side / 2)), 3))
        motion = MOTIONS[rng.choice(len(MOTIONS), p=MOTION_PROBS)]
        speed = rng.uniform(*SPEED_RANGE) * short / fps
        speed = round(float(speed if rng.random() < 0.5 else -speed), 4)
        velocity = {
            'horizontal': (speed, 0.0),
            'vertical': (0.0, speed),
            'static': (0.0, 0.0)
        }[motion]
        appear, disappear = 0, num_frames
        if rng.random() < PARTIAL_WINDOW_PROB and window_clips:
            length = int(rng.choice(window_clips))
            first = int(rng.integers(0, num_clips - length + 1))
            appear = first * CLIP_S * fps
            disappear = (first + length) * CLIP_S * fps
        objects.append(
            SceneObject(obj_id, shape, color, side, start, velocity, appear,
                        disappear))
    return Scene(video_id, height, width, fps, num_frames, tuple(objects))
