"""Encoder, connector, coder, losses and checkpoint-key adaptation."""
import pytest
import torch

from tests.conftest import tiny_model_cfg
from tpo.models.encoders.video_vit import (VideoViT, sinusoid_position_table,
                                           sinusoid_position_table_3d)
from tpo.models.losses import GIoULoss, generalized_box_iou
from tpo.models.task_modules import NormalizedBoxCoder
from tpo.registry import MODELS


def test_sinusoid_table_values():
    table = sinusoid_position_table(4, 6)
    assert table.shape == (4, 6)
    assert torch.allclose(table[0], torch.tensor([0., 1, 0, 1, 0, 1]))
    assert torch.isclose(table[2, 0], torch.sin(torch.tensor(2.)))
    assert torch.isclose(table[3, 3], torch.cos(torch.tensor(3 / 10000**(2 / 6))))


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


def test_qformer_connector_uses_instruction():
    connector = MODELS.build(dict(
        type='QFormerConnector', vision_dims=24, llm_dims=16, num_queries=3,
        qformer=dict(hidden_size=32, num_hidden_layers=1,
                     num_attention_heads=4, intermediate_size=64,
                     vocab_size=20, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)))
    visual = torch.randn(2, 10, 24)
    plain = connector(visual)
    assert plain.shape == (2, 3, 16)
    ids = torch.tensor([[1, 2, 3], [4, 5, 0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    steered = connector(visual, ids, mask)
    assert steered.shape == (2, 3, 16)
    assert not torch.allclose(plain, steered)


def test_box_coder_roundtrip_and_values():
    coder = NormalizedBoxCoder('cxcywh')
    boxes = torch.tensor([[10., 20., 50., 60.]])
    codes = coder.encode(boxes, (100, 200))
    assert torch.allclose(codes, torch.tensor([[0.15, 0.4, 0.2, 0.4]]))
    assert torch.allclose(coder.decode(codes, (100, 200)), boxes)
    xyxy = NormalizedBoxCoder('xyxy')
    assert torch.allclose(xyxy.encode(boxes, (100, 200)),
                          torch.tensor([[0.05, 0.2, 0.25, 0.6]]))
    with pytest.raises(ValueError, match='mode'):
        NormalizedBoxCoder('xywh')


def test_giou_values():
    a = torch.tensor([[0., 0., 2., 2.], [0., 0., 1., 1.]])
    b = torch.tensor([[1., 1., 3., 3.], [0., 0., 1., 1.]])
    giou = generalized_box_iou(a, b)
    # IoU 1/7, hull 9, union 7 -> 1/7 - 2/9
    assert torch.allclose(giou, torch.tensor([1 / 7 - 2 / 9, 1.]), atol=1e-6)
    assert torch.isclose(GIoULoss(loss_weight=2.)(a, b),
                         2 * (1 - giou).mean())


def test_plain_llm_checkpoint_loads_into_lora_model():
    """A stage trained without LoRA (or released weights) loads into the
    LoRA-wrapped model: no LLM weight is missing or unexpected."""
    torch.manual_seed(0)
    plain = MODELS.build(tiny_model_cfg(lora=None))
    lora_cfg = tiny_model_cfg()
    torch.manual_seed(1)
    wrapped = MODELS.build(lora_cfg)
    result = wrapped.load_state_dict(plain.state_dict(), strict=False)
    assert not result.unexpected_keys
    assert all('lora_' in k or 'trainable_tokens_delta' in k
               for k in result.missing_keys), result.missing_keys
    name = 'llm.model.layers.0.self_attn.q_proj.weight'
    wrapped_name = 'llm.base_model.model.model.layers.0.self_attn.q_proj.' \
        'base_layer.weight'
    assert torch.equal(wrapped.state_dict()[wrapped_name],
                       plain.state_dict()[name])
