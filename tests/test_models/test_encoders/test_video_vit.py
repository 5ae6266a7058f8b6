"""VideoViT (UMT-L) against the official math, tiny shapes on CPU."""
import pytest
import torch
import torch.nn.functional as F

from tests.videochat_release import ref_sinusoid, ref_video_table
from tpo.models.encoders.video_vit import (Attention, VideoViT,
                                           sinusoid_position_table,
                                           sinusoid_position_table_3d,
                                           umt_position_table)


def test_umt_position_tables_match_official():
    """UMT-L at full size: 4-frame 14x14 table stretched to 16 frames; the
    image table is the plain 196-row one; the tiny 2 -> 4 frame case."""
    full = umt_position_table((16, 14, 14), 1024, ckpt_frames=4,
                              ckpt_size=14)
    ref = ref_video_table(16 * 196, 1024, 4, 16)[0]
    assert full.shape == (3136, 1024)
    torch.testing.assert_close(full, ref, rtol=0, atol=1e-6)
    # Not the plain 3136-row table: the stretch matters.
    assert not torch.allclose(full, ref_sinusoid(3136, 1024)[0], atol=1e-2)
    image = umt_position_table((1, 14, 14), 1024, None, ckpt_size=14)
    torch.testing.assert_close(image, ref_sinusoid(196, 1024)[0], rtol=0,
                               atol=1e-6)
    tiny = umt_position_table((4, 4, 4), 48, ckpt_frames=2)
    torch.testing.assert_close(tiny, ref_video_table(64, 48, 2, 4)[0],
                               rtol=0, atol=1e-6)
    # A 336 px model (official get_sinusoid_encoding_table2): bicubic from
    # the 14x14 pre-training grid, then linear in time.
    t2 = umt_position_table((8, 21, 21), 64, ckpt_frames=4, ckpt_size=14)
    ref2 = ref_sinusoid(784, 64).reshape(-1, 4, 14, 14, 64)
    ref2 = ref2.reshape(-1, 14, 14, 64).permute(0, 3, 1, 2)
    ref2 = F.interpolate(ref2, size=(21, 21), mode='bicubic',
                         align_corners=False)
    ref2 = ref2.permute(0, 2, 3, 1).reshape(-1, 4, 21, 21, 64)
    ref2 = ref2.permute(0, 2, 3, 4, 1).reshape(-1, 64, 4)
    ref2 = F.interpolate(ref2, size=8, mode='linear')
    ref2 = ref2.reshape(1, 21, 21, 64, 8).permute(0, 4, 1, 2, 3).flatten(1, 3)
    torch.testing.assert_close(t2, ref2[0], rtol=0, atol=1e-5)


def test_video_vit_fixed_input_values():
    """With the residual branches zeroed, the output is LN(patch + pos):
    checked against a hand computation, for a clip and an image."""
    vit = VideoViT(img_size=16, patch_size=8, num_frames=4, embed_dims=12,
                   depth=3, num_heads=2, qkv_bias='qv', out_layer=-2,
                   final_norm_eps=1e-12, pos_ckpt_frames=2).eval()
    assert len(vit.blocks) == 2
    with torch.no_grad():
        for block in vit.blocks:
            for lin in (block.attn.proj, block.mlp.fc2):
                lin.weight.zero_()
                lin.bias.zero_()
        vit.patch_embed.proj.weight.fill_(1.0 / (3 * 64))
        vit.patch_embed.proj.bias.copy_(torch.arange(12.) / 12)
        clip = torch.full((1, 4, 3, 16, 16), 0.5)
        out = vit(clip)
        pos = ref_video_table(16, 12, 2, 4)[0]
        x = 0.5 + torch.arange(12.) / 12 + pos
        expected = (x - x.mean(-1, keepdim=True)) / torch.sqrt(
            x.var(-1, unbiased=False, keepdim=True) + 1e-12)
        assert out.shape == (1, 16, 12)
        torch.testing.assert_close(out[0], expected, rtol=1e-5, atol=1e-5)
        image = vit(clip[:, :1])
        x = 0.5 + torch.arange(12.) / 12 + ref_sinusoid(4, 12)[0]
        expected = (x - x.mean(-1, keepdim=True)) / torch.sqrt(
            x.var(-1, unbiased=False, keepdim=True) + 1e-12)
        assert image.shape == (1, 4, 12)
        torch.testing.assert_close(image[0], expected, rtol=1e-5, atol=1e-5)
        # Another clip length: the table is resampled along time.
        assert vit(clip[:, :3]).shape == (1, 12, 12)


def test_qv_bias_layout_equals_qkv_bias_with_any_key_bias():
    """UMT's q_bias/v_bias attention == a biased qkv Linear whose key bias
    is anything (softmax ignores a per-query constant); no qkv.bias."""
    torch.manual_seed(0)
    qv = Attention(16, 4, 'qv')
    assert qv.qkv.bias is None
    assert {n for n, _ in qv.named_parameters()} == {
        'qkv.weight', 'q_bias', 'v_bias', 'proj.weight', 'proj.bias'}
    with torch.no_grad():
        qv.q_bias.normal_()
        qv.v_bias.normal_()
    full = Attention(16, 4, True)
    full.load_state_dict({
        'qkv.weight': qv.qkv.weight,
        'qkv.bias': torch.cat([qv.q_bias, torch.randn(16) * 3, qv.v_bias]),
        'proj.weight': qv.proj.weight, 'proj.bias': qv.proj.bias})
    x = torch.randn(2, 7, 16)
    with torch.no_grad():
        torch.testing.assert_close(qv(x), full(x), rtol=1e-5, atol=1e-5)
    assert Attention(16, 4, False).qkv.bias is None
    with pytest.raises(ValueError, match='qkv_bias'):
        Attention(16, 4, 'kv')


def test_sinusoid_table_values():
    table = sinusoid_position_table(4, 6)
    assert table.shape == (4, 6)
    assert torch.allclose(table[0], torch.tensor([0., 1, 0, 1, 0, 1]))
    assert torch.isclose(table[2, 0], torch.sin(torch.tensor(2.)))
    assert torch.isclose(table[3, 3],
                         torch.cos(torch.tensor(3 / 10000**(2 / 6))))


def test_3d_table_is_separable():
    table = sinusoid_position_table_3d((2, 3, 4), 12).reshape(2, 3, 4, 12)
    # Width channels depend on the column only, height on the row only.
    assert torch.equal(table[0, 0, :, 8:], table[1, 2, :, 8:])
    assert torch.equal(table[0, :, 0, 4:8], table[1, :, 3, 4:8])
    assert not torch.equal(table[0, 0, 0, 8:], table[0, 0, 1, 8:])


@pytest.mark.parametrize('position_table', ['1d', '3d'])
def test_video_vit_shapes(position_table):
    vit = VideoViT(img_size=32, patch_size=8, num_frames=4, embed_dims=24,
                   depth=2, num_heads=2, position_table=position_table)
    out = vit(torch.randn(2, 4, 3, 32, 32))
    assert out.shape == (2, 4 * 16, 24)
    # A clip of another length interpolates the table instead of failing.
    assert vit(torch.randn(1, 2, 3, 32, 32)).shape == (1, 2 * 16, 24)


def test_video_vit_rejects_unknown_table():
    with pytest.raises(ValueError, match="position_table must be"):
        VideoViT(img_size=32, patch_size=8, embed_dims=24, depth=1,
                 num_heads=2, position_table='2d')
