"""Loading cached clip features (CG-DETR release layout, or the
InternVideo2-CLIP cache of extract_clip_features.py)."""
import math

import numpy as np
import pytest

from tpo.datasets.transforms import LoadClipFeatures, PackTPOInputs


def test_features_of_several_roots_are_normalised_cut_and_concatenated(
        tmp_path):
    for name, dims, num in (('slowfast', 3, 4), ('clip', 2, 5)):
        (tmp_path / name).mkdir()
        feats = np.arange(num * dims, dtype=np.float32).reshape(num, dims) + 1
        np.savez(tmp_path / name / 'vidA.npz', features=feats)
    video = LoadClipFeatures(
        root=[str(tmp_path / 'slowfast'), str(tmp_path / 'clip')],
        normalize=True, max_clips=3)
    results = video(dict(video_path='/videos/vidA.mp4'))
    clips = results['clip_features']
    assert clips.shape == (3, 5) and clips.dtype == np.float32
    # each root L2-normalised, then concatenated
    np.testing.assert_allclose(np.linalg.norm(clips[:, :3], axis=1),
                               np.ones(3), rtol=1e-6)
    np.testing.assert_allclose(clips[0, 3:],
                               np.array([1., 2.]) / math.sqrt(5), rtol=1e-6)
    # roots of different lengths are cut to the shortest
    both = LoadClipFeatures(
        root=[str(tmp_path / 'slowfast'), str(tmp_path / 'clip')])
    assert both(dict(video_path='vidA'))['clip_features'].shape == (4, 5)
    # one root, unnormalised: the file as it is
    raw = LoadClipFeatures(root=str(tmp_path / 'clip'))(
        dict(video_path='x/vidA.mp4'))['clip_features']
    assert np.array_equal(raw, np.arange(10, dtype=np.float32).reshape(5, 2)
                          + 1)

    results.update(frames=np.zeros((2, 4, 4, 3), np.uint8))
    packed = PackTPOInputs()(results)['data_samples']
    assert packed.clip_features.shape == (3, 5)


def test_a_missing_cache_fails_or_is_counted(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.npz.*extract_clip'):
        LoadClipFeatures(root=str(tmp_path))(dict(video_path='v/missing.mp4'))
    skip = LoadClipFeatures(root=str(tmp_path), on_missing='skip')
    assert 'clip_features' not in skip(dict(video_path='v/missing.mp4'))
    assert skip.missing == 1
    with pytest.raises(ValueError, match='on_missing'):
        LoadClipFeatures(root=str(tmp_path), on_missing='ignore')
