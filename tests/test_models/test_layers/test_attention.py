"""ProjectionFreeAttention against a hand-written softmax attention."""
import torch

from tpo.models.layers import ProjectionFreeAttention


def test_values_and_skipped_keys():
    torch.manual_seed(0)
    attn = ProjectionFreeAttention(4, 2).eval()
    q, k, v = torch.randn(3, 1, 4), torch.randn(5, 1, 4), torch.randn(5, 1, 4)
    out, weights = attn(q, k, v, skip_keys=2)
    heads = []
    for h in range(2):
        qh, kh, vh = (t[:, 0, 2 * h:2 * h + 2] for t in (q, k, v))
        w = (qh @ kh.T / 2**0.5).softmax(-1)
        heads.append((w, w[:, 2:] @ vh[2:]))  # softmax over all keys
    expected = attn.out_proj(torch.cat([o for _, o in heads], -1))
    assert torch.allclose(out[:, 0], expected, atol=1e-6)
    assert torch.allclose(weights[0], (heads[0][0] + heads[1][0]) / 2,
                          atol=1e-6)
    # a padded key gets no weight
    mask = torch.tensor([[False, False, False, False, True]])
    _, masked = attn(q, k, v, key_padding_mask=mask)
    assert torch.all(masked[0, :, 4] == 0)
