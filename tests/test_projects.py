"""The plugin example of projects/: a task of its own ('point': spec,
transform, head and metric in projects/point_head/), registered through
`custom_imports` and trained by the repo's runner, with nothing in tpo/
naming it."""
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config

from tests.conftest import tiny_model_cfg
from tests.test_engine.test_runner import stage3_cfg

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / 'projects/point_head/configs/tiny_point_head.py'


def as_point_samples(source):
    """A synthetic-world RefCOCO source served as 'point' samples."""
    pipeline = list(source.dataset.pipeline)
    return dict(source, dataset=dict(source.dataset, pipeline=pipeline[:2] + [
        dict(type='SetTask', task='point')] + pipeline[2:]))


def test_point_task_plugin_trains_and_is_evaluated(tiny_world, tmp_path,
                                                   monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    cfg = Config.fromfile(str(CONFIG))
    assert cfg.model.tasks == ('region', 'temporal', 'mask', 'point')
    assert cfg.model.heads == dict(point=dict(type='PointHead'))
    from projects.point_head import PointHead, PointTask
    from tpo.datasets.transforms import FormatTaskConversation
    from tpo.engine import build_runner
    from tpo.registry import MODELS, TASKS
    assert MODELS.get('PointHead') is PointHead
    assert TASKS.get('point') is PointTask

    # The pipeline phrases the task from its spec alone.
    turn = FormatTaskConversation(train=False)(dict(
        task='point', sample_idx=1, expressions=['the red cube']))[
            'conversation'][0]
    assert turn == dict(question='Where is the center of the red cube?',
                        answer='It is at <point_begin><point>.')

    # The tiny test world and model, with the plugin's task, head, data and
    # metric.
    run = stage3_cfg(tiny_world, str(tmp_path))
    run.model = tiny_model_cfg(
        tasks=cfg.model.tasks,
        heads=dict(point=dict(type='PointHead', hidden_dims=32)))
    run.train_dataloader.dataset.datasets = [as_point_samples(
        run.train_dataloader.dataset.datasets[0].dataset)]
    run.test_dataloader.dataset.datasets = [as_point_samples(
        run.test_dataloader.dataset.datasets[0])]
    run.test_evaluator = cfg.test_evaluator
    run.custom_imports = cfg.custom_imports
    runner = build_runner(run)
    tokenizer = runner.model.tokenizer
    # the plugin's tokens and template words are in the vocabulary
    for token in ('<point_begin>', '<point>', 'center', 'middle'):
        assert tokenizer.convert_tokens_to_ids(token) != \
            tokenizer.unk_token_id, token
    head = runner.model.heads.point
    before = head.mlp[0].weight.detach().clone()
    runner.train()
    assert not torch.equal(before, head.mlp[0].weight)
    metrics = runner.test()
    assert 0.0 <= metrics['point/Acc'] <= 100.0

    # No file of the package names the plugin's task.
    for path in (ROOT / 'tpo').rglob('*.py'):
        text = path.read_text()
        assert '<point_begin>' not in text and 'PointHead' not in text, path


def test_point_head_loss_and_prediction_values():
    from projects.point_head import PointHead
    from tpo.structures import TPODataSample
    torch.manual_seed(0)
    head = PointHead(in_dims=8, hidden_dims=4)
    assert head.task == 'point'
    sample = TPODataSample(metainfo=dict(ori_shape=(20, 40)))
    sample.gt_bboxes = torch.tensor([[0., 0., 20., 10.]])  # centre (10, 5)
    emb = [torch.randn(1, 8)]
    point = head(emb[0])
    expected = 5.0 * (point - torch.tensor([[0.25, 0.25]])).abs().mean()
    loss = head.loss(emb, {}, [sample])['loss_point']
    assert torch.allclose(loss, expected)
    head.predict(emb, {}, [sample])
    assert torch.allclose(sample.pred_points, point * torch.tensor([40., 20.]))


def test_point_task_as_text_is_scored_by_the_same_metric():
    from projects.point_head import PointInBoxAccuracy
    from tpo.datasets.transforms import (FormatTaskConversation,
                                         TextualizeTaskAnswer)
    from tpo.evaluation.metrics import TextAnswerMetric
    results = dict(task='point', sample_idx=0, expressions=['the cube'],
                   ori_shape=(20, 40), gt_bboxes=np.array([[0., 0., 20.,
                                                            10.]]))
    results = TextualizeTaskAnswer()(FormatTaskConversation(train=False)(
        results))
    assert results['conversation'][0]['answer'] == 'It is at [0.25,0.25].'
    metric = TextAnswerMetric(metric=dict(type='PointInBoxAccuracy'))
    assert isinstance(metric.metric, PointInBoxAccuracy)
    samples = [dict(task='point', ori_shape=(20, 40),
                    gt_bboxes=torch.tensor([[0., 0., 20., 10.]]),
                    pred_text=text)
               for text in ('it is at [ 0 . 2 5 , 0 . 2 5 ]', 'nowhere',
                            'it is at [0.9,0.9]')]
    metric.process({}, samples)
    result = metric.evaluate(3)
    assert result['point/Acc'] == 100 / 3
    assert result['point/malformed'] == 1 and result['point/answers'] == 3
