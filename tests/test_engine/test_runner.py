"""The tiny model trained by mmengine's Runner through the real configs."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from safetensors.torch import load_file

from tests.conftest import CONFIGS, tiny_model_cfg
from tests.tiny_runs import region_model_data
from tpo.engine import build_runner, resolve_checkpoint
from tpo.registry import HOOKS, MODELS

ROOT = CONFIGS.parent
MAX_ITERS = 4
# Runs in subprocesses import this module for the hooks below.
TEST_HOOKS = dict(imports=['tests.test_engine.test_runner'],
                  allow_failed_imports=False)


@HOOKS.register_module(force=True)
class RecordIterations(Hook):
    """Append each training iteration's loss terms and samples (``source/
    sample_idx``) to ``<work_dir>/iterations_rank<r>.jsonl``."""

    priority = 'LOWEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        samples = [f'{s.source}/{s.sample_idx}'
                   for s in data_batch['data_samples']]
        record = dict(iter=runner.iter + 1, samples=samples,
                      **{k: v.item() for k, v in outputs.items()})
        name = f'iterations_rank{get_rank()}.jsonl'
        with open(osp.join(runner.work_dir, name), 'a') as f:
            f.write(json.dumps(record) + '\n')


def read_iterations(work_dir: str, rank: int = 0) -> list:
    with open(osp.join(work_dir, f'iterations_rank{rank}.jsonl')) as f:
        return [json.loads(line) for line in f]


@HOOKS.register_module(force=True)
class PauseAfter(Hook):
    """Stand still after iteration ``n`` (and whatever the other hooks
    saved there), with a ``paused`` file in the work dir, until killed."""

    priority = 'LOWEST'

    def __init__(self, n):
        self.n = n

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.n:
            open(osp.join(runner.work_dir, 'paused'), 'w').close()
            time.sleep(3600)


def stage3_cfg(world: str, work_dir: str) -> Config:
    cfg = region_model_data(
        Config.fromfile(str(CONFIGS / 'tpo/tiny_stage3.py')))
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


def region_only_cfg(world: str, work_dir: str, batch_size: int) -> Config:
    """:func:`stage3_cfg` on the referring data alone, read
    deterministically (centre frames, fixed templates), each iteration
    recorded by :class:`RecordIterations`.

    Every sample then has one box and the same answer (``'It is here
    <box_begin><boxes>.'``), so each loss term of a batch is the mean of
    its samples' terms, however the batch is split into processes or
    accumulation steps. (With samples of other tasks or answer lengths it
    is not: ``loss_mllm`` averages over the answer tokens of the batch, a
    head's loss over the head's samples in the batch, while DDP and
    accumulation average the per-process / per-step means.)
    """
    cfg = stage3_cfg(world, work_dir)
    loader = cfg.train_dataloader
    refcoco = loader.dataset.datasets[0]
    assert refcoco.dataset.dataset.source == 'refcoco'
    loader.dataset.datasets = [refcoco]
    loader.batch_size = batch_size
    for step in refcoco.dataset.dataset.pipeline:
        if step.type == 'LoadVideoFrames':
            step.sampling = 'uniform'
        if step.type == 'FormatTaskConversation':
            step.train = False
    cfg.custom_imports = TEST_HOOKS
    cfg.custom_hooks = cfg.custom_hooks + [dict(type='RecordIterations')]
    return cfg


# The loss terms of the tiny model on region_only_cfg's data.
LOSS_TERMS = ('loss', 'loss_mllm', 'loss_assign', 'region.loss_bbox',
              'region.loss_iou')


def trainable_state(runner) -> dict:
    return {n: p.detach().clone()
            for n, p in runner.model.named_parameters() if p.requires_grad}


def train_command(config, *args) -> list:
    return [sys.executable, str(ROOT / 'tools/train.py'), str(config), *args]


def test_resume_after_kill_is_bit_identical(tiny_world, tmp_path):
    """tools/train.py killed (SIGKILL) after iteration 3, one past its
    iter_2 checkpoint, then ``--resume auto``: the final weights equal an
    uninterrupted run's bit for bit. The checkpoints hold the trainable
    weights (no frozen pretrained LLM weight) in .safetensors and the
    optimizer and scheduler state in the .pth."""
    # A "downloaded" LLM: its frozen base weights stay out of checkpoints.
    torch.manual_seed(3)
    llm_dir = str(tmp_path / 'llm')
    MODELS.build(dict(type='HFCausalLM',
                      config=tiny_model_cfg()['llm']['config'])
                 ).save_pretrained(llm_dir)

    def config(name: str, work: str, hooks=()) -> str:
        cfg = stage3_cfg(tiny_world, str(tmp_path / work))
        cfg.model.llm = dict(type='HFCausalLM', pretrained=llm_dir)
        cfg.custom_imports = TEST_HOOKS
        cfg.custom_hooks = cfg.custom_hooks + list(hooks)
        cfg.dump(str(tmp_path / name))
        return str(tmp_path / name)

    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))

    def start(name: str, *args) -> subprocess.Popen:
        log = open(tmp_path / f'{name}.log', 'w')
        return subprocess.Popen(train_command(*args), cwd=str(tmp_path),
                                env=env, stdout=log,
                                stderr=subprocess.STDOUT)

    def log_of(name: str) -> str:
        return (tmp_path / f'{name}.log').read_text()[-3000:]

    full = start('full', config('full.py', 'full'))
    killed = start('killed', config('killed.py', 'killed',
                                    [dict(type='PauseAfter', n=3)]))
    work_dir = tmp_path / 'killed'
    deadline = time.time() + 400
    while not (work_dir / 'paused').exists():
        assert killed.poll() is None, log_of('killed')
        assert time.time() < deadline, log_of('killed')
        time.sleep(0.2)
    os.kill(killed.pid, signal.SIGKILL)
    assert killed.wait(60) == -signal.SIGKILL
    assert osp.basename(resolve_checkpoint(str(work_dir))) == 'iter_2.pth'
    assert not (work_dir / 'iter_4.pth').exists()

    resumed = start('resumed', config('resume.py', 'killed'), '--resume',
                    'auto')
    assert resumed.wait(400) == 0, log_of('resumed')
    assert 'resumed epoch: 0, iter: 2' in log_of('resumed')
    assert full.wait(400) == 0, log_of('full')

    expected = load_file(str(tmp_path / 'full' / 'iter_4.safetensors'))
    actual = load_file(str(work_dir / 'iter_4.safetensors'))
    assert actual.keys() == expected.keys()
    for name in expected:
        assert torch.equal(actual[name], expected[name]), \
            f'{name} differs after resume'

    # Artefacts: .safetensors = the trainable parameters (+ buffers), the
    # .pth adds the optimizer / scheduler state that resuming needs.
    model = MODELS.build(Config.fromfile(str(tmp_path / 'full.py')).model)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    buffers = {n for n, _ in model.named_buffers()}
    assert frozen and any('base_layer' in n for n in frozen)
    assert set(trainable) <= set(actual) <= set(trainable) | buffers
    checkpoint = torch.load(work_dir / 'iter_2.pth', weights_only=False)
    assert checkpoint['meta']['iter'] == 2
    assert set(checkpoint['state_dict']) == set(
        load_file(str(work_dir / 'iter_2.safetensors')))
    state = checkpoint['optimizer']['state']
    assert len(state) == len(trainable)
    assert all({'exp_avg', 'exp_avg_sq', 'step'} <= set(s)
               for s in state.values())
    assert all(int(s['step']) == 2 for s in state.values())
    # The schedulers' state, as the uninterrupted run saved it at iter 2,
    # and the warmed-up learning rates (warmup from 0.1 x base).
    uninterrupted = torch.load(tmp_path / 'full' / 'iter_2.pth',
                               weights_only=False)
    assert checkpoint['param_schedulers'] == \
        uninterrupted['param_schedulers'] and \
        len(checkpoint['param_schedulers']) == 2
    base_lr = Config.fromfile(str(tmp_path / 'full.py')).optim_wrapper \
        .optimizer.lr
    groups = checkpoint['optimizer']['param_groups']
    assert min(g['lr'] for g in groups) == pytest.approx(base_lr)
    # Training changed the weights (the comparison is not vacuous).
    name = 'heads.region.mlp.0.weight'
    assert not torch.equal(checkpoint['state_dict'][name], expected[name])


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
