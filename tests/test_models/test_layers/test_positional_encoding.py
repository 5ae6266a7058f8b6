"""Sine positions of clips and spans, by hand."""
import math

import torch

from tpo.models.layers import (LearnedPositionalEncoding, interleaved_sine,
                               normalized_sine_positions, span_sine_embedding)


def test_interleaved_sine_values():
    table = interleaved_sine(torch.tensor([0., 1., 2.]), 4)
    # channels: sin(x), cos(x), sin(x / 100), cos(x / 100)
    x = torch.tensor([0., 1., 2.])
    expected = torch.stack([x.sin(), x.cos(), (x / 100).sin(),
                            (x / 100).cos()], -1)
    assert torch.allclose(table, expected)


def test_positions_of_valid_clips_are_normalised_to_two_pi():
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    pos = normalized_sine_positions(mask, 2)
    # the last valid clip sits at 2 pi (sin 0, cos 1); padding repeats it
    assert torch.allclose(pos[0, 1], torch.tensor([0., 1.]), atol=1e-5)
    assert torch.allclose(pos[1, 1], torch.tensor([math.sin(math.pi),
                                                   math.cos(math.pi)]),
                          atol=1e-5)
    assert torch.allclose(pos[0, 3], pos[0, 1])


def test_span_embedding_encodes_center_then_width():
    spans = torch.tensor([[0.25, 0.5]])
    emb = span_sine_embedding(spans, 4)
    expected = torch.cat([interleaved_sine(torch.tensor([0.5 * math.pi]), 2),
                          interleaved_sine(torch.tensor([math.pi]), 2)], -1)
    assert torch.allclose(emb, expected)


def test_learned_positions_are_added_before_the_norm():
    layer = LearnedPositionalEncoding(5, 4, dropout=0.0)
    x = torch.zeros(2, 3, 4)
    ids = torch.arange(3)
    expected = layer.LayerNorm(layer.position_embeddings(ids))
    assert torch.allclose(layer(x), expected.expand(2, 3, 4))
