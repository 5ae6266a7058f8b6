"""The heads' MLP and the ViT feed-forward block, under released names."""
import torch
import torch.nn.functional as F

from tpo.models.layers import MLP, FeedForward


def test_mlp_is_linear_layers_with_relu_between():
    torch.manual_seed(0)
    mlp = MLP(4, 8, 2, num_layers=3)
    assert [k for k in mlp.state_dict()] == [
        f'layers.{i}.{p}' for i in range(3) for p in ('weight', 'bias')]
    x = torch.randn(5, 4)
    a, b, c = mlp.layers
    torch.testing.assert_close(mlp(x), c(F.relu(b(F.relu(a(x))))))
    assert (mlp(x) < 0).any()  # no activation after the last layer


def test_feed_forward_is_fc1_gelu_fc2():
    torch.manual_seed(0)
    block = FeedForward(4, 16)
    assert list(block.state_dict()) == ['fc1.weight', 'fc1.bias',
                                        'fc2.weight', 'fc2.bias']
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(block(x), block.fc2(F.gelu(block.fc1(x))))
