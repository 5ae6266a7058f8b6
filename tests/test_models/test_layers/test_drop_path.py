"""SequenceDropPath: mmcv's DropPath over the batch of (L, B, D) tensors."""
import torch

from tpo.models.layers import SequenceDropPath


def test_one_draw_per_sample_scaled_by_the_keep_rate():
    drop = SequenceDropPath(0.5).train()
    x = torch.ones(3, 8, 2)
    torch.manual_seed(0)
    out = drop(x)
    torch.manual_seed(0)
    keep = (0.5 + torch.rand(8)).floor()  # what mmcv draws, per sample
    assert torch.equal(out, x / 0.5 * keep[None, :, None])
    # every position and channel of a sample shares its draw
    assert set(out[:, keep == 0].unique().tolist()) == {0.0}
    assert set(out[:, keep == 1].unique().tolist()) == {2.0}
    assert torch.equal(drop.eval()(x), x)
    assert torch.equal(SequenceDropPath(0.0).train()(x), x)
