"""Pictures of inference results: what is drawn where, in which colour."""
import numpy as np
import pytest
from PIL import Image

from tpo.structures.masks import mask_to_rle
from tpo.visualization import (BOX_COLOR, MASK_COLOR, draw_predictions,
                               save_animation, save_frame_grid,
                               save_timeline, write_pictures)
from tpo.visualization.predictions import (GT_COLOR, MASK_ALPHA,
                                           PRED_COLOR, SALIENCY_COLOR)

H, W = 64, 96


def frames_and_result():
    frames = np.full((3, H, W, 3), 100, np.uint8)
    mask = np.zeros((H, W), bool)
    mask[10:30, 50:80] = True
    result = dict(
        prompt='q', text='t', tasks=['region', 'mask'],
        video=dict(duration=6.0, frame_times=[1.0, 3.0, 5.0]),
        boxes=[dict(bbox=[4.0, 6.0, 20.0, 40.0], score=1.0, frame=None)],
        masks=[dict(frame=1, frame_index=3, time=3.0, rle=mask_to_rle(mask),
                    bbox=[50.0, 10.0, 80.0, 30.0], score=0.9)],
        moments=dict(windows=[[1.0, 3.0, 0.8], [4.0, 5.0, 0.2]],
                     saliency=[0.1, 0.9, 0.7, 0.2, 0.1, 0.0]))
    return frames, mask, result


def test_draw_predictions_puts_boxes_and_masks_where_they_are():
    frames, mask, result = frames_and_result()
    drawn = draw_predictions(frames, result)
    assert drawn.shape == frames.shape and drawn.dtype == np.uint8
    assert (frames == 100).all()  # the input is not modified
    for frame in drawn:  # the region box (frame None) on every frame
        assert (frame[6:40, 4] == BOX_COLOR).all()
        assert (frame[6:40, 19] == BOX_COLOR).all()
        assert (frame[6, 4:20] == BOX_COLOR).all()
        assert (frame[39, 4:20] == BOX_COLOR).all()
        assert (frame[20, 7:17] == 100).all()  # inside, not filled
        assert (frame[41, 4:20] == 100).all()  # below the box
    blended = np.round(0.5 * 100 + MASK_ALPHA * np.array(MASK_COLOR))
    # the mask and its box on frame 1 only
    assert (drawn[1][15:25, 55:75] == blended).all()
    assert (drawn[1][10:30, 50] == MASK_COLOR).all()
    assert (drawn[1][29, 50:80] == MASK_COLOR).all()
    assert (drawn[1][35:45, 50:80] == 100).all()
    for t in (0, 2):
        assert (drawn[t][10:30, 50:80] == 100).all()


def test_box_of_one_frame_and_clipping():
    frames, _, result = frames_and_result()
    result = dict(result, masks=[], boxes=[
        dict(bbox=[-5.0, -5.0, 200.0, 30.0], score=1.0, frame=2)])
    drawn = draw_predictions(frames, result)
    assert (drawn[:2] == 100).all()
    # clipped to the frame: the outline runs along the left and top edges
    assert (drawn[2][0, :] == BOX_COLOR).all()
    assert (drawn[2][:30, 0] == BOX_COLOR).all()
    assert (drawn[2][:30, W - 1] == BOX_COLOR).all()


def colour_pixels(path, colour, tol=40) -> int:
    rgb = np.asarray(Image.open(path).convert('RGB')).astype(int)
    target = np.array(Image.new('RGB', (1, 1), colour)).reshape(3)
    return int((np.abs(rgb - target) <= tol).all(-1).sum())


def test_timeline_shows_curve_prediction_and_ground_truth(tmp_path):
    _, _, result = frames_and_result()
    path = str(tmp_path / 'timeline.png')
    save_timeline(result, path, gt_window=(2.0, 4.0))
    for colour in (SALIENCY_COLOR, PRED_COLOR, GT_COLOR):
        assert colour_pixels(path, colour) > 50, colour
    save_timeline(result, path)
    assert colour_pixels(path, GT_COLOR) < 5
    assert colour_pixels(path, PRED_COLOR) > 50


def test_grid_animation_and_write_pictures(tmp_path):
    frames, _, result = frames_and_result()
    save_frame_grid(frames, [1.0, 3.0, 5.0], str(tmp_path / 'grid.png'),
                    columns=2)
    with Image.open(tmp_path / 'grid.png') as grid:
        assert grid.size == (400, 400)  # 2 x 2 cells of 2 inches at 100 dpi
    paths = write_pictures(frames, result, str(tmp_path))
    assert sorted(paths) == ['animation', 'frames', 'timeline']
    with Image.open(paths['animation']) as gif:
        assert gif.n_frames == 3 and gif.size == (W, H)
        gif.seek(1)
        assert np.asarray(gif.convert('RGB'))[20, 4].tolist() == \
            list(BOX_COLOR)
    with pytest.raises(ValueError, match='.gif or an .mp4'):
        save_animation(frames, str(tmp_path / 'x.avi'))
