"""The plugin example of projects/: a head in one file, registered through
`custom_imports` and trained by the repo's runner."""
from pathlib import Path

import torch
from mmengine.config import Config

from tests.test_engine.test_runner import stage3_cfg

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / 'projects/point_head/configs/tiny_point_head.py'


def test_point_head_plugin_trains_and_is_evaluated(tiny_world, tmp_path,
                                                   monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    cfg = Config.fromfile(str(CONFIG))
    assert cfg.model.heads.region == dict(type='PointHead')
    from projects.point_head.point_head import PointHead
    from tpo.engine import build_runner
    from tpo.registry import MODELS
    assert MODELS.get('PointHead') is PointHead

    # The tiny test world and model, with the plugin's head and metric.
    run = stage3_cfg(tiny_world, str(tmp_path))
    run.model.heads = dict(region=dict(type='PointHead', hidden_dims=32))
    run.train_dataloader.dataset.datasets = [
        run.train_dataloader.dataset.datasets[0]]
    run.test_evaluator = cfg.test_evaluator
    run.custom_imports = cfg.custom_imports
    runner = build_runner(run)
    head = runner.model.heads.region
    before = head.mlp[0].weight.detach().clone()
    runner.train()
    assert not torch.equal(before, head.mlp[0].weight)
    metrics = runner.test()
    assert 0.0 <= metrics['point/Acc'] <= 100.0
    assert all(k.startswith('point/') for k in metrics)


def test_point_head_loss_and_prediction_values():
    from projects.point_head.point_head import PointHead
    from tpo.structures import TPODataSample
    torch.manual_seed(0)
    head = PointHead(in_dims=8, hidden_dims=4)
    sample = TPODataSample(metainfo=dict(ori_shape=(20, 40)))
    sample.gt_bboxes = torch.tensor([[0., 0., 20., 10.]])  # centre (10, 5)
    emb = [torch.randn(1, 8)]
    point = head(emb[0])
    expected = 5.0 * (point - torch.tensor([[0.25, 0.25]])).abs().mean()
    loss = head.loss(emb, {}, [sample])['loss_point']
    assert torch.allclose(loss, expected)
    head.predict(emb, {}, [sample])
    assert torch.allclose(sample.pred_points, point * torch.tensor([40., 20.]))
