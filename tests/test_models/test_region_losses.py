"""The two region-loss presets: the paper's MSE (default) and the release's
2 x L1 + 0.2 x GIoU over well-formed boxes, each term logged by name."""
import json
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.conftest import CONFIGS
from tests.test_engine.test_runner import region_only_cfg
from tpo.engine import build_runner
from tpo.registry import MODELS

PRESETS = Config.fromfile(str(CONFIGS / '_base_/losses/region_losses.py'))


def preset(name: str) -> dict:
    """The preset's loss configs without their ``_delete_`` flags."""
    return {key: value if value is None else
            {k: v for k, v in value.items() if k != '_delete_'}
            for key, value in PRESETS[name].to_dict().items()}


def test_release_giou_skips_inverted_boxes_as_the_release_does():
    loss = MODELS.build(dict(type='GIoULoss', loss_weight=0.2,
                             valid_only=True))
    target = torch.tensor([[0.1, 0.1, 0.5, 0.5], [0.2, 0.2, 0.6, 0.6]])
    good = torch.tensor([[0.1, 0.1, 0.5, 0.5]], requires_grad=True)
    inverted = torch.tensor([[0.6, 0.2, 0.2, 0.6]], requires_grad=True)
    # the inverted box is left out: the mean is the good box's 1 - GIoU = 0
    value = loss(torch.cat([good, inverted]), target)
    assert value.item() == pytest.approx(0.0, abs=1e-6)
    # no well-formed box: the constant 2 (x 0.2), no gradient
    none = loss(inverted, target[1:])
    none.backward()
    assert none.item() == pytest.approx(0.4)
    assert torch.count_nonzero(inverted.grad) == 0
    # without valid_only the inverted box counts (and is penalised)
    plain = MODELS.build(dict(type='GIoULoss', loss_weight=0.2))
    assert plain(inverted, target[1:]).item() > 0.2


@pytest.mark.parametrize('name', ['region_loss_paper', 'region_loss_release'])
def test_region_head_terms_are_the_preset_formula(name):
    torch.manual_seed(0)
    head = MODELS.build(dict(type='RegionHead', in_dims=8, hidden_dims=16,
                             sigmoid=False,
                             box_coder=dict(type='NormalizedBoxCoder',
                                            mode='xyxy'),
                             **preset(name)))
    from tpo.structures import TPODataSample
    samples = []
    for box in ([10., 20., 50., 60.], [0., 0., 100., 40.]):
        sample = TPODataSample(metainfo=dict(ori_shape=(100, 100)))
        sample.gt_bboxes = torch.tensor([box])
        samples.append(sample)
    embeddings = [torch.randn(1, 8), torch.randn(1, 8)]
    losses = head.loss(embeddings, {}, samples)
    codes = head(torch.cat(embeddings))
    target = torch.tensor([[.1, .2, .5, .6], [0., 0., 1., .4]])
    if name == 'region_loss_paper':
        assert set(losses) == {'loss_bbox'}
        expected = 5 * ((codes - target)**2).mean()
        assert losses['loss_bbox'].item() == pytest.approx(expected.item())
    else:
        assert set(losses) == {'loss_bbox', 'loss_iou'}
        l1 = 2 * (codes - target).abs().mean()
        assert losses['loss_bbox'].item() == pytest.approx(l1.item())
        valid = (codes[:, 2:] >= codes[:, :2]).all(-1)
        from tpo.models.losses import generalized_box_iou
        giou = 0.2 * (1 - generalized_box_iou(codes[valid],
                                              target[valid])).mean() \
            if valid.any() else torch.tensor(0.4)
        assert losses['loss_iou'].item() == pytest.approx(giou.item())


def test_recipes_default_to_the_paper_and_the_release_config_to_its_own():
    for name in ('videochat_stage2', 'llava_ov_stage3', 'videochat_stage1'):
        region = Config.fromfile(str(CONFIGS / f'tpo/{name}.py')
                                 ).model.heads.region
        assert region.loss_bbox == dict(type='MSELoss', loss_weight=5.0)
        assert region.loss_iou is None
    region = Config.fromfile(str(CONFIGS / 'tpo/videochat_tpo_release.py')
                             ).model.heads.region
    assert region.loss_bbox == dict(type='L1Loss', loss_weight=2.0)
    assert region.loss_iou == dict(type='GIoULoss', loss_weight=0.2,
                                   valid_only=True)


@pytest.mark.parametrize('name,terms', [
    ('region_loss_paper', {'region.loss_bbox'}),
    ('region_loss_release', {'region.loss_bbox', 'region.loss_iou'}),
])
def test_each_preset_trains_and_logs_its_terms_by_name(name, terms,
                                                       tiny_world, tmp_path):
    cfg = region_only_cfg(tiny_world, str(tmp_path), batch_size=2)
    cfg.model.heads.region.update(preset(name))
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    build_runner(cfg).train()
    logged = glob.glob(osp.join(str(tmp_path), '*', 'vis_data',
                                'scalars.json'))[0]
    with open(logged) as f:
        rows = [json.loads(line) for line in f]
    region = {k for row in rows for k in row if k.startswith('region.')}
    assert region == terms
    assert all(row[t] > 0 for row in rows for t in terms if t in row)


def test_the_config_guide_switch_replaces_the_loss(tmp_path):
    """docs/config_guide.md's two lines over a config with the paper's loss
    (loss_iou None there: `_delete_` lets a dict replace it)."""
    child = tmp_path / 'release_loss.py'
    child.write_text(
        f"_base_ = ['{CONFIGS / 'tpo/tiny_stage3.py'}', "
        f"'{CONFIGS / '_base_/losses/region_losses.py'}']\n"
        'model = dict(heads=dict(region=_base_.region_loss_release))\n')
    region = Config.fromfile(str(child)).model.heads.region
    assert region.loss_bbox == dict(type='L1Loss', loss_weight=2.0)
    assert region.loss_iou.type == 'GIoULoss'
    assert region.type == 'RegionHead'  # the rest of the head is kept
