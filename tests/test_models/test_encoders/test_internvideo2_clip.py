"""InternVideo2-CLIP, the encoders of the released VideoChat-TPO's
temporal-head inputs (their features against the release's own code are
checked in ``test_videochat_tpo_release_parity.py``)."""
import pytest
import torch

from tpo.models.encoders import InternVideo2CLIPVision, clip_frame_indices
from tpo.models.encoders.internvideo2_clip import temporal_endpoint_features


def tiny_vision(pretrained=None) -> InternVideo2CLIPVision:
    return InternVideo2CLIPVision(
        img_size=32, patch_size=16, num_frames=8, embed_dims=32, depth=1,
        num_heads=4, clip_dims=8, pool_heads=2, pretrained=pretrained)


def test_clip_frame_indices_are_the_releases():
    # app.py read_frames_decord(sample='fps8.0') on 16 frames at 4 fps:
    # each frame twice (half-to-even rounding), 31 kept, cut to 3 clips
    assert clip_frame_indices(16, 4.0) == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5,
                                           6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
                                           11, 11, 12]
    assert len(clip_frame_indices(30 * 10, 30.0)) == 80  # 10 s -> 10 clips
    assert clip_frame_indices(5, 30.0) == []  # shorter than a clip


def test_missing_weights_name_the_file_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match='InternVideo2-CLIP-1B'):
        tiny_vision(str(tmp_path / '1B_clip.pth'))


def test_weights_load_strictly_from_the_release_names(tmp_path):
    """``vision_encoder.*`` of a (here: re-saved) release checkpoint load
    into the tower; a checkpoint lacking a tensor is refused by name."""
    from safetensors.torch import save_file
    torch.manual_seed(0)
    source = tiny_vision().eval()
    state = {f'vision_encoder.{k}': v for k, v in source.state_dict().items()}
    path = str(tmp_path / 'clip.safetensors')
    save_file(state, path)
    loaded = tiny_vision(path).eval()
    frames = torch.randn(16, 3, 32, 32)
    assert torch.equal(loaded.clip_features(frames),
                       source.clip_features(frames))
    missing = sorted(state)[0]
    del state[missing]
    name = missing[len('vision_encoder.'):]
    save_file(state, path)
    with pytest.raises(RuntimeError, match=f'1 missing.*{name}'):
        tiny_vision(path)


def test_temporal_endpoint_features():
    assert torch.allclose(temporal_endpoint_features(4), torch.tensor(
        [[0., .25], [.25, .5], [.5, .75], [.75, 1.]]))
