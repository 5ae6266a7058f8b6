"""Linear warmup over a ratio of the run, then cosine decay: one scheduler
whose length comes from the train loop."""
import math
from typing import Optional

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import (INF, OptimizerType,
                                                      _ParamScheduler)

from tpo.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class WarmupCosineLR(LRSchedulerMixin, _ParamScheduler):
    """The learning rate rises linearly from ``start_factor`` x the base rate
    to the base rate over the first ``warmup_ratio`` of ``[begin, end)``,
    then follows a cosine down to ``eta_min_ratio`` x the base rate at
    ``end``.

    Left out of a config, ``end`` is the train loop's ``max_iters`` (or
    ``max_epochs`` with ``by_epoch=True``; mmengine's Runner and strategies
    fill it in), so a schedule that only changes the run's length keeps
    its warmup at the same ratio. The values equal those of mmengine's
    ``LinearLR(start_factor, begin, end=w)`` followed by
    ``CosineAnnealingLR(eta_min_ratio, begin=w, end)`` with
    ``w = max(1, int(warmup_ratio * (end - begin)))`` (``w = 0`` when
    ``warmup_ratio`` is 0), computed in closed form from each group's
    initial rate, so it does not chain with another LR scheduler.

    Args:
        optimizer (Optimizer or OptimWrapper): the optimizer to schedule.
        warmup_ratio (float): the share of ``[begin, end)`` spent warming
            up, in [0, 1).
        start_factor (float): the first step's rate over the base rate.
        eta_min_ratio (float): the last rate over the base rate.
        begin (int): the first step it schedules.
        end (int): the step it stops at; required (from the train loop or
            the config).
        last_step (int): the step to resume from without a state dict.
        by_epoch (bool): whether ``begin`` and ``end`` count epochs.
        verbose (bool): print every value set.
    """

    def __init__(self,
                 optimizer: OptimizerType,
                 warmup_ratio: float = 0.2,
                 start_factor: float = 1e-3,
                 eta_min_ratio: float = 0.0,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False) -> None:
        if end == INF:
            raise ValueError(
                'WarmupCosineLR needs the run length: set train_cfg.max_iters '
                '(or max_epochs) and build it through the Runner, or give '
                '`end`.')
        if not 0.0 <= warmup_ratio < 1.0:
            raise ValueError(
                f'warmup_ratio must be in [0, 1), got {warmup_ratio}.')
        if not 0.0 <= start_factor <= 1.0:
            raise ValueError(
                f'start_factor must be in [0, 1], got {start_factor}.')
        total = end - begin
        warmup = int(warmup_ratio * total)
        self.warmup_steps = max(1, warmup) if warmup_ratio > 0 else 0
        self.decay_steps = total - self.warmup_steps
        self.warmup_ratio = warmup_ratio
        self.start_factor = start_factor
        self.eta_min_ratio = eta_min_ratio
        super().__init__(
            optimizer,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls,
                              *args,
                              begin: int = 0,
                              end: int = INF,
                              by_epoch: bool = True,
                              epoch_length: Optional[int] = None,
                              **kwargs) -> 'WarmupCosineLR':
        """The iteration-based scheduler of an epoch-based config."""
        assert by_epoch, 'only an epoch-based config converts to iterations'
        assert epoch_length is not None and epoch_length > 0, \
            f'epoch_length must be a positive integer, got {epoch_length}'
        begin = int(begin * epoch_length)
        if end != INF:
            end = int(end * epoch_length)
        return cls(*args, begin=begin, end=end, by_epoch=False, **kwargs)

    def factor(self, step: int) -> float:
        """The rate over the base rate ``step`` steps after ``begin``."""
        if step < self.warmup_steps:
            rise = step / max(1, self.warmup_steps - 1)
            return self.start_factor + (1.0 - self.start_factor) * rise
        progress = (step - self.warmup_steps) / self.decay_steps
        cosine = (1.0 + math.cos(math.pi * progress)) / 2
        return self.eta_min_ratio + (1.0 - self.eta_min_ratio) * cosine

    def _get_value(self) -> list:
        factor = self.factor(self.last_step)
        return [base * factor for base in self.base_values]
