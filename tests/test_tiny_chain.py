"""The quick start's chain as the paper trains (Table 16), 2 iterations per
config on the tiny world: base MLLM, stage 1, the three stage-2 runs from
stage 1, their checkpoints joined by combine_stage2_runs.py, stage 3 in its
two parts. Each run changes only what it trains; the join takes each head
from its run and averages the LoRA; stage 3 starts from exactly that; the
new configs evaluate 2 samples of their tasks."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.conftest import CONFIGS, tiny_all_heads_cfg
from tests.tiny_runs import Snapshot, short_run, to_tiny_world
from tpo.engine import build_runner
from tpo.engine.combine_runs import is_under
from tpo.engine.export import checkpoint_state_dict

pytest.importorskip('sam2')
sys.path.insert(0, str(CONFIGS.parent / 'tools'))
from model_converters import combine_stage2_runs  # noqa: E402

RUNS = ('tiny_stage2_temporal', 'tiny_stage2_mask', 'tiny_stage2_region')
# What each run trains besides LoRA and the connector.
OWN = dict(tiny_stage2_temporal=('heads.temporal',
                                 'task_tokens.tokens.temporal'),
           tiny_stage2_mask=('heads.mask.adapter', 'task_tokens.tokens.mask',
                             'box_prompt_encoder'),
           tiny_stage2_region=('heads.region', 'task_tokens.tokens.region'))


def config(name: str, world: str, root: str, previous=None) -> Config:
    """The tiny config ``name`` at the test size, from ``previous``'s work
    dir; the test splits at 2 samples (1 per source when several)."""
    cfg = Config.fromfile(str(CONFIGS / f'tpo/{name}.py'))
    cfg.model = tiny_all_heads_cfg(
        frozen_modules=tuple(cfg.model.frozen_modules),
        loss_weights=cfg.model.loss_weights.to_dict())
    cfg.load_from = osp.join(root, previous) if previous else None
    to_tiny_world(cfg.train_dataloader.dataset, world)
    tests = cfg.test_dataloader.dataset.datasets
    to_tiny_world(tests, world, indices=2 if len(tests) == 1 else 1)
    cfg.test_dataloader.update(batch_size=2, num_workers=0)
    return short_run(cfg, osp.join(root, name))


def train(cfg: Config, evaluate: bool = False):
    runner = build_runner(cfg)
    snapshot = Snapshot()
    runner.register_hook(snapshot)
    runner.train()
    metrics = runner.test() if evaluate else None
    if metrics is not None:
        assert metrics and all(np.isfinite(v) for v in metrics.values()
                               if isinstance(v, float)), metrics
    return snapshot.start, runner.model.state_dict(), metrics


@pytest.fixture(scope='module')
def chain(tiny_world, tmp_path_factory):
    root = str(tmp_path_factory.mktemp('chain'))
    train(config('tiny_mllm_base', tiny_world, root))
    train(config('tiny_stage1', tiny_world, root, 'tiny_mllm_base'))
    stage1 = checkpoint_state_dict(osp.join(root, 'tiny_stage1',
                                            'iter_2.pth'))
    runs = {}
    for name in RUNS:
        _, state, metrics = train(
            config(name, tiny_world, root, 'tiny_stage1'), evaluate=True)
        runs[name] = dict(state=state, metrics=metrics)
    combine_stage2_runs.main([
        *(str(CONFIGS / f'tpo/{name}.py') for name in RUNS),
        '--checkpoints', *(osp.join(root, name) for name in RUNS),
        '--out', osp.join(root, 'tiny_stage2')])
    start, _, metrics = train(
        config('tiny_stage3_no_conversation', tiny_world, root,
               'tiny_stage2'), evaluate=True)
    _, _, final = train(config('tiny_stage3', tiny_world, root,
                               'tiny_stage3_no_conversation'),
                        evaluate=True)
    return dict(root=root, stage1=stage1, runs=runs, stage3_start=start,
                metrics=dict(stage3_no_conversation=metrics, stage3=final))


@pytest.mark.parametrize('name', RUNS)
def test_each_stage2_run_trains_its_head_only(chain, name):
    stage1, state = chain['stage1'], chain['runs'][name]['state']
    frozen = Config.fromfile(str(CONFIGS / f'tpo/{name}.py')
                             ).model.frozen_modules
    changed = {k for k in stage1 if not torch.equal(stage1[k], state[k])}
    assert not [k for k in changed if is_under(k, frozen)]
    for path in OWN[name] + ('connector', ):
        assert any(is_under(k, [path]) for k in changed), path
    assert any('lora_' in k for k in changed)
    metrics = chain['runs'][name]['metrics']
    assert 'task_assign/Acc' in metrics


def test_the_join_takes_each_head_from_its_run_and_averages_lora(chain):
    runs = {name: run['state'] for name, run in chain['runs'].items()}
    start = chain['stage3_start']  # after load_from, before training
    for name, paths in OWN.items():
        for key, value in start.items():
            if is_under(key, paths):
                assert torch.equal(value, runs[name][key]), key
    lora = [k for k in start if 'lora_' in k]
    assert lora
    for key in lora:
        mean = torch.stack([runs[n][key].float() for n in RUNS]).mean(0)
        assert torch.equal(start[key], mean.to(start[key].dtype)), key
    with open(osp.join(chain['root'], 'tiny_stage2',
                       'stage2_combined.json')) as f:
        report = json.load(f)
    assert report['shared'] == 'mean'
    assert report['modules']['tiny_stage2_region'] == {
        'heads.region': 4, 'task_tokens.region': 1}


def test_stage3_parts_evaluate_every_task(chain):
    for part in ('stage3_no_conversation', 'stage3'):
        metrics = chain['metrics'][part]
        for key in ('refcoco/Acc@0.5', 'task_assign/Acc'):
            assert key in metrics, (part, sorted(metrics))
        assert any(k.startswith('temporal/') for k in metrics)
        assert any(k.startswith('rvos/') for k in metrics)
        assert any(k.startswith('tracking/') for k in metrics)


def test_the_joint_stage2_option_trains_every_head(chain, tiny_world):
    cfg = config('tiny_stage2', tiny_world, chain['root'], 'tiny_stage1')
    runner = build_runner(cfg)
    runner.train()
    trainable = {k for k, v in runner.model.named_parameters()
                 if v.requires_grad}
    for paths in OWN.values():
        for path in paths:
            assert any(is_under(k, [path]) for k in trainable), path
    assert not any(is_under(k, ['heads.mask.sam', 'vision_encoder'])
                   for k in trainable)
