"""The full-video SAM2 path on a synthetic video of 72 frames (more than the
MLLM's 16): every frame read at SAM2's input size in chunks, the prompt
propagated through SAM2's video predictor with bounded memory, and the
predictions scored and written for every frame against the ground truth of
every frame."""
import itertools
import os.path as osp
import zipfile

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from PIL import Image

from tpo.evaluation.functional import (boundary_f_measure, lasot_eval,
                                       region_similarity_j)
from tpo.registry import METRICS

pytest.importorskip('sam2')

from tpo.models.heads.sam2_full_video import (  # noqa: E402
    SAM2FullVideoTracker, VideoFrames, memory_window, streaming_state)
from tpo.models.heads.sam2_builder import build_sam2_base  # noqa: E402

NUM_FRAMES, HEIGHT, WIDTH, SIDE = 72, 60, 80, 20
PREDICTOR = {'_target_': 'sam2.sam2_video_predictor.SAM2VideoPredictor'}


def square_at(t: int) -> tuple:
    """x0, y0 of the moving square in frame ``t`` (it crosses the frame)."""
    return (t * 3) % (WIDTH - SIDE), 10 + (t % 5) * 4


def gt_mask(t: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    x, y = square_at(t)
    mask[y:y + SIDE, x:x + SIDE] = True
    return mask


def rle(mask: np.ndarray) -> dict:
    out = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(size=list(out['size']), counts=out['counts'].decode())


@pytest.fixture(scope='module')
def video(tmp_path_factory) -> list:
    """72 JPEG frames ``00000.jpg ...`` of a white square on noise."""
    folder = tmp_path_factory.mktemp('video')
    rng = np.random.default_rng(0)
    paths = []
    for t in range(NUM_FRAMES):
        frame = rng.integers(0, 60, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        frame[gt_mask(t)] = 255
        paths.append(str(folder / f'{t:05d}.jpg'))
        Image.fromarray(frame).save(paths[-1], quality=95)
    return paths


@pytest.fixture(scope='module')
def predictor():
    torch.manual_seed(0)
    return build_sam2_base('sam2.1_hiera_t', 64, PREDICTOR)


def test_frames_are_read_in_chunks_as_sam2_reads_them(video):
    from sam2.utils.misc import _load_img_as_tensor
    frames = VideoFrames(video, image_size=128, chunk_size=8)
    assert len(frames) == NUM_FRAMES and frames.shape == (HEIGHT, WIDTH)
    for t in (0, 7, 8, 71):
        image, height, width = _load_img_as_tensor(video[t], 128)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
        expected = (image.float() - mean) / std
        torch.testing.assert_close(frames[t], expected)
        assert (height, width) == (HEIGHT, WIDTH)
    # 0-7 one chunk, 8-15 the next, 71 the last: one decode per chunk
    assert frames.chunks_read == 3
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        VideoFrames([osp.join(osp.dirname(video[0]), 'missing.jpg')], 128)


def test_a_video_file_is_read_frame_by_frame(tmp_path, video):
    from tpo.datasets.synthetic.video_io import write_mp4
    path = str(tmp_path / 'clip.mp4')
    write_mp4(path, np.stack([np.asarray(Image.open(p)) for p in video]),
              fps=10)
    frames = VideoFrames(path, image_size=64, chunk_size=16)
    assert len(frames) == NUM_FRAMES and frames.shape == (HEIGHT, WIDTH)
    assert frames[NUM_FRAMES - 1].shape == (3, 64, 64)


def test_streaming_state_has_the_keys_of_init_state(video, predictor):
    """Guards against a sam2 release that changes its inference state."""
    folder = osp.dirname(video[0])
    eager = predictor.init_state(folder)
    lazy = streaming_state(predictor, VideoFrames(video, 64))
    assert set(lazy) == set(eager)
    assert (lazy['video_height'], lazy['video_width']) == \
        (eager['video_height'], eager['video_width'])
    torch.testing.assert_close(lazy['images'][5], eager['images'][5])


@pytest.fixture(scope='module')
def tracked(video, predictor):
    """The tracker's output on all 72 frames, prompted with the first
    frame's box."""
    tracker = SAM2FullVideoTracker(predictor, chunk_size=8)
    frames = tracker.frames(video)
    x, y = square_at(0)
    box = torch.tensor([x / WIDTH, y / HEIGHT, (x + SIDE) / WIDTH,
                        (y + SIDE) / HEIGHT])
    return tracker, frames, tracker.run(frames, box_norm=box)


def test_every_frame_is_predicted_with_bounded_state(tracked):
    tracker, frames, out = tracked
    assert len(out['rles']) == NUM_FRAMES
    assert all(r['size'] == [HEIGHT, WIDTH] for r in out['rles'])
    assert out['bboxes'].shape == (NUM_FRAMES, 4)
    assert out['scores'].shape == (NUM_FRAMES, )
    assert ((out['scores'] >= 0) & (out['scores'] <= 1)).all()
    assert len(out['seconds']) == NUM_FRAMES and (out['seconds'] > 0).all()
    # each frame decoded once, in chunks of 8
    assert frames.chunks_read == NUM_FRAMES // 8
    # SAM2's per-frame outputs stay within its memory window (the frames it
    # may read, the current one and the prompted frame 0)
    assert tracker.max_retained == memory_window(tracker.predictor) + 2
    assert tracker.max_retained < NUM_FRAMES // 2
    # the boxes are the tight boxes of the masks
    for t in (0, 40, 71):
        mask = mask_utils.decode(dict(size=out['rles'][t]['size'],
                                      counts=out['rles'][t]['counts']
                                      .encode()))
        if mask.any():
            ys, xs = np.nonzero(mask)
            assert out['bboxes'][t].tolist() == pytest.approx(
                [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                 ys.max() - ys.min() + 1])


def test_the_prompt_changes_the_masks(tracked, predictor):
    """The adapter-token prompt reaches SAM2: other tokens, other masks."""
    tracker, frames, out = tracked
    torch.manual_seed(1)
    tokens = torch.randn(1, 3, predictor.sam_prompt_embed_dim) * 3

    def first_logits(prompt):  # the first 6 frames (stopped early)
        return torch.stack([logits for _, logits, _ in itertools.islice(
            tracker.propagate(frames, prompt=prompt), 6)])

    first, second = first_logits(tokens), first_logits(-tokens)
    assert first.shape == (6, HEIGHT, WIDTH)
    assert (first - second).abs().mean() > 1e-3  # random SAM2: small
    torch.testing.assert_close(first_logits(tokens), first)
    with pytest.raises(ValueError, match='exactly one'):
        next(tracker.propagate(frames))


def full_video_sample(pred_rles) -> dict:
    gt = [rle(gt_mask(t)) for t in range(NUM_FRAMES)]
    return dict(task='mask', vid='square', exp_id='0',
                frame_names=[f'{t:05d}' for t in range(NUM_FRAMES)],
                mask_rles=[gt], pred_mask_rles=pred_rles)


def j_and_f(pred_rles) -> float:
    metric = METRICS.build(dict(type='ReferringVOSMetric', tasks=('mask', )))
    metric.process({}, [full_video_sample(pred_rles)])
    return metric.compute_metrics(metric.results)


def test_j_and_f_is_scored_on_every_frame_against_its_ground_truth(tracked):
    _, _, out = tracked
    scores = j_and_f(out['rles'])
    j, f = [], []
    for t, r in enumerate(out['rles']):
        pred = mask_utils.decode(dict(size=r['size'],
                                      counts=r['counts'].encode())) > 0
        j.append(float(region_similarity_j(pred, gt_mask(t))))
        f.append(boundary_f_measure(pred, gt_mask(t)))
    assert scores['J'] == pytest.approx(100 * np.mean(j))
    assert scores['F'] == pytest.approx(100 * np.mean(f))
    # the ground truth itself scores 100; a prediction one frame late
    # (right on 71 of 72 frames but shifted) does not
    truth = [rle(gt_mask(t)) for t in range(NUM_FRAMES)]
    assert j_and_f(truth)['J&F'] == pytest.approx(100)
    late = truth[:1] + truth[:-1]
    assert j_and_f(late)['J&F'] < 60


def test_submission_zip_has_a_png_for_every_frame(tracked, tmp_path):
    _, _, out = tracked
    metric = METRICS.build(dict(type='MaskSubmission',
                                out_dir=str(tmp_path / 'masks')))
    metric.process({}, [full_video_sample(out['rles'])])
    metric.compute_metrics(metric.results)
    with zipfile.ZipFile(tmp_path / 'masks' / 'submission.zip') as archive:
        names = sorted(archive.namelist())
        assert names == [f'Annotations/square/0/{t:05d}.png'
                         for t in range(NUM_FRAMES)]
        with archive.open(names[40]) as f:
            png = np.asarray(Image.open(f))
    r = out['rles'][40]
    mask = mask_utils.decode(dict(size=r['size'], counts=r['counts'].encode()))
    assert png.shape == (HEIGHT, WIDTH)
    np.testing.assert_array_equal(png, mask.astype(np.uint8) * 255)


def test_tracking_is_scored_and_written_for_the_whole_sequence(tracked,
                                                               tmp_path):
    _, _, out = tracked
    gt = np.array([[*square_at(t), SIDE, SIDE] for t in range(NUM_FRAMES)],
                  dtype=np.float64)
    sample = dict(task='track', sequence='square-1', ori_shape=(HEIGHT,
                                                                 WIDTH),
                  gt_track_bboxes=gt, pred_track_bboxes=out['bboxes'],
                  pred_track_seconds=out['seconds'])
    metric = METRICS.build(dict(type='TrackingMetric', protocol='lasot'))
    metric.process({}, [sample])
    scores = metric.compute_metrics(metric.results)
    expected = lasot_eval([dict(pred=out['bboxes'].numpy(), gt=gt)])
    assert scores['AUC'] == pytest.approx(100 * expected['success_auc'])
    for layout in ('lasot', 'got10k'):
        folder = tmp_path / layout
        writer = METRICS.build(dict(type='TrackingSubmission', layout=layout,
                                    out_dir=str(folder)))
        writer.process({}, [sample])
        writer.compute_metrics(writer.results)
        boxes = folder / ('square-1.txt' if layout == 'lasot' else
                          'square-1/square-1_001.txt')
        rows = np.loadtxt(boxes, delimiter=',')
        assert rows.shape == (NUM_FRAMES, 4)
        np.testing.assert_allclose(rows, out['bboxes'].numpy(), atol=1e-4)
    times = np.loadtxt(tmp_path / 'got10k/square-1/square-1_time.txt')
    assert len(times) == NUM_FRAMES
    with zipfile.ZipFile(str(tmp_path / 'got10k') + '.zip') as archive:
        assert sorted(archive.namelist()) == [
            'square-1/square-1_001.txt', 'square-1/square-1_time.txt']
