"""tools/dataset_converters/extract_clip_features.py: the InternVideo2-CLIP
feature cache (resumable, bad videos reported) and ``LoadClipFeatures``
reading it."""
import os

import numpy as np
import pytest

from tests._shared import load_tool
from tpo.datasets.transforms import LoadClipFeatures, clip_feature_path


def test_extract_clip_features_caches_and_resumes(tiny_world, tmp_path):
    tool = load_tool('dataset_converters/extract_clip_features.py')
    config = tmp_path / 'cfg.py'
    config.write_text(
        "clip_vision = dict(type='InternVideo2CLIPVision', img_size=32, "
        "patch_size=16, num_frames=8, embed_dims=32, depth=1, num_heads=4, "
        "clip_dims=8, pool_heads=2)\n")
    videos = tmp_path / 'videos'
    videos.mkdir()
    names = sorted(os.listdir(os.path.join(tiny_world, 'videos')))[:2]
    for name in names:
        os.symlink(os.path.join(tiny_world, 'videos', name), videos / name)
    (videos / 'broken.mp4').write_bytes(b'not a video')
    out = tmp_path / 'feats'
    args = [str(videos), str(out), '--config', str(config),
            '--img-size', '32']
    assert tool.main(args) == 1  # the broken video is reported
    cached = {p: os.path.getmtime(out / p) for p in os.listdir(out)}
    assert set(cached) == {n.replace('.mp4', '.npz') for n in names}
    with np.load(out / cached.__iter__().__next__()) as archive:
        feats = archive['features']
    assert feats.ndim == 2 and feats.shape[1] == 8 and len(feats) >= 1
    tool.main(args)  # resumed: nothing is recomputed
    assert {p: os.path.getmtime(out / p) for p in cached} == cached
    step = LoadClipFeatures(root=str(out))
    result = step(dict(video_path=str(videos / names[0])))
    assert np.array_equal(result['clip_features'], np.load(
        clip_feature_path(str(out), names[0]))['features'])
    with pytest.raises(FileNotFoundError, match='extract_clip_features'):
        step(dict(video_path=str(videos / 'broken.mp4')))
    skip = LoadClipFeatures(root=str(out), on_missing='skip')
    assert 'clip_features' not in skip(dict(video_path='x/broken.mp4'))
    assert skip.missing == 1
