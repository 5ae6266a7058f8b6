"""Pictures of an inference result (a :class:`tpo.apis.TPOInferencer`
dict): predictions drawn on the frames, the moment timeline (Fig. 7 of
the paper), a frame grid and an animation."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from tpo.structures.masks import rle_to_mask

#: Colours absent from the synthetic world's palette.
BOX_COLOR = (0, 255, 255)  # region boxes
MASK_COLOR = (255, 0, 255)  # masks and their boxes
MASK_ALPHA = 0.5
#: Fig. 7: saliency curve, predicted and ground-truth windows.
SALIENCY_COLOR = '#ff7f0e'
PRED_COLOR = '#1f77b4'
GT_COLOR = '#2ca02c'


def line_width(height: int, width: int) -> int:
    """Box outline width in pixels for a frame size."""
    return max(1, min(height, width) // 64)


def _rectangle(draw: ImageDraw.ImageDraw, box: Sequence[float],
               color: tuple, width: int, size: tuple) -> None:
    """Outline of an xyxy box (pixel edges) drawn inside it."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1 = max(x1, 0), max(y1, 0)
    x2, y2 = min(x2, size[0]) - 1, min(y2, size[1]) - 1
    if x2 >= x1 and y2 >= y1:
        draw.rectangle([x1, y1, x2, y2], outline=color, width=width)


def draw_predictions(frames: np.ndarray, result: dict) -> np.ndarray:
    """The sampled frames ``(T, H, W, 3)`` (original size) with the masks
    (blended, with their boxes) of their frame and the region boxes (on
    every frame: the region head predicts one box per clip) drawn."""
    frames = np.asarray(frames)
    height, width = frames.shape[1:3]
    thickness = line_width(height, width)
    masks = {m['frame']: m for m in result.get('masks', [])}
    out = []
    for t, frame in enumerate(frames):
        frame = frame.astype(np.float32)
        mask = masks.get(t)
        if mask is not None:
            pixels = rle_to_mask(mask['rle'])
            frame[pixels] = (1 - MASK_ALPHA) * frame[pixels] + \
                MASK_ALPHA * np.asarray(MASK_COLOR, np.float32)
        image = Image.fromarray(frame.round().astype(np.uint8))
        draw = ImageDraw.Draw(image)
        if mask is not None and mask['bbox'][2] > mask['bbox'][0]:
            _rectangle(draw, mask['bbox'], MASK_COLOR, thickness,
                       image.size)
        for box in result.get('boxes', []):
            if box.get('frame') in (None, t):
                _rectangle(draw, box['bbox'], BOX_COLOR, thickness,
                           image.size)
        out.append(np.asarray(image))
    return np.stack(out)


def save_animation(frames: np.ndarray, out_file: str,
                   seconds_per_frame: float = 0.5) -> None:
    """Write frames as a GIF (lossless palette) or an H.264 mp4 (by the
    extension of ``out_file``)."""
    frames = np.asarray(frames)
    if out_file.endswith('.gif'):
        images = [Image.fromarray(f) for f in frames]
        images[0].save(out_file, save_all=True, append_images=images[1:],
                       duration=int(seconds_per_frame * 1000), loop=0)
    elif out_file.endswith('.mp4'):
        from tpo.datasets.synthetic.video_io import write_mp4
        height, width = frames.shape[1:3]  # H.264 4:2:0 needs even sides
        frames = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2),
                                 (0, 0)), mode='edge')
        # one frame per second at 1/seconds_per_frame fps, rounded
        write_mp4(out_file, frames, max(1, round(1 / seconds_per_frame)))
    else:
        raise ValueError(f'{out_file}: write a .gif or an .mp4')


def _figure(width: float, height: float):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt, plt.figure(figsize=(width, height))


def save_frame_grid(frames: np.ndarray, times: Sequence[float],
                    out_file: str, columns: int = 8,
                    title: Optional[str] = None) -> None:
    """A grid of frames, each titled with its time."""
    rows = -(-len(frames) // columns)
    cols = min(columns, len(frames))
    plt, fig = _figure(2.0 * cols, 2.0 * rows + (0.4 if title else 0))
    for t, (frame, time) in enumerate(zip(frames, times)):
        ax = fig.add_subplot(rows, cols, t + 1)
        ax.imshow(frame, interpolation='nearest')
        ax.set_title(f'{time:.2f} s', fontsize=9)
        ax.axis('off')
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def save_timeline(result: dict, out_file: str,
                  gt_window: Optional[Sequence[float]] = None) -> None:
    """The per-second saliency curve with the best predicted window and,
    when given, the ground-truth window below it (Fig. 7)."""
    duration = result['video']['duration']
    moments = result.get('moments') or dict(windows=[], saliency=[])
    saliency = moments['saliency']
    plt, fig = _figure(8, 2.6)
    ax = fig.add_subplot(1, 1, 1)
    if saliency:
        centres = np.arange(len(saliency)) + 0.5
        ax.plot(centres, saliency, color=SALIENCY_COLOR, marker='o',
                markersize=3, label='saliency')
        low, high = min(saliency), max(saliency)
    else:
        low, high = 0.0, 1.0
    span = (high - low) or 1.0
    bar = 0.12 * span
    bars = []
    if moments['windows']:
        start, end, score = moments['windows'][0]
        bars.append((start, end, PRED_COLOR,
                     f'prediction {start:.1f}-{end:.1f} s ({score:.2f})'))
    if gt_window is not None:
        start, end = gt_window
        bars.append((start, end, GT_COLOR,
                     f'ground truth {start:.1f}-{end:.1f} s'))
    for k, (start, end, color, label) in enumerate(bars):
        y = low - (k + 1) * 1.5 * bar
        ax.broken_barh([(start, end - start)], (y, bar), color=color,
                       label=label)
    ax.set_xlim(0, duration)
    ax.set_ylim(low - (len(bars) + 1) * 1.5 * bar, high + bar)
    ax.set_xlabel('time (s)')
    ax.set_ylabel('saliency')
    ax.set_title(result['prompt'], fontsize=9)
    if saliency or bars:
        ax.legend(loc='upper right', fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def write_pictures(frames: np.ndarray, result: dict, out_dir: str,
                   gt_window: Optional[Sequence[float]] = None,
                   animation: str = 'gif') -> dict:
    """``frames.png`` (grid), ``predictions.gif``/``.mp4`` (frames with
    the predictions drawn) and, with moments or a ground-truth window,
    ``timeline.png`` in ``out_dir``. Returns the written paths."""
    drawn = draw_predictions(frames, result)
    paths = dict(
        frames=osp.join(out_dir, 'frames.png'),
        animation=osp.join(out_dir, f'predictions.{animation}'))
    save_frame_grid(drawn, result['video']['frame_times'], paths['frames'],
                    title=result['prompt'])
    save_animation(drawn, paths['animation'])
    if 'moments' in result or gt_window is not None:
        paths['timeline'] = osp.join(out_dir, 'timeline.png')
        save_timeline(result, paths['timeline'], gt_window)
    return paths
