"""The heads' MLP and the ViT feed-forward block, under released names:
their outputs on hand-set weights, against values computed by hand."""
import math

import torch
import torch.nn.functional as F

from tpo.models.layers import MLP, FeedForward


def set_linear(layer: torch.nn.Linear, weight, bias) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))


def test_mlp_is_linear_layers_with_relu_between():
    torch.manual_seed(0)
    mlp = MLP(4, 8, 2, num_layers=3)
    assert [k for k in mlp.state_dict()] == [
        f'layers.{i}.{p}' for i in range(3) for p in ('weight', 'bias')]
    assert [(m.in_features, m.out_features) for m in mlp.layers] == [
        (4, 8), (8, 8), (8, 2)]
    x = torch.randn(5, 4)
    a, b, c = mlp.layers
    torch.testing.assert_close(mlp(x), c(F.relu(b(F.relu(a(x))))))
    assert (mlp(x) < 0).any()  # no activation after the last layer


def test_mlp_on_hand_set_weights():
    mlp = MLP(2, 2, 1, num_layers=2)
    set_linear(mlp.layers[0], [[1., -1.], [2., 0.]], [0., -1.])
    set_linear(mlp.layers[1], [[1., 3.]], [0.5])
    x = torch.tensor([[1., 2.], [3., 1.], [-1., 0.]])
    # hidden: [-1, 1] -> relu [0, 1]; [2, 5]; [-1, -3] -> relu [0, 0]
    # out: 0 + 3 + 0.5; 2 + 15 + 0.5; 0.5 (the bias alone, no residual)
    torch.testing.assert_close(mlp(x), torch.tensor([[3.5], [17.5], [0.5]]))
    # the last layer is linear: a negative output stays negative
    set_linear(mlp.layers[1], [[-1., -1.]], [0.])
    torch.testing.assert_close(mlp(x), torch.tensor([[-1.], [-7.], [0.]]))


def test_a_one_layer_mlp_is_one_linear_map():
    mlp = MLP(2, 99, 2, num_layers=1)
    (layer, ) = mlp.layers
    set_linear(layer, [[1., 0.], [0., -2.]], [0., -1.])
    torch.testing.assert_close(mlp(torch.tensor([[-3., 4.]])),
                               torch.tensor([[-3., -9.]]))


def test_feed_forward_is_fc1_gelu_fc2():
    torch.manual_seed(0)
    block = FeedForward(4, 16)
    assert list(block.state_dict()) == ['fc1.weight', 'fc1.bias',
                                        'fc2.weight', 'fc2.bias']
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(block(x), block.fc2(F.gelu(block.fc1(x))))


def test_feed_forward_on_hand_set_weights():
    """Exact (erf) GELU, no residual, no dropout (train mode is
    deterministic)."""
    block = FeedForward(2, 3)
    set_linear(block.fc1, [[1., 0.], [0., 1.], [1., 1.]], [0., 0., -1.])
    set_linear(block.fc2, [[1., 0., 0.], [0., 1., 1.]], [0., 0.5])
    x = torch.tensor([[1., -1.]])

    def gelu(v: float) -> float:
        return v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))

    # hidden: [1, -1, -1] -> GELU; out: [g(1), g(-1) + g(-1) + 0.5]
    expected = torch.tensor([[gelu(1.), 2 * gelu(-1.) + 0.5]])
    torch.testing.assert_close(expected, torch.tensor([[0.841345, 0.182689]]),
                               atol=1e-6, rtol=0)
    block.train()
    torch.testing.assert_close(block(x), expected)
    torch.testing.assert_close(block(x), block(x))
    # zero output weights give the bias alone: the input is not added back
    set_linear(block.fc2, [[0.] * 3, [0.] * 3], [0., 0.])
    torch.testing.assert_close(block(x), torch.zeros(1, 2))
