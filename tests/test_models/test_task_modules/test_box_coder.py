"""NormalizedBoxCoder."""
import pytest
import torch

from tpo.models.task_modules import NormalizedBoxCoder


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
