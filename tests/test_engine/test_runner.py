"""The tiny model trained by mmengine's Runner through the real configs."""
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from tests.conftest import CONFIGS, tiny_model_cfg
from tpo.engine import build_runner, resolve_checkpoint
from tpo.registry import HOOKS

MAX_ITERS = 4


@HOOKS.register_module(force=True)
class StopAfter(Hook):
    """Simulate a job killed right after iteration ``n`` (and its
    checkpoint)."""

    priority = 'LOWEST'

    def __init__(self, n):
        self.n = n

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.n:
            raise KeyboardInterrupt('stopped')


def stage3_cfg(world: str, work_dir: str) -> Config:
    cfg = Config.fromfile(str(CONFIGS / 'tpo/tiny_stage3.py'))
    cfg.model = tiny_model_cfg()
    cfg.load_from = None
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=MAX_ITERS,
                         val_interval=MAX_ITERS)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=2),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=2,
             end=MAX_ITERS)
    ]
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    for loader in ('train_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=2, num_workers=0,
                           persistent_workers=False)
        for source in cfg[loader].dataset.datasets:
            if source.type == 'RepeatDataset':
                source = source.dataset
            source.data_root = world
            source.world = dict(num_videos=dict(train=6, val=3), seed=0)
            source.dataset.data_root = world
            for t in source.dataset.pipeline:
                if t.type == 'ResizeFrames':
                    t.size = (32, 32)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.randomness = dict(seed=0, deterministic=False)
    return cfg


def trainable_state(runner) -> dict:
    return {n: p.detach().clone()
            for n, p in runner.model.named_parameters() if p.requires_grad}


def test_resume_matches_uninterrupted_run(tiny_world, tmp_path):
    full = build_runner(stage3_cfg(tiny_world, str(tmp_path / 'full')))
    full.train()
    expected = trainable_state(full)

    work_dir = str(tmp_path / 'stopped')
    cfg = stage3_cfg(tiny_world, work_dir)
    cfg.custom_hooks = [dict(type='StopAfter', n=2)]
    with pytest.raises(KeyboardInterrupt):
        build_runner(cfg).train()
    assert osp.basename(resolve_checkpoint(work_dir)) == 'iter_2.pth'

    cfg = stage3_cfg(tiny_world, work_dir)
    cfg.resume = True
    resumed = build_runner(cfg)
    resumed.train()
    assert resumed.iter == MAX_ITERS
    actual = trainable_state(resumed)
    assert actual.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name],
                                   msg=f'{name} differs after resume')
    # Training changed the weights (the comparison is not vacuous).
    first = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=False)
    name = 'heads.region.mlp.0.weight'
    assert not torch.equal(first['state_dict'][name], expected[name])


def test_missing_previous_stage_fails_before_work(tiny_world, tmp_path):
    cfg = stage3_cfg(tiny_world, str(tmp_path / 'w'))
    cfg.load_from = str(tmp_path / 'no_stage2_here')
    with pytest.raises(FileNotFoundError, match='load_from=.*no_stage2_here'):
        build_runner(cfg)


def test_test_tool_writes_predictions_and_metrics(tiny_world, tmp_path):
    import sys
    sys.path.insert(0, str(CONFIGS.parent / 'tools'))
    import test as test_tool
    work_dir = str(tmp_path / 'train')
    build_runner(stage3_cfg(tiny_world, work_dir)).train()
    cfg = stage3_cfg(tiny_world, work_dir)
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    out = str(tmp_path / 'preds.json')
    submission = tmp_path / 'submission'
    metrics = test_tool.main([cfg_path, work_dir, '--work-dir',
                              str(tmp_path / 'test'), '--out', out,
                              '--submission-dir', str(submission)])
    assert 'refcoco/Acc@0.5' in metrics and 'task_assign/Acc' in metrics
    with open(tmp_path / 'test' / 'metrics.json') as f:
        assert json.load(f) == pytest.approx(metrics)
    # The temporal samples of the test set, as a QVHighlights submission
    # (the tiny model has no temporal head: no window is predicted).
    rows = [json.loads(line) for line in
            (submission / 'qvhighlights_submission.jsonl').open()]
    assert rows and all(r['pred_relevant_windows'] == [] for r in rows)
    with open(out) as f:
        preds = json.load(f)
    tasks = {p['task'] for p in preds}
    assert {'region', 'mcq', 'temporal'} <= tasks
    region = [p for p in preds if p['task'] == 'region']
    assert all(len(p['gt_bboxes']) == 1 for p in region)
    assert all('pred_bboxes' in p and 'pred_text' in p for p in region)


@HOOKS.register_module()
class StopTestAfter(Hook):
    """Simulate a test job killed after its ``n``-th batch."""

    def __init__(self, n):
        self.n = n

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        if batch_idx + 1 == self.n:
            raise KeyboardInterrupt('stopped')


def test_interrupted_test_resumes_from_cached_predictions(
        tiny_world, tmp_path, monkeypatch):
    import sys
    sys.path.insert(0, str(CONFIGS.parent / 'tools'))
    import test as test_tool
    from tpo.models import TPOModel
    work_dir = str(tmp_path / 'train')
    build_runner(stage3_cfg(tiny_world, work_dir)).train()
    cfg = stage3_cfg(tiny_world, work_dir)
    cfg_path, stopped_path = str(tmp_path / 'cfg.py'), str(tmp_path / 's.py')
    cfg.dump(cfg_path)
    cfg.custom_hooks = [dict(type='StopTestAfter', n=2)]
    cfg.dump(stopped_path)
    calls = []
    real = TPOModel.test_step
    monkeypatch.setattr(TPOModel, 'test_step',
                        lambda self, data: calls.append(1) or real(self, data))
    test_dir = str(tmp_path / 'test')
    with pytest.raises(KeyboardInterrupt):
        test_tool.main([stopped_path, work_dir, '--work-dir', test_dir])
    cache = osp.join(test_dir, 'prediction_cache', 'rank0')
    assert sorted(f for f in os.listdir(cache) if f.endswith('.pt')) == [
        'batch_000000.pt', 'batch_000001.pt']
    calls.clear()
    resumed = test_tool.main([cfg_path, work_dir, '--work-dir', test_dir])
    num_batches = len(calls) + 2  # the two cached batches were not predicted
    assert not osp.exists(cache)  # done: nothing left to resume
    calls.clear()
    fresh = test_tool.main([cfg_path, work_dir, '--work-dir', test_dir,
                            '--no-resume'])
    assert len(calls) == num_batches
    assert resumed == pytest.approx(fresh)
