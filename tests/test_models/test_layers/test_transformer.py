"""DETR-style post-norm encoder layers, under the names released weights
use."""
import pytest
import torch
import torch.nn.functional as F

from tpo.models.layers import (InputProjectionLayer, TransformerEncoder,
                               TransformerEncoderLayer, add_post_norm_ffn)


def test_post_norm_ffn_names_one_norm_and_drop_path_per_residual():
    layer = torch.nn.Module()
    add_post_norm_ffn(layer, 8, 16, 0.1, 'relu', residuals=3)
    names = {name for name, _ in layer.named_children()}
    assert names == {'linear1', 'dropout', 'linear2', 'activation', 'norm1',
                     'norm2', 'norm3', 'dropout1', 'dropout2', 'dropout3'}
    assert layer.linear1.out_features == 16
    with pytest.raises(KeyError, match='swish'):
        add_post_norm_ffn(layer, 8, 16, 0.1, 'swish')


def test_encoder_layer_is_attention_then_ffn_each_added_and_normed():
    torch.manual_seed(0)
    layer = TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                    activation='relu').eval()
    src, pos = torch.randn(5, 3, 8), torch.randn(5, 3, 8)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[1, 3:] = True
    out = layer(src, mask, pos)
    attn = layer.self_attn(src + pos, src + pos, src,
                           key_padding_mask=mask)[0]
    x = F.layer_norm(src + attn, (8, ), layer.norm1.weight, layer.norm1.bias)
    ffn = layer.linear2(F.relu(layer.linear1(x)))
    expected = F.layer_norm(x + ffn, (8, ), layer.norm2.weight,
                            layer.norm2.bias)
    torch.testing.assert_close(out, expected)
    # keys masked out of a sample change nothing of it; other keys do
    changed = src.clone()
    changed[3:, 1] += 5
    torch.testing.assert_close(layer(changed, mask, pos)[:3, 1], out[:3, 1])
    assert not torch.allclose(layer(changed, None, pos)[:3, 1], out[:3, 1])

def test_encoder_stacks_independent_copies():
    torch.manual_seed(0)
    layer = TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    encoder = TransformerEncoder(layer, 2).eval()
    first, second = encoder.layers
    assert first is not layer and first.linear1.weight is not \
        second.linear1.weight
    src = torch.randn(4, 2, 8)
    torch.testing.assert_close(encoder(src), second(first(src)))


def test_input_projection_layer():
    torch.manual_seed(0)
    proj = InputProjectionLayer(6, 4, dropout=0.0).eval()
    x = torch.randn(2, 3, 6)
    linear = proj.net[1]
    expected = F.relu(linear(F.layer_norm(x, (6, ), proj.LayerNorm.weight,
                                          proj.LayerNorm.bias)))
    torch.testing.assert_close(proj(x), expected)
    plain = InputProjectionLayer(6, 4, layer_norm=False, relu=False,
                                 dropout=0.0).eval()
    torch.testing.assert_close(plain(x), plain.net[1](x))
