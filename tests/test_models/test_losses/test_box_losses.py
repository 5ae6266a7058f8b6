"""Box regression losses and the box GIoU on tiny tensors."""
import torch

from tpo.models.losses import GIoULoss, L1Loss, MSELoss, generalized_box_iou


def test_giou_values():
    a = torch.tensor([[0., 0., 2., 2.], [0., 0., 1., 1.]])
    b = torch.tensor([[1., 1., 3., 3.], [0., 0., 1., 1.]])
    giou = generalized_box_iou(a, b)
    # IoU 1/7, hull 9, union 7 -> 1/7 - 2/9
    assert torch.allclose(giou, torch.tensor([1 / 7 - 2 / 9, 1.]), atol=1e-6)
    assert torch.isclose(GIoULoss(loss_weight=2.)(a, b),
                         2 * (1 - giou).mean())


def test_mse_and_l1_are_weighted_means():
    pred = torch.tensor([[0.1, 0.2, 0.5, 0.9]])
    target = torch.tensor([[0.0, 0.4, 0.5, 0.5]])
    # squared errors .01 .04 0 .16 -> mean .0525; absolute .1 .2 0 .4 -> .175
    assert torch.isclose(MSELoss(loss_weight=5.0)(pred, target),
                         torch.tensor(5 * 0.0525))
    assert torch.isclose(L1Loss(loss_weight=2.0)(pred, target),
                         torch.tensor(0.35))
