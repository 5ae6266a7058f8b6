"""MLPTemporalHead (Table 11's simple head)."""
import math

import pytest
import torch
from torch import nn

from tests.test_models.temporal_helpers import (VISION_DIMS, build_head,
                                                cgdetr_cfg,
                                                embeddings, mllm_inputs,
                                                temporal_sample)


def test_mlp_head_with_per_clip_saliency():
    head = build_head(dict(type='MLPTemporalHead', vision_dims=VISION_DIMS,
                           loss_weight=0.5))
    assert type(head).__name__ == 'MLPTemporalHead'
    assert head.loss_weight == 0.5
    assert head.with_saliency  # vision_dims known: per-clip saliency
    assert head.extra_inputs == ('visual_tokens', 'frames')
    samples = [temporal_sample(windows=((2., 5.), (6., 8.))),
               temporal_sample(windows=((0., 3.), ))]
    emb = embeddings(2)
    losses = head.loss(emb, mllm_inputs(2), samples)
    assert set(losses) == {'loss_span', 'loss_giou', 'loss_saliency'}
    assert all(v > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert all(e.grad.abs().sum() > 0 for e in emb)
    head.eval().predict([e.detach() for e in emb], mllm_inputs(2), samples)
    windows = samples[0].pred_windows
    assert windows.shape == (1, 3)
    assert 0 <= windows[0, 0] <= windows[0, 1] <= 8.
    assert samples[0].pred_saliency.shape == (4, )
    # the type alone also works (no saliency without vision_dims)
    plain = build_head(dict(type='MLPTemporalHead'))
    assert not plain.with_saliency and plain.extra_inputs == ()
    zero = plain.loss(embeddings(1), {}, [temporal_sample(windows=())])
    assert all(v == 0 and not torch.isnan(v) for v in zero.values())
    with pytest.raises(TypeError, match='unexpected'):
        build_head(dict(type='MLPTemporalHead', hidden_dim=3))
    # CG-DETR's settings are not the MLP's: a swap replaces the whole head
    # config (no argument is silently ignored)
    with pytest.raises(TypeError, match='unexpected keyword argument'):
        build_head(dict(cgdetr_cfg(), type='MLPTemporalHead'))


def test_mlp_head_start_end_mode_by_hand():
    head = build_head(
        dict(type='MLPTemporalHead', hidden_dims=4, dropout=0.,
             span_coder=dict(type='SpanCoder', mode='xx'),
             loss_span=dict(type='SpanL1Loss', loss_weight=1.),
             loss_giou=dict(type='SpanGIoULoss', loss_weight=1.)))
    last = head.temporal_embed[-1]
    nn.init.zeros_(last.weight)
    with torch.no_grad():
        last.bias.copy_(torch.tensor([0., math.log(3)]))  # (0.5, 0.75)
    losses = head.loss(embeddings(1), {},
                       [temporal_sample(windows=((0., 4.), ), duration=8.)])
    # target (0, 0.5): L1 = (.5 + .25) / 2; GIoU of [.5,.75] vs [0,.5]:
    # IoU 0, hull .75, union .75 -> 0
    assert math.isclose(losses['loss_span'].item(), 0.375, rel_tol=1e-6)
    assert math.isclose(losses['loss_giou'].item(), 1.0, rel_tol=1e-6)
