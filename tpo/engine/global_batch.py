"""The global batch of a run against the recipe's (Table 16's), and the
learning-rate scaling that counts gradient accumulation.

A recipe states the total batch its learning rates are tuned for as
``global_batch_size`` (the paper's, e.g. 128 in stage 1). A run's global
batch is ``processes x train_dataloader.batch_size x
optim_wrapper.accumulative_counts``. :func:`fit_global_batch` compares the
two before the runner is built and, with ``auto_scale_lr.enable=True``,
multiplies the base learning rate (hence every ``lr_mult`` group) by
``actual / global_batch_size``. mmengine's own ``auto_scale_lr`` leaves
accumulation out (``processes x batch_size``), so it is switched off
after this one has run: the rate is scaled once, by the right ratio.
"""
import os
from dataclasses import dataclass
from typing import Optional

from mmengine.config import Config


@dataclass
class GlobalBatch:
    """The numbers of one run."""
    processes: int
    batch_size: int
    accumulation: int
    recipe: Optional[int]
    lr_scale: float = 1.0

    @property
    def actual(self) -> int:
        return self.processes * self.batch_size * self.accumulation

    def message(self) -> Optional[str]:
        """The line the runner logs, or None when the batch is the
        recipe's (or the recipe states none)."""
        if self.recipe is None or self.actual == self.recipe:
            return None
        text = (f'Global batch {self.actual} = {self.processes} process(es) '
                f'x train_dataloader.batch_size {self.batch_size} x '
                f'optim_wrapper.accumulative_counts {self.accumulation}, '
                f'but this recipe is tuned for global_batch_size='
                f'{self.recipe}. ')
        if self.lr_scale != 1.0:
            return text + (
                f'auto_scale_lr is on: every learning rate is scaled by '
                f'{self.actual}/{self.recipe} = {self.lr_scale:.4g}.')
        factor = self.recipe / (self.processes * self.batch_size)
        hint = (f'set optim_wrapper.accumulative_counts={int(factor)}'
                if factor >= 1 and factor == int(factor) else
                'change the batch size or accumulation')
        return text + (
            f'The learning rates are left as configured. To train as the '
            f'recipe does, {hint}; to scale the learning rates linearly '
            f'instead, set auto_scale_lr.enable=True.')


def world_size() -> int:
    """Processes of this launch, from the launcher's environment (the
    process group may not exist yet)."""
    for key in ('WORLD_SIZE', 'SLURM_NTASKS'):
        if os.environ.get(key):
            return int(os.environ[key])
    return 1


def fit_global_batch(cfg: Config,
                     processes: Optional[int] = None) -> GlobalBatch:
    """Compare the run's global batch with ``cfg.global_batch_size`` and,
    when ``cfg.auto_scale_lr.enable`` is set, scale
    ``cfg.optim_wrapper.optimizer.lr`` by the ratio (accumulation counted)
    and turn mmengine's scaling off. Call it before the runner (and a
    DeepSpeed strategy, which takes ``accumulative_counts`` over) is built.

    ``auto_scale_lr.base_batch_size`` defaults to ``global_batch_size``.
    """
    processes = world_size() if processes is None else processes
    loader = cfg.get('train_dataloader') or {}
    wrapper = cfg.get('optim_wrapper') or {}
    auto = dict(cfg.get('auto_scale_lr') or {})
    recipe = cfg.get('global_batch_size', auto.get('base_batch_size'))
    batch = GlobalBatch(processes=processes,
                        batch_size=int(loader.get('batch_size', 1)),
                        accumulation=int(
                            wrapper.get('accumulative_counts', 1)),
                        recipe=None if recipe is None else int(recipe))
    if auto.get('enable'):
        base = int(auto.get('base_batch_size', batch.recipe or 0))
        if base < 1:
            raise ValueError(
                'auto_scale_lr.enable=True needs auto_scale_lr.'
                'base_batch_size or global_batch_size (the batch the '
                'learning rates are tuned for).')
        batch.recipe = base
        batch.lr_scale = batch.actual / base
        wrapper.optimizer.lr = wrapper.optimizer.lr * batch.lr_scale
        cfg.auto_scale_lr = dict(auto, enable=False)
    return batch
