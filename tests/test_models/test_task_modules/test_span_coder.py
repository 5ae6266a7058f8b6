"""SpanCoder and the 1-D IoU geometry."""
import pytest
import torch

from tpo.models.task_modules import SpanCoder, generalized_span_iou


def test_span_coder_encode_decode():
    coder = SpanCoder('cxw')
    windows = torch.tensor([[2., 6.], [0., 8.]])
    codes = coder.encode(windows, 8.0)
    assert torch.allclose(codes, torch.tensor([[0.5, 0.5], [0.5, 1.0]]))
    assert torch.allclose(coder.decode(codes, 8.0), windows)
    # (0.05, 0.3) -> (-0.1, 0.2): clipped to the video
    assert torch.allclose(coder.decode(torch.tensor([[0.05, 0.3]]), 10.),
                          torch.tensor([[0., 2.]]))
    xx = SpanCoder('xx')
    assert torch.allclose(xx.encode(windows, 8.0),
                          torch.tensor([[0.25, 0.75], [0., 1.]]))
    assert torch.allclose(xx.decode(torch.tensor([[0.7, 0.2]]), 10.),
                          torch.tensor([[2., 7.]]))  # start <= end
    with pytest.raises(ValueError):
        SpanCoder('xyxy')


def test_generalized_span_iou_values():
    a = torch.tensor([[0., 0.2], [0.5, 1.0]])
    b = torch.tensor([[0., 0.3], [0., 1.0]])
    expected = torch.tensor([[2 / 3, 0.2], [-0.2, 0.5]])
    assert torch.allclose(generalized_span_iou(a, b), expected, atol=1e-6)
