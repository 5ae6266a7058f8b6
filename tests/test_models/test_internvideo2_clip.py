"""InternVideo2-CLIP (the released VideoChat-TPO's temporal-head inputs)
against the release's own code, through the parity fixture of
``tests/data/videochat_tpo_release`` (its ``app.py`` features of the
synthetic video and query), plus the feature cache tool and pipeline step."""
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from tpo.datasets.transforms import LoadClipFeatures, clip_feature_path
from tpo.models.encoders import (InternVideo2CLIPText, InternVideo2CLIPVision,
                                 clip_frame_indices)
from tpo.models.encoders.internvideo2_clip import temporal_endpoint_features

init_default_scope('tpo')
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / 'tests' / 'data' / 'videochat_tpo_release'
sys.path.insert(0, str(DATA))
from make_fixture import synthetic_video  # noqa: E402
from named_weights import named_state_dict  # noqa: E402

META = json.loads((DATA / 'release_outputs.json').read_text())
ARRAYS = dict(np.load(DATA / 'release_outputs.npz'))
VISION = META['sizes']['clip_vision']


def _checkpoint(tmp_path, prefix: str) -> str:
    from safetensors.torch import save_file
    state = named_state_dict(META['clip_manifest'])
    path = str(tmp_path / f'{prefix}.safetensors')
    save_file({k: v for k, v in state.items() if k.startswith(prefix)}, path)
    return path


def tiny_vision(pretrained=None) -> InternVideo2CLIPVision:
    return InternVideo2CLIPVision(
        img_size=META['video']['size'], patch_size=VISION['patch_size'],
        num_frames=8, embed_dims=VISION['embed_dim'], depth=VISION['depth'],
        num_heads=VISION['num_heads'], clip_dims=VISION['clip_embed_dim'],
        pool_heads=VISION['attn_pool_num_heads'], pretrained=pretrained)


def test_clip_frame_indices_are_the_releases():
    # app.py read_frames_decord(sample='fps8.0') on 16 frames at 4 fps:
    # each frame twice (half-to-even rounding), 31 kept, cut to 3 clips
    assert clip_frame_indices(16, 4.0) == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5,
                                           6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
                                           11, 11, 12]
    assert len(clip_frame_indices(30 * 10, 30.0)) == 80  # 10 s -> 10 clips
    assert clip_frame_indices(5, 30.0) == []  # shorter than a clip


def test_vision_tower_matches_the_release(tmp_path):
    model = tiny_vision(_checkpoint(tmp_path, 'vision_encoder.')).eval()
    video = synthetic_video()
    frames = torch.from_numpy(video[clip_frame_indices(16, 4.0)])
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
    frames = (frames.permute(0, 3, 1, 2).float() / 255 - mean) / std
    feats = model.clip_features(frames)
    release = ARRAYS['temporal.v_feat']
    assert feats.shape == (3, VISION['clip_embed_dim'])
    diff = (feats - torch.from_numpy(release[:, :-2])).abs().max()
    assert diff < 1e-4, f'clip features differ by {diff:.3g}'
    assert torch.allclose(temporal_endpoint_features(3),
                          torch.from_numpy(release[:, -2:]))


def test_text_encoder_matches_the_release(tmp_path):
    tokenizer = dict(type='TokenizerFile', path=str(DATA / 'tokenizer'))
    encoder = InternVideo2CLIPText(
        llama=dict(vocab_size=400, hidden_size=64, intermediate_size=128,
                   num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=4, max_position_embeddings=128),
        tokenizer=tokenizer,
        clip_dims=META['clip_manifest']['text_encoder.text_projection'][1],
        pretrained=_checkpoint(tmp_path, 'text_encoder.')).eval()
    question = META['temporal']['question']
    ids = encoder.token_ids(question)
    release_ids = [i for i in META['temporal']['clip_text_ids'] if i > 0]
    assert ids == release_ids
    feats = encoder([question])[0]
    diff = (feats - torch.from_numpy(ARRAYS['temporal.q_feat'])).abs().max()
    assert diff < 1e-4, f'word features differ by {diff:.3g}'


def test_missing_weights_name_the_file_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match='InternVideo2-CLIP-1B'):
        tiny_vision(str(tmp_path / '1B_clip.pth'))


def test_extract_clip_features_caches_and_resumes(tiny_world, tmp_path):
    sys.path.insert(0, str(ROOT / 'tools' / 'dataset_converters'))
    import extract_clip_features as tool
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
