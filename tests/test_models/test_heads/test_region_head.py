"""RegionHead on tiny tensors: codes, losses and decoded boxes by hand."""
import pytest
import torch
from torch import nn

from tpo.models.heads import RegionHead
from tpo.structures import TPODataSample


def head_with_output(codes, **kwargs):
    """A head whose MLP outputs ``codes`` (pre-sigmoid) for any input."""
    head = RegionHead(in_dims=2, hidden_dims=3, **kwargs)
    nn.init.zeros_(head.mlp[2].weight)
    with torch.no_grad():
        head.mlp[2].bias.copy_(torch.tensor(codes))
    return head


def sample(boxes, shape=(100, 200)):
    s = TPODataSample(metainfo=dict(ori_shape=shape, video_path='v.mp4'))
    s.gt_bboxes = torch.tensor(boxes, dtype=torch.float)
    return s


def test_mse_loss_on_normalised_centre_size_codes():
    # sigmoid(0) = 0.5 everywhere: the box (50, 25, 150, 75) of a 200 x 100
    # frame, whose codes are (0.5, 0.5, 0.5, 0.5)
    head = head_with_output([0., 0., 0., 0.],
                            loss_bbox=dict(type='MSELoss', loss_weight=5.0))
    exact = head.loss([torch.randn(1, 2)], {},
                      [sample([[50., 25., 150., 75.]])])
    assert exact['loss_bbox'].item() == pytest.approx(0.0, abs=1e-7)
    # GT (0, 0, 100, 50): codes (0.25, 0.25, 0.5, 0.5); squared errors
    # .0625 .0625 0 0 -> mean .03125, times 5
    off = head.loss([torch.randn(1, 2)], {}, [sample([[0., 0., 100., 50.]])])
    assert off['loss_bbox'].item() == pytest.approx(5 * 0.03125)
    assert 'loss_iou' not in off


def test_giou_term_and_one_box_per_task_token():
    head = head_with_output([0., 0., 0., 0.],
                            loss_bbox=dict(type='L1Loss', loss_weight=1.0),
                            loss_iou=dict(type='GIoULoss', loss_weight=2.0))
    # two tokens: rows 0 and 1 of gt_bboxes; the 3rd GT row is unused
    losses = head.loss([torch.randn(2, 2)], {}, [sample(
        [[50., 25., 150., 75.], [0., 0., 100., 50.], [0., 0., 1., 1.]])])
    # L1: row 0 exact, row 1 |.25| + |.25| over 8 values
    assert losses['loss_bbox'].item() == pytest.approx(0.5 / 8)
    # GIoU of [.25,.25,.75,.75] vs [0,0,.5,.5]: IoU 1/7, hull .75^2
    giou = 1 / 7 - (0.5625 - 0.4375) / 0.5625
    assert losses['loss_iou'].item() == pytest.approx(2 * (1 - giou) / 2,
                                                      rel=1e-5)
    with pytest.raises(ValueError, match='v.mp4: 3 region tokens but only '
                       '1 gt_bboxes'):
        head.loss([torch.randn(3, 2)], {}, [sample([[0., 0., 1., 1.]])])


def test_predict_decodes_pixel_boxes_and_an_empty_call():
    head = head_with_output([0., 0., 0., 0.])
    called, silent = sample([[0., 0., 1., 1.]]), sample([[0., 0., 1., 1.]])
    head.predict([torch.randn(1, 2), torch.zeros(0, 2)], {},
                 [called, silent])
    assert torch.allclose(called.pred_bboxes,
                          torch.tensor([[50., 25., 150., 75.]]))
    assert called.pred_scores.tolist() == [1.0]
    assert silent.pred_bboxes.shape == (0, 4)
    # the release's raw xyxy output (sigmoid=False)
    raw = head_with_output([0.1, 0.2, 0.6, 0.9], sigmoid=False,
                           box_coder=dict(type='NormalizedBoxCoder',
                                          mode='xyxy'))
    out = sample([[0., 0., 1., 1.]])
    raw.predict([torch.randn(1, 2)], {}, [out])
    assert torch.allclose(out.pred_bboxes,
                          torch.tensor([[20., 20., 120., 90.]]))


def test_declared_contract():
    head = RegionHead(in_dims=4, loss_weight=0.3)
    assert head.task == 'region' and head.loss_weight == 0.3
    assert RegionHead.gt_fields == ('gt_bboxes', 'ori_shape')
    assert RegionHead.model_widths == ('in_dims', )
    assert head.extra_inputs == () and head.frozen_submodules == ()
