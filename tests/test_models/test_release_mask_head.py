"""The release's mask-head training terms: L1 between the adapter tokens and
SAM2's box tokens, plus an L1 box regressed raw by ``track_embed_decode2``
(``aux_box``, no sigmoid)."""
import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('sam2')

from tpo.models.heads import SAM2MaskHead  # noqa: E402
from tpo.structures import TPODataSample  # noqa: E402


@pytest.mark.parametrize('sigmoid', [False, True])
def test_aux_box_is_raw_in_the_release(sigmoid):
    torch.manual_seed(0)
    head = SAM2MaskHead(
        in_dims=16, model_cfg='configs/sam2.1/sam2.1_hiera_t.yaml',
        image_size=64, hidden_dims=16,
        loss_aux_bbox=dict(type='L1Loss', loss_weight=1.0),
        aux_box_sigmoid=sigmoid)
    emb = torch.randn(1, 16)
    box = torch.tensor([0.1, 0.2, 0.5, 0.7])
    sample = TPODataSample(metainfo=dict(ori_shape=(100, 100)))
    sample.prompt_bboxes = torch.tensor([[10., 20., 50., 70.]])
    losses = head.loss([emb], {}, [sample])
    pred = head.aux_box(emb)[0]
    pred = pred.sigmoid() if sigmoid else pred
    assert losses['loss_aux_bbox'].item() == pytest.approx(
        F.l1_loss(pred, box).item(), rel=1e-5)
    target = head.box_prompt(box)
    assert losses['loss_distill'].item() == pytest.approx(
        F.l1_loss(head(emb), target).item(), rel=1e-5)
