"""Non-finite gradients are never applied nor checkpointed (issue 15).

With a finite loss and a NaN gradient the run stops before the optimizer
step, naming the iteration and the parameter; the latest checkpoint stays
the previous (finite) one; the advice in the message (resume with
``optim_wrapper.nonfinite_grads=skip``) gets past the step; and weights that
turn non-finite some other way are never written as a checkpoint.
"""
import importlib.util
import re
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook

from tests.test_engine.test_runner import region_only_cfg
from tests.test_engine.toy_runner import ROOT, toy_config
from tpo.engine import build_runner
from tpo.engine.optimizers import TPOOptimWrapper
from tpo.registry import HOOKS


@HOOKS.register_module(force=True)
class NaNGradientAt(Hook):
    """Make the gradient of parameter ``name`` NaN in iteration
    ``iteration`` (1-based), leaving the loss finite."""

    def __init__(self, iteration: int, name: str) -> None:
        self.iteration, self.name = iteration, name
        self.handle = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.iteration:
            param = dict(runner.model.named_parameters())[self.name]
            self.handle = param.register_hook(lambda g: g * float('nan'))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None


@HOOKS.register_module(force=True)
class InfWeightAt(Hook):
    """Set a weight to inf after the optimizer step of ``iteration``."""

    priority = 'HIGH'

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.iteration:
            with torch.no_grad():
                runner.model.linear.weight[0, 0] = float('inf')


def checkpoints(work_dir: Path) -> dict:
    """``{name: state_dict}`` of the .pth checkpoints of a work dir, each
    asserted to hold finite tensors only."""
    found = {}
    for path in sorted(work_dir.glob('iter_*.pth')):
        state = torch.load(path, weights_only=False)['state_dict']
        for key, value in state.items():
            assert torch.isfinite(value).all(), f'{path.name}: {key}'
        found[path.name] = state
    return found


def latest(work_dir: Path) -> str:
    return Path((work_dir / 'last_checkpoint').read_text().strip()).name


def test_tiny_model_stops_before_a_nonfinite_step(tiny_world, tmp_path):
    """Iteration 2 of the tiny model gets a NaN gradient in one head
    weight (the region head's loss stays finite); with gradient clipping
    on, the NaN would have reached every gradient."""
    cfg = region_only_cfg(tiny_world, str(tmp_path), batch_size=1)
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.checkpoint.interval = 1
    runner = build_runner(cfg)
    name = next(n for n, p in runner.model.named_parameters()
                if n.startswith('heads.region.') and p.requires_grad)
    runner.register_hook(NaNGradientAt(2, name))
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    message = str(info.value)
    assert message.startswith(
        f"iteration 2: non-finite gradients (NaN or inf) in 1 parameter(s) "
        f"['{name}'], with a finite loss. The optimizer step was not taken")
    saved = checkpoints(tmp_path)
    assert list(saved) == ['iter_1.pth'] and latest(tmp_path) == 'iter_1.pth'
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, saved['iter_1.pth'][key]), key


def test_the_advice_resumes_past_the_step(tmp_path):
    """The stop message's advice, run as given: resuming with
    ``nonfinite_grads=skip`` skips the bad step and trains to the end."""
    config = tmp_path / 'toy.py'
    cfg = toy_config(tmp_path / 'work', max_iters=3)
    cfg.custom_hooks.append(
        dict(type='NaNGradientAt', iteration=2, name='linear.weight'))
    cfg.custom_imports.imports.append('tests.test_engine.test_nonfinite_grads')
    cfg.dump(str(config))
    train = importlib.util.module_from_spec(
        importlib.util.spec_from_file_location('train_tool',
                                               ROOT / 'tools/train.py'))
    train.__spec__.loader.exec_module(train)
    with pytest.raises(FloatingPointError) as info:
        train.main([str(config)])
    message = str(info.value)
    assert "['linear.weight']" in message
    advice = re.search(r'`--cfg-options ([^`]+)`', message).group(1).split()
    assert latest(tmp_path / 'work') == 'iter_1.pth'

    train.main([str(config), '--resume', '--cfg-options', *advice])
    saved = checkpoints(tmp_path / 'work')
    assert list(saved) == ['iter_1.pth', 'iter_2.pth', 'iter_3.pth']
    # iteration 2 was skipped: its weights are those of iteration 1
    for key in saved['iter_1.pth']:
        assert torch.equal(saved['iter_1.pth'][key], saved['iter_2.pth'][key])
        assert not torch.equal(saved['iter_2.pth'][key],
                               saved['iter_3.pth'][key])
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert "iteration 2: non-finite gradients in 1 parameter(s) " \
        "['linear.weight']: optimizer step skipped" in log


def test_skipping_stops_after_too_many_in_a_row():
    linear = torch.nn.Linear(2, 1)
    wrapper = TPOOptimWrapper(
        optimizer=torch.optim.SGD(linear.parameters(), lr=0.1),
        nonfinite_grads='skip', max_consecutive_skips=2)
    wrapper.param_names = {id(p): n for n, p in linear.named_parameters()}

    def step(bad: bool) -> None:
        wrapper.zero_grad()
        linear(torch.ones(1, 2)).sum().backward()
        if bad:
            linear.bias.grad.fill_(float('inf'))
        wrapper.step()

    before = linear.weight.detach().clone()
    step(bad=True)  # skipped: nothing changes
    assert torch.equal(linear.weight, before) and wrapper.skipped_steps == 1
    step(bad=False)  # applied, and the count in a row starts again
    assert not torch.equal(linear.weight, before)
    step(bad=True)
    with pytest.raises(FloatingPointError,
                       match=r"2 optimizer steps in a row .* \['bias'\]"):
        step(bad=True)
    with pytest.raises(ValueError, match="one of \\('stop', 'skip'\\)"):
        TPOOptimWrapper(optimizer=torch.optim.SGD(linear.parameters(), 0.1),
                        nonfinite_grads='ignore')


def test_nonfinite_weights_are_never_checkpointed(tmp_path):
    """A weight that turns infinite after a (finite) step: the run stops
    before that iteration's checkpoint; the latest stays the last finite
    one."""
    cfg = toy_config(tmp_path, max_iters=3)
    runner = build_runner(cfg)
    runner.register_hook(InfWeightAt(2))
    with pytest.raises(FloatingPointError,
                       match=r"^iteration 2: 1 trainable weight\(s\) hold "
                       r"NaN or inf \(\['linear.weight'\]\); the checkpoint "
                       'of iteration 2 was not written'):
        runner.train()
    assert list(checkpoints(tmp_path)) == ['iter_1.pth']
    assert latest(tmp_path) == 'iter_1.pth'
