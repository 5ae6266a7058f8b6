"""SAM2MaskHead with its full-video inference mode (tiny random SAM2 on
CPU): the MLLM's clip is 4 sampled frames, SAM2 predicts every frame of a
66-frame video, and the metrics score every frame."""
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from tpo.evaluation.functional import lasot_eval, region_similarity_j
from tpo.registry import METRICS, TRANSFORMS
from tpo.structures import TPODataSample
from tpo.structures.masks import mask_to_rle, rle_to_mask

pytest.importorskip('sam2')

from tpo.models.heads.sam2_mask_head import (  # noqa: E402
    IMAGENET_MEAN, IMAGENET_STD, SAM2MaskHead)

IN_DIMS, SIDE, NUM_FRAMES, SQUARE = 16, 64, 66, 20
CLIP = [8, 24, 40, 57]  # the MLLM's 4 sampled frames (centres of segments)
FULL_VIDEO = dict(type='SAM2FullVideoInference', chunk_size=8)


def square_at(t: int) -> tuple:
    return (t * 2) % 40, 8 + (t % 5) * 3


def gt_mask(t: int) -> np.ndarray:
    mask = np.zeros((SIDE, SIDE), dtype=bool)
    x, y = square_at(t)
    mask[y:y + SQUARE, x:x + SQUARE] = True
    return mask


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    """66 lossless frames at SAM2's input size (so that neither path
    resizes), as frame files and as an array."""
    folder = tmp_path_factory.mktemp('full_video')
    rng = np.random.default_rng(0)
    frames, paths = [], []
    for t in range(NUM_FRAMES):
        frame = rng.integers(0, 60, (SIDE, SIDE, 3), dtype=np.uint8)
        frame[gt_mask(t)] = 255
        frames.append(frame)
        paths.append(str(folder / f'{t:05d}.png'))
        Image.fromarray(frame).save(paths[-1])
    return paths, np.stack(frames)


def model_frames(frames: np.ndarray) -> torch.Tensor:
    """``(T, 3, H, W)`` as TPODataPreprocessor normalises them."""
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    return (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / \
        torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def make_head(**kwargs) -> SAM2MaskHead:
    torch.manual_seed(0)
    return SAM2MaskHead(in_dims=IN_DIMS, hidden_dims=32, image_size=SIDE,
                        **kwargs).eval()


@pytest.fixture(scope='module')
def head():
    return make_head(full_video=FULL_VIDEO)


@pytest.fixture(scope='module')
def embedding():
    torch.manual_seed(3)
    return torch.randn(1, IN_DIMS)


@pytest.fixture(scope='module')
def predicted(head, video, embedding):
    """A MeViS-like sample: 4 clip frames, the video's 66 frame files."""
    paths, frames = video
    sample = TPODataSample(metainfo=dict(
        sample_idx=0, ori_shape=(SIDE, SIDE), full_video=paths,
        frame_inds=np.array(CLIP)))
    head.predict([embedding], dict(frames=model_frames(frames[CLIP])[None]),
                 [sample])
    return sample


def test_full_video_mode_builds_the_video_predictor_with_sam2s_weights(
        head):
    from sam2.modeling.sam2_base import SAM2Base
    from sam2.sam2_video_predictor import SAM2VideoPredictor
    plain = make_head()
    assert type(plain.sam) is SAM2Base
    assert isinstance(head.sam, SAM2VideoPredictor)
    # the same checkpoint keys: a checkpoint of either loads strictly
    plain.load_state_dict(head.state_dict(), strict=True)
    assert head.full_video.chunk_size == 8


def test_predict_gives_a_mask_and_box_for_every_video_frame(predicted):
    assert len(predicted.pred_mask_rles) == NUM_FRAMES  # not 4 (the clip)
    assert predicted.pred_frame_inds.tolist() == list(range(NUM_FRAMES))
    assert predicted.pred_track_bboxes.shape == (NUM_FRAMES, 4)
    assert predicted.pred_mask_scores.shape == (NUM_FRAMES, )
    assert predicted.pred_track_seconds.shape == (NUM_FRAMES, )
    assert 'pred_masks' not in predicted  # the metrics read the RLEs
    for t in (0, 33, NUM_FRAMES - 1):
        mask = rle_to_mask(predicted.pred_mask_rles[t])
        assert mask.shape == (SIDE, SIDE)
        if mask.any():
            ys, xs = np.nonzero(mask)
            assert predicted.pred_track_bboxes[t].tolist() == pytest.approx(
                [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                 ys.max() - ys.min() + 1])


def test_equals_the_sampled_path_on_the_frames_both_see(head, video,
                                                        embedding,
                                                        predicted):
    """A clip of the first 20 video frames through the sampled-frame path
    (the head without ``full_video``) gives the full-video masks on those
    frames: same prompt, same SAM2 inputs, same memory. The logits differ
    only by sam2's video predictor keeping its memory features in
    bfloat16."""
    paths, frames = video
    sampled = TPODataSample(metainfo=dict(sample_idx=1,
                                          ori_shape=(SIDE, SIDE)))
    plain = make_head()
    plain.predict([embedding], dict(frames=model_frames(frames[:20])[None]),
                  [sampled])
    full = np.stack([rle_to_mask(r) for r in predicted.pred_mask_rles[:20]])
    np.testing.assert_array_equal(sampled.pred_masks.numpy(), full)
    torch.testing.assert_close(sampled.pred_mask_scores,
                               predicted.pred_mask_scores[:20], atol=1e-4,
                               rtol=0)


def test_a_sparse_clip_agrees_on_the_prompted_frame_only(head, video,
                                                         embedding,
                                                         predicted):
    """A clip of every 16th frame (0, 16, 32, 48), prompted on frame 0 as
    the full video is: frame 0 is the same; on later frames SAM2's memory
    holds other past frames (16 apart instead of 1), so they may differ."""
    _, frames = video
    clip = [0, 16, 32, 48]
    sparse = TPODataSample(metainfo=dict(sample_idx=2,
                                         ori_shape=(SIDE, SIDE)))
    make_head().predict(
        [embedding], dict(frames=model_frames(frames[clip])[None]), [sparse])
    np.testing.assert_array_equal(sparse.pred_masks[0].numpy(),
                                  rle_to_mask(predicted.pred_mask_rles[0]))


def test_the_prompt_reaches_every_frame(head, video, predicted):
    """Another task embedding, other masks on most frames."""
    paths, frames = video
    other = TPODataSample(metainfo=dict(sample_idx=3, ori_shape=(SIDE, SIDE),
                                        full_video=paths[:24]))
    torch.manual_seed(4)
    head.predict([torch.randn(1, IN_DIMS) * 4],
                 dict(frames=model_frames(frames[:4])[None]), [other])
    changed = [t for t in range(24) if not np.array_equal(
        rle_to_mask(other.pred_mask_rles[t]),
        rle_to_mask(predicted.pred_mask_rles[t]))]
    assert len(other.pred_mask_rles) == 24 and len(changed) > 12


def test_a_tracking_box_prompts_video_frame_0(head, video):
    """``track_prompt='box'``: the box of frame 0 (SelectTrackTargets with
    all_frames) prompts SAM2 on the video's frame 0, as the tracker run
    with that box directly."""
    from tpo.models.heads.sam2_full_video import SAM2FullVideoTracker
    paths, frames = video
    head.track_prompt = 'box'
    try:
        x, y = square_at(0)
        sample = TPODataSample(metainfo=dict(
            sample_idx=4, ori_shape=(SIDE, SIDE), full_video=paths[:10]))
        sample.prompt_bboxes = torch.tensor(
            [[x, y, x + SQUARE, y + SQUARE]], dtype=torch.float32)
        head.predict([torch.zeros(0, IN_DIMS)],
                     dict(frames=model_frames(frames[CLIP])[None]), [sample])
    finally:
        head.track_prompt = 'embedding'
    tracker = SAM2FullVideoTracker(head.sam, chunk_size=8)
    box = torch.tensor([x, y, x + SQUARE, y + SQUARE]) / SIDE
    direct = tracker.run(tracker.frames(paths[:10]), box_norm=box)
    assert sample.pred_mask_rles == direct['rles']
    assert torch.equal(sample.pred_track_bboxes, direct['bboxes'])


def test_no_task_call_gives_empty_masks_on_every_frame(head, video):
    paths, frames = video
    sample = TPODataSample(metainfo=dict(sample_idx=5, ori_shape=(SIDE, SIDE),
                                         full_video=paths))
    head.predict([torch.zeros(0, IN_DIMS)],
                 dict(frames=model_frames(frames[CLIP])[None]), [sample])
    assert len(sample.pred_mask_rles) == NUM_FRAMES
    assert not any(rle_to_mask(r).any() for r in sample.pred_mask_rles)
    assert sample.pred_frame_inds.tolist() == list(range(NUM_FRAMES))


def test_metrics_score_every_frame_against_its_ground_truth(predicted):
    sample = predicted.to_dict()
    sample.update(task='mask', mask_rles=[[mask_to_rle(gt_mask(t))
                                           for t in range(NUM_FRAMES)]])
    metric = METRICS.build(dict(type='ReferringVOSMetric', tasks=('mask', )))
    metric.process({}, [sample])
    assert len(metric.results[0]['j']) == NUM_FRAMES
    j = [float(region_similarity_j(rle_to_mask(r), gt_mask(t)))
         for t, r in enumerate(predicted.pred_mask_rles)]
    assert metric.compute_metrics(metric.results)['J'] == pytest.approx(
        100 * np.mean(j))
    # gt_masks of the 4 clip frames cannot be scored against 66 frames
    clipped = dict(sample, gt_masks=np.stack([gt_mask(t) for t in CLIP]))
    with pytest.raises(ValueError, match='66 predicted frames but 4'):
        metric.process({}, [clipped])

    gt = np.array([[*square_at(t), SQUARE, SQUARE]
                   for t in range(NUM_FRAMES)], dtype=np.float64)
    track = dict(sample, task='track', gt_track_bboxes=gt)
    tracking = METRICS.build(dict(type='TrackingMetric', tasks=('track', )))
    tracking.process({}, [track])
    expected = lasot_eval([dict(pred=predicted.pred_track_bboxes.numpy(),
                                gt=gt)])
    assert tracking.compute_metrics(tracking.results)['AUC'] == \
        pytest.approx(100 * expected['success_auc'])


def test_pipeline_names_every_frame_and_keeps_every_tracking_row(video):
    paths, _ = video
    folder = osp.dirname(paths[0])
    results = dict(frame_dir=folder, video_path=folder, sample_idx=0,
                   frame_names=[f'{t:05d}' for t in range(NUM_FRAMES)])
    results = TRANSFORMS.build(dict(type='ListFramePaths', ext='.png'))(
        results)
    results = TRANSFORMS.build(dict(type='AttachFullVideo'))(results)
    assert results['full_video'] == paths
    assert TRANSFORMS.build(dict(type='AttachFullVideo'))(
        dict(video_path='a.mp4'))['full_video'] == 'a.mp4'
    with pytest.raises(KeyError, match='image_paths'):
        TRANSFORMS.build(dict(type='AttachFullVideo'))(dict(sample_idx=0))

    xyxy = np.array([[t, 1, t + 5, 6] for t in range(NUM_FRAMES)],
                    dtype=np.float32)
    track = dict(frame_inds=np.array(CLIP), gt_bboxes_xyxy=xyxy,
                 gt_track_bboxes=xyxy.copy(),
                 absent=np.zeros(NUM_FRAMES, np.uint8))
    full = TRANSFORMS.build(dict(type='SelectTrackTargets',
                                 all_frames=True))(dict(track))
    assert len(full['gt_track_bboxes']) == NUM_FRAMES
    assert full['prompt_bboxes'].tolist() == [xyxy[0].tolist()]  # frame 0
    sampled = TRANSFORMS.build(dict(type='SelectTrackTargets'))(dict(track))
    assert sampled['prompt_bboxes'].tolist() == [xyxy[CLIP[0]].tolist()]

    packed = TRANSFORMS.build(dict(type='PackTPOInputs'))(dict(
        results, frames=np.zeros((4, 8, 8, 3), np.uint8)))
    assert packed['data_samples'].full_video == paths
    assert packed['data_samples'].frame_names[1] == '00001'


def test_a_sample_without_its_video_falls_back_to_the_clip_with_a_warning(
        head, video, embedding, monkeypatch):
    from tpo.models.heads import sam2_full_video
    _, frames = video
    sample = TPODataSample(metainfo=dict(sample_idx=7,
                                         ori_shape=(SIDE, SIDE)))
    messages = []
    monkeypatch.setattr(sam2_full_video, 'print_log',
                        lambda message, **kwargs: messages.append(message))
    head.predict([embedding], dict(frames=model_frames(frames[:3])[None]),
                 [sample])
    assert sample.pred_masks.shape == (3, SIDE, SIDE)
    assert len(messages) == 1 and "has no 'full_video'" in messages[0]
    assert 'AttachFullVideo' in messages[0]
