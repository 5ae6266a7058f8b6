"""DeepSpeed ZeRO-2/3 and FSDP on CPU: two gloo processes per run, through
tools/dist_train.sh --strategy, on the tiny model (``stage3_cfg``).

Each run is made once per module (fixtures) and shared by the assertions.
DeepSpeed compiles its shared-memory comm op into TORCH_EXTENSIONS_DIR the
first time on a machine (~1 min on 2 cores); later runs reuse it.
"""
import copy
import json
import math
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from tests.conftest import CONFIGS
from tests.test_engine.test_runner import MAX_ITERS, stage3_cfg
from tpo.registry import HOOKS

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS_DIR = os.environ.get(
    'TORCH_EXTENSIONS_DIR',
    osp.join(osp.expanduser('~'), '.cache', 'tpo_torch_extensions'))
BASE_LR = 5e-4
LR_MULT = {'connector': 5.0, 'heads': 5.0, 'task_tokens': 5.0}
ZERO3_ITERS = 6


@HOOKS.register_module(force=True)
class RecordTrainStart(Hook):
    """At the start of training, write what the strategy built: per group
    of the optimizer its hyper-parameters and parameter names
    (``param_groups.json``), and the model weights
    (``initial.safetensors``, gathered like SafetensorsCheckpointHook does)."""

    def before_train(self, runner):
        from mmengine.dist import is_main_process

        from tpo.engine.hooks.safetensors_checkpoint_hook import (
            SafetensorsCheckpointHook, save_safetensors)
        optimizer = runner.optim_wrapper.optimizer
        names = {id(p): n for n, p in runner.model.module.named_parameters()}
        if hasattr(optimizer, 'bit16_groups'):  # ZeRO-1/2
            members = optimizer.bit16_groups
        elif hasattr(optimizer, 'fp16_groups'):  # ZeRO-3: sub-groups
            members = [[] for _ in optimizer.param_groups]
            for sub, params in enumerate(optimizer.fp16_groups):
                members[optimizer.sub_group_to_group_id[sub]] += params
        else:
            members = [g['params'] for g in optimizer.param_groups]
        groups = [
            dict(lr=group['lr'], initial_lr=group['initial_lr'],
                 weight_decay=group['weight_decay'],
                 params=sorted(names[id(p)] for p in params))
            for group, params in zip(optimizer.param_groups, members)
        ]
        state_dict = SafetensorsCheckpointHook()._gather_state_dict(runner)
        if is_main_process():
            with open(osp.join(runner.work_dir, 'param_groups.json'),
                      'w') as f:
                json.dump(dict(optimizer=type(optimizer).__name__,
                               groups=groups), f)
            save_safetensors(state_dict,
                             osp.join(runner.work_dir, 'initial.safetensors'))


@HOOKS.register_module(force=True)
class RecordBatchTasks(Hook):
    """Write the tasks of every training batch of each rank
    (``tasks_rank{rank}.json``: one list of sample tasks per iteration)."""

    def before_train(self, runner):
        self.tasks = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.tasks.append([s.task for s in data_batch['data_samples']])

    def after_train(self, runner):
        from mmengine.dist import get_rank
        with open(osp.join(runner.work_dir, f'tasks_rank{get_rank()}.json'),
                  'w') as f:
            json.dump(self.tasks, f)


def tiny_cfg(world: str, work_dir: str) -> Config:
    """The tiny stage-3 config with a frozen vision encoder and the hook
    above."""
    cfg = stage3_cfg(world, work_dir)
    cfg.model.frozen_modules = ['vision_encoder']
    cfg.custom_hooks.append(dict(type='RecordTrainStart'))
    cfg.custom_imports = dict(imports=['tests.test_engine.test_deepspeed'],
                              allow_failed_imports=False)
    return cfg


def launch(cfg: Config, work_dir: Path, strategy: Optional[str],
           port: int, *args: str, timeout: int = 900) -> str:
    """Train ``cfg`` with two processes and ``--strategy`` (the config's
    own strategy when None); the log."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir.parent / f'{work_dir.name}_cfg.py'
    cfg.dump(str(config))
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT=str(port),
               PYTHONPATH=str(ROOT), TORCH_EXTENSIONS_DIR=EXTENSIONS_DIR)
    run = subprocess.run(
        ['bash', str(ROOT / 'tools/dist_train.sh'), str(config), '2',
         '--work-dir', str(work_dir),
         *(['--strategy', strategy] if strategy else []), *args],
        cwd=str(work_dir.parent), env=env, capture_output=True, text=True,
        timeout=timeout)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-5000:]
    return log


def losses(work_dir: Path) -> dict:
    """``{iter: loss}`` of the run's scalars.json."""
    found = sorted(work_dir.glob('*/vis_data/scalars.json'))
    assert found, f'no scalars.json in {work_dir}'
    out = {}
    for path in found:
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if 'loss' in row:
                out[row['iter']] = row['loss']
    return out


def load_safetensors(path) -> dict:
    from safetensors.torch import load_file
    return load_file(str(path))


def assert_same_weights(actual: dict, expected: dict, **tol) -> None:
    assert actual.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name],
                                   msg=f'{name} differs', **tol)


@pytest.fixture(scope='module')
def runs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('strategies')


@pytest.fixture(scope='module')
def zero2(tiny_world, runs) -> Path:
    work_dir = runs / 'zero2'
    launch(tiny_cfg(tiny_world, str(work_dir)), work_dir,
           'deepspeed_zero2', 29641)
    return work_dir


@pytest.fixture(scope='module')
def zero2_resumed(tiny_world, runs, zero2) -> Path:
    """The ZeRO-2 run again, killed after its iteration-2 checkpoint (the
    work dir holds that checkpoint only) and continued with --resume."""
    work_dir = runs / 'zero2_resumed'
    work_dir.mkdir()
    shutil.copytree(zero2 / 'iter_2.pth', work_dir / 'iter_2.pth')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_2.pth'))
    log = launch(tiny_cfg(tiny_world, str(work_dir)), work_dir,
                 'deepspeed_zero2', 29642, '--resume')
    assert 'resumed epoch: 0, iter: 2' in log, log[-3000:]
    return work_dir


@pytest.fixture(scope='module')
def zero2_loaded(tiny_world, runs, zero2) -> Path:
    """One ZeRO-2 iteration starting (load_from) from the first run's last
    checkpoint folder, as the next training stage would."""
    work_dir = runs / 'zero2_loaded'
    cfg = tiny_cfg(tiny_world, str(work_dir))
    cfg.load_from = str(zero2)  # its work dir: the last checkpoint
    cfg.train_cfg.max_iters = 1
    launch(cfg, work_dir, 'deepspeed_zero2', 29643)
    return work_dir


@pytest.fixture(scope='module')
def zero3(tiny_world, runs) -> Path:
    """ZeRO-3 for ZERO3_ITERS iterations, with the tasks of every rank's
    batches recorded. A rank whose batch lacks a head's task used to make
    the ranks wait on each other from the third iteration on: a hang fails
    here by the timeout."""
    work_dir = runs / 'zero3'
    cfg = tiny_cfg(tiny_world, str(work_dir))
    cfg.train_cfg.max_iters = ZERO3_ITERS
    cfg.custom_hooks.append(dict(type='RecordBatchTasks'))
    launch(cfg, work_dir, 'deepspeed_zero3', 29645, timeout=420)
    return work_dir


@pytest.fixture(scope='module')
def fsdp(tiny_world, runs) -> Path:
    work_dir = runs / 'fsdp'
    launch(tiny_cfg(tiny_world, str(work_dir)), work_dir, 'fsdp', 29644)
    return work_dir


def consolidated(path) -> dict:
    from tpo.engine import zero_checkpoint_state_dict
    return zero_checkpoint_state_dict(str(path))


def test_zero2_trains_saves_and_resumes_to_the_same_weights(
        zero2, zero2_resumed):
    from tpo.engine import resolve_checkpoint
    for step in (2, 4):
        folder = zero2 / f'iter_{step}.pth'
        assert sorted(os.listdir(folder)) == [
            'mp_rank_00_model_states.pt',
            'zero_pp_rank_0_mp_rank_00_optim_states.pt',
            'zero_pp_rank_1_mp_rank_00_optim_states.pt'
        ]
    assert resolve_checkpoint(str(zero2)) == str(zero2 / 'iter_4.pth')
    run = losses(zero2)
    assert sorted(run) == list(range(1, MAX_ITERS + 1))
    assert all(math.isfinite(v) for v in run.values())
    assert run[MAX_ITERS] < run[1]

    expected = consolidated(zero2 / f'iter_{MAX_ITERS}.pth')
    resumed = consolidated(zero2_resumed / f'iter_{MAX_ITERS}.pth')
    assert_same_weights(resumed, expected, rtol=0, atol=0)
    resumed_losses = losses(zero2_resumed)
    assert sorted(resumed_losses) == [3, 4]
    assert resumed_losses == pytest.approx({i: run[i] for i in (3, 4)},
                                           abs=1e-6)
    # Training moved the trainable weights and left the frozen ones.
    start = consolidated(zero2 / 'iter_2.pth')
    assert not torch.equal(start['heads.region.mlp.0.weight'],
                           expected['heads.region.mlp.0.weight'])
    name = 'vision_encoder.patch_embed.proj.weight'
    assert torch.equal(start[name], expected[name])


def expected_groups(world: str) -> dict:
    """``{parameter name: lr}`` of the config: base lr x the lr_mult of the
    longest custom key in the name, trainable parameters only."""
    from mmengine.registry import init_default_scope

    from tpo.registry import MODELS
    cfg = tiny_cfg(world, 'unused')
    assert cfg.optim_wrapper.optimizer.lr == BASE_LR
    assert {k: v.lr_mult for k, v in
            cfg.optim_wrapper.paramwise_cfg.custom_keys.items()} == LR_MULT
    init_default_scope('tpo')
    model = MODELS.build(cfg.model)
    lrs = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        keys = [k for k in LR_MULT if k in name]
        mult = LR_MULT[max(keys, key=len)] if keys else 1.0
        lrs[name] = BASE_LR * mult
    assert not any(n.startswith('vision_encoder') for n in lrs)
    return lrs


@pytest.mark.parametrize('run', ['zero2', 'zero3', 'fsdp'])
def test_strategy_optimizer_keeps_per_module_lrs(run, request, tiny_world):
    work_dir = request.getfixturevalue(run)
    record = json.loads((work_dir / 'param_groups.json').read_text())
    if run != 'fsdp':
        assert record['optimizer'].startswith('DeepSpeedZeroOptimizer')
    seen = {}
    for group in record['groups']:
        assert group['weight_decay'] == 0.02
        # LinearLR starts at start_factor (0.1) x the group's own lr.
        assert group['lr'] == pytest.approx(0.1 * group['initial_lr'])
        for name in group['params']:
            assert name not in seen, f'{name} is in two groups'
            seen[name] = group['initial_lr']
    expected = expected_groups(tiny_world)
    assert seen.keys() == expected.keys()  # frozen parameters absent
    assert seen == pytest.approx(expected)
    # Equal hyper-parameters are merged: one group per learning rate.
    assert len(record['groups']) == len(set(expected.values())) == 2


def test_load_from_is_loaded_before_deepspeed_initializes(zero2,
                                                         zero2_loaded):
    assert_same_weights(load_safetensors(zero2_loaded / 'initial.safetensors'),
                        consolidated(zero2 / f'iter_{MAX_ITERS}.pth'),
                        rtol=0, atol=0)


def test_zero3_trains_like_zero2_with_heads_on_some_ranks(zero3, zero2):
    names = sorted(os.listdir(zero3 / f'iter_{ZERO3_ITERS}.pth'))
    assert names == [
        'zero_pp_rank_0_mp_rank_00_model_states.pt',
        'zero_pp_rank_0_mp_rank_00_optim_states.pt',
        'zero_pp_rank_1_mp_rank_00_model_states.pt',
        'zero_pp_rank_1_mp_rank_00_optim_states.pt'
    ]
    # Iterations where one rank's batch holds region samples (the region
    # head runs there) and the other's does not.
    tasks = [json.loads((zero3 / f'tasks_rank{r}.json').read_text())
             for r in (0, 1)]
    assert len(tasks[0]) == len(tasks[1]) == ZERO3_ITERS
    region = [[('region' in batch) for batch in rank] for rank in tasks]
    assert any(a != b for a, b in zip(*region)), tasks
    run = losses(zero3)
    assert sorted(run) == list(range(1, ZERO3_ITERS + 1))
    assert all(math.isfinite(v) for v in run.values())
    # Same init, data, rates and schedule as ZeRO-2 (which runs MAX_ITERS).
    assert {i: run[i] for i in range(1, MAX_ITERS + 1)} == pytest.approx(
        losses(zero2), abs=1e-4)
    final = consolidated(zero3 / f'iter_{ZERO3_ITERS}.pth')
    # SafetensorsCheckpointHook's copy (16-bit gather; fp32 on CPU) holds
    # the same weights as the partitions.
    assert_same_weights(
        load_safetensors(zero3 / f'iter_{ZERO3_ITERS}.safetensors'), final,
        rtol=0, atol=0)
    name = 'heads.region.mlp.0.weight'
    start = load_safetensors(zero3 / 'initial.safetensors')
    assert not torch.equal(final[name], start[name])


def test_zero3_refuses_partitioned_head_weights(tiny_world, runs):
    """A head weight above stage3_param_persistence_threshold stops the
    launch, naming the threshold that fits."""
    work_dir = runs / 'zero3_small_threshold'
    cfg = tiny_cfg(tiny_world, str(work_dir))
    cfg.train_cfg.max_iters = 1
    cfg.strategy = Config.fromfile(str(
        CONFIGS / '_base_/strategies/deepspeed_zero3.py')).strategy
    cfg.strategy.zero_optimization.stage3_param_persistence_threshold = 1000
    with pytest.raises(AssertionError) as error:
        launch(cfg, work_dir, None, 29646, timeout=300)
    assert 'stage3_param_persistence_threshold to at least 2048' in str(
        error.value)


def test_fsdp_trains_like_zero2(zero2, fsdp):
    """Same init, data, per-module rates and global-norm clipping: FSDP
    and ZeRO-2 give the same losses and weights."""
    assert losses(fsdp) == pytest.approx(losses(zero2), abs=1e-4)
    from tpo.engine import load_checkpoint_file
    checkpoint = load_checkpoint_file(str(fsdp / f'iter_{MAX_ITERS}.pth'))
    weights = load_safetensors(fsdp / f'iter_{MAX_ITERS}.safetensors')
    assert_same_weights(checkpoint['state_dict'], weights, rtol=0, atol=0)
    assert_same_weights(weights,
                        consolidated(zero2 / f'iter_{MAX_ITERS}.pth'),
                        rtol=0, atol=1e-5)


def test_zero_to_tpo_gives_a_load_from_checkpoint(zero2, tiny_world,
                                                  tmp_path):
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import load_checkpoint

    from tpo.registry import MODELS
    sys.path.insert(0, str(ROOT / 'tools' / 'model_converters'))
    import zero_to_tpo
    out = tmp_path / 'zero2_fp32.safetensors'
    # A work dir stands for its last checkpoint.
    assert zero_to_tpo.main([str(zero2), str(out)]) == 0
    init_default_scope('tpo')
    model = MODELS.build(tiny_cfg(tiny_world, 'unused').model)
    hook_copy = load_safetensors(zero2 / f'iter_{MAX_ITERS}.safetensors')
    name = 'heads.region.mlp.0.weight'
    assert not torch.equal(model.state_dict()[name], hook_copy[name])
    load_checkpoint(model, str(out), strict=True)
    assert_same_weights(model.state_dict(), hook_copy, rtol=0, atol=0)
    with pytest.raises(SystemExit, match='not a DeepSpeed checkpoint'):
        zero_to_tpo.main([str(out), str(tmp_path / 'again.safetensors')])


# ---------------------------------------------------------------- launch
def ds_cfg(strategy: dict, **overrides) -> Config:
    cfg = stage3_cfg('unused', 'unused')
    cfg.strategy = strategy
    cfg.merge_from_dict(overrides)
    return cfg


def zero2_strategy(**kwargs) -> dict:
    strategy = Config.fromfile(
        str(CONFIGS / '_base_/strategies/deepspeed_zero2.py')).strategy
    strategy.update(kwargs)
    return strategy


def test_deepspeed_config_is_filled_from_the_config(monkeypatch):
    from tpo.engine import configure_strategy
    monkeypatch.setenv('WORLD_SIZE', '4')
    cfg = ds_cfg(zero2_strategy(),
                 **{'optim_wrapper.accumulative_counts': 3})
    cfg.load_from = 'work_dirs/stage2/iter_8.pth'
    before = copy.deepcopy(cfg.optim_wrapper)
    configure_strategy(cfg, on_gpu=False)
    config = cfg.strategy.config
    assert cfg.strategy.type == 'tpo.TPODeepSpeedStrategy'
    assert (config['train_micro_batch_size_per_gpu'],
            config['gradient_accumulation_steps'],
            config['train_batch_size']) == (2, 3, 4 * 2 * 3)
    assert config['gradient_clipping'] == 1.0  # optim_wrapper.clip_grad
    assert config['zero_optimization']['stage'] == 2
    assert 'torch_autocast' not in config  # fp32 OptimWrapper
    # The same constructor, optimizer and per-module rates; accumulation
    # and clipping moved into the DeepSpeed config.
    assert dict(cfg.optim_wrapper) == dict(
        type='DeepSpeedOptimWrapper',
        constructor='TPOOptimWrapperConstructor',
        optimizer=before.optimizer, paramwise_cfg=before.paramwise_cfg)
    # load_from is loaded by the strategy, before DeepSpeed initializes.
    assert cfg.load_from is None
    assert cfg.strategy.load_from == 'work_dirs/stage2/iter_8.pth'


def test_deepspeed_bf16_is_autocast_with_fp32_weights():
    from tpo.engine import configure_strategy
    amp = {'optim_wrapper.type': 'AmpOptimWrapper',
           'optim_wrapper.dtype': 'bfloat16'}
    cfg = ds_cfg(zero2_strategy(), **amp, **{'model.amp_dtype': 'bfloat16'})
    configure_strategy(cfg, on_gpu=True)
    assert cfg.strategy.config['torch_autocast'] == dict(enabled=True,
                                                         dtype='bfloat16')
    assert 'bf16' not in cfg.strategy.config
    cfg = ds_cfg(zero2_strategy(), **amp)
    cfg.model.amp_dtype = None
    with pytest.raises(ValueError, match="set model.amp_dtype='bfloat16'"):
        configure_strategy(cfg, on_gpu=True)
    # 16-bit weights would break the float32 heads: refused at launch.
    cfg = ds_cfg(zero2_strategy(bf16=dict(enabled=True)), **amp,
                 **{'model.amp_dtype': 'bfloat16'})
    with pytest.raises(ValueError, match='bf16 casts every weight'):
        configure_strategy(cfg, on_gpu=True)


@pytest.mark.parametrize('json_fields, message', [
    (dict(train_micro_batch_size_per_gpu=8),
     r'train_micro_batch_size_per_gpu=8 but train_dataloader.batch_size=2'),
    (dict(gradient_accumulation_steps=4),
     r'gradient_accumulation_steps=4 but '
     r'optim_wrapper.accumulative_counts=1'),
    (dict(train_batch_size=64),
     r'train_batch_size=64 but processes \(2\) x '
     r'train_dataloader.batch_size \(2\) x '
     r'optim_wrapper.accumulative_counts \(1\)=4'),
    (dict(gradient_clipping=5.0),
     r'gradient_clipping=5.0 but optim_wrapper.clip_grad.max_norm=1.0'),
    (dict(optimizer=dict(type='AdamW', params=dict(lr=1e-3))),
     r"'optimizer' section: DeepSpeed would build its own optimizer"),
])
def test_conflicting_deepspeed_json_fails_at_launch(
        tmp_path, monkeypatch, json_fields, message):
    from tpo.engine import configure_strategy
    monkeypatch.setenv('WORLD_SIZE', '2')
    path = tmp_path / 'ds.json'
    path.write_text(json.dumps(dict(zero_optimization=dict(stage=2),
                                    **json_fields)))
    cfg = ds_cfg(zero2_strategy(config=str(path)))
    prefix = re.escape(f'DeepSpeed config {path}: ')
    with pytest.raises(ValueError, match=prefix + message):
        configure_strategy(cfg, on_gpu=False)


def test_matching_deepspeed_json_is_accepted(tmp_path, monkeypatch):
    from tpo.engine import configure_strategy
    monkeypatch.setenv('WORLD_SIZE', '2')
    path = tmp_path / 'ds.json'
    path.write_text(json.dumps(dict(
        zero_optimization=dict(stage=3), train_micro_batch_size_per_gpu=2,
        gradient_accumulation_steps=1, train_batch_size=4)))
    cfg = ds_cfg(dict(type='DeepSpeedStrategy', config=str(path)))
    configure_strategy(cfg, on_gpu=False)
    # On CPUs ZeRO-3 gathers parameter lists one by one (see
    # configure_strategy).
    assert cfg.strategy.config['zero_optimization'] == dict(
        stage=3, allgather_sequential=True)
    assert cfg.strategy.config['train_batch_size'] == 4


def test_fsdp_strategy_keeps_original_parameters():
    from tpo.engine import configure_strategy
    cfg = ds_cfg(Config.fromfile(
        str(CONFIGS / '_base_/strategies/fsdp.py')).strategy)
    configure_strategy(cfg, on_gpu=False)
    assert cfg.strategy.type == 'tpo.TPOFSDPStrategy'
    assert cfg.strategy.model_wrapper.use_orig_params is True
    assert cfg.strategy.model_wrapper.device_id == 'cpu'
    cfg = ds_cfg(dict(type='FSDPStrategy',
                      model_wrapper=dict(use_orig_params=False)))
    with pytest.raises(ValueError, match='use_orig_params=False flattens'):
        configure_strategy(cfg, on_gpu=True)


def test_train_tool_strategy_flag():
    sys.path.insert(0, str(ROOT / 'tools'))
    import train as train_tool
    cfg = train_tool.build_config(train_tool.parse_args(
        [str(CONFIGS / 'tpo/tiny_stage3.py'), '--strategy',
         'deepspeed_zero3']))
    assert cfg.strategy.type == 'TPODeepSpeedStrategy'
    assert cfg.strategy.zero_optimization.stage == 3
    with pytest.raises(SystemExit):
        train_tool.parse_args([str(CONFIGS / 'tpo/tiny_stage3.py'),
                               '--strategy', 'zero4'])
