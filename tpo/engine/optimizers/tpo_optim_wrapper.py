"""An optimizer wrapper that never applies non-finite gradients."""
import logging
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper

from tpo.registry import OPTIM_WRAPPERS

POLICIES = ('stop', 'skip')
#: The ``optim_wrapper`` keys of :class:`TPOOptimWrapper`'s check.
NONFINITE_KEYS = ('nonfinite_grads', 'max_consecutive_skips')


def nonfinite_names(named: Sequence[Tuple[str, torch.Tensor]]) -> List[str]:
    """The names of the tensors holding NaN or infinity, decided alike on
    every rank: when only another rank's tensors are not finite, one
    placeholder name; empty when all are finite. One host sync (and one
    all-reduce of a flag when distributed)."""
    if named:
        device = named[0][1].device
        finite = torch.stack(
            [torch.isfinite(t).all().to(device) for _, t in named])
    else:
        finite = torch.ones(1, dtype=torch.bool)
    flag = (~finite).sum().float().reshape(1)
    all_reduce(flag)  # a no-op without distributed training
    if not flag.item():
        return []
    return [name for (name, _), ok in zip(named, finite.tolist())
            if not ok] or ["(another rank's shard)"]


@OPTIM_WRAPPERS.register_module()
class TPOOptimWrapper(OptimWrapper):
    """mmengine's :class:`OptimWrapper` that checks the gradients before
    each optimizer step, and before gradient clipping (which would spread
    one NaN to every gradient, hiding where it came from).

    When a gradient holds NaN or infinity the step is not taken:

    - ``nonfinite_grads='stop'`` (default): a :class:`FloatingPointError`
      names the iteration and the parameters; the weights stay those of the
      previous step, so no checkpoint with non-finite weights is written.
    - ``nonfinite_grads='skip'``: the gradients are dropped with a warning
      naming the same, and training goes on; ``max_consecutive_skips``
      skipped steps in a row stop the run as ``'stop'`` does.

    Under distributed training the ranks decide together (one all-reduce
    of a flag per step), so that sharded gradients (FSDP) stop every rank.
    ``TPOOptimWrapperConstructor`` builds this class for
    ``type='OptimWrapper'`` and gives it the parameter names.
    ``AmpOptimWrapper`` keeps its own behaviour: its loss scaler skips such
    steps and lowers the scale.

    Args:
        nonfinite_grads: ``'stop'`` or ``'skip'``.
        max_consecutive_skips: skipped steps in a row that stop the run.
        **kwargs: arguments of :class:`OptimWrapper`.
    """

    def __init__(self,
                 *args,
                 nonfinite_grads: str = 'stop',
                 max_consecutive_skips: int = 10,
                 **kwargs) -> None:
        if nonfinite_grads not in POLICIES:
            raise ValueError(f'optim_wrapper.nonfinite_grads must be one of '
                             f'{POLICIES}, got {nonfinite_grads!r}')
        if max_consecutive_skips < 1:
            raise ValueError('optim_wrapper.max_consecutive_skips must be '
                             f'>= 1, got {max_consecutive_skips}')
        super().__init__(*args, **kwargs)
        self.nonfinite_grads = nonfinite_grads
        self.max_consecutive_skips = max_consecutive_skips
        self.param_names: Dict[int, str] = {}
        self.consecutive_skips = 0
        self.skipped_steps = 0

    def step(self, **kwargs) -> None:
        bad = self.nonfinite_grad_names()
        if not bad:
            self.consecutive_skips = 0
            super().step(**kwargs)
            return
        self.consecutive_skips += 1
        self.skipped_steps += 1
        if self.nonfinite_grads == 'stop' or \
                self.consecutive_skips >= self.max_consecutive_skips:
            raise FloatingPointError(self._stop_message(bad))
        print_log(
            f'{self._where()}non-finite gradients in {self._list(bad)}: '
            f'optimizer step skipped ({self.consecutive_skips} in a row, '
            f'{self.skipped_steps} in total; the run stops at '
            f'{self.max_consecutive_skips} in a row).',
            logger='current', level=logging.WARNING)

    def nonfinite_grad_names(self) -> List[str]:
        """Names of the parameters whose gradient holds NaN or infinity
        (empty when all are finite, on every rank). One host sync."""
        return nonfinite_names(
            [(self._name(p), p.grad) for group in self.optimizer.param_groups
             for p in group['params'] if p.grad is not None])

    def _name(self, param: torch.Tensor) -> str:
        return self.param_names.get(id(param)) or \
            f'a parameter of shape {tuple(param.shape)}'

    @staticmethod
    def _where() -> str:
        iteration = MessageHub.get_current_instance().get_info('iter')
        return '' if iteration is None else f'iteration {iteration + 1}: '

    @staticmethod
    def _list(names: List[str], limit: int = 8) -> str:
        more = f' and {len(names) - limit} more' if len(names) > limit else ''
        return f'{len(names)} parameter(s) {names[:limit]}{more}'

    def _stop_message(self, bad: List[str]) -> str:
        if self.nonfinite_grads == 'skip':
            why = (f'{self.consecutive_skips} optimizer steps in a row had '
                   'non-finite gradients (optim_wrapper.'
                   f'max_consecutive_skips={self.max_consecutive_skips}); '
                   'the last ')
        else:
            why = ''
        return (
            f'{self._where()}{why}non-finite gradients (NaN or inf) in '
            f'{self._list(bad)}, with a finite loss. The optimizer step was '
            'not taken: the weights are those of the previous step, and no '
            'checkpoint of this iteration was written. Resuming '
            '(`tools/train.py CONFIG --resume`) replays the same batches '
            'and would stop here again; to step over such batches, resume '
            'with `--cfg-options optim_wrapper.nonfinite_grads=skip` (each '
            'skipped step is logged). Usual causes: an operation whose '
            'derivative is infinite at its input (sqrt or log at 0, a '
            'degenerate box or window in the data), float16 overflow (use '
            "model.amp_dtype='bfloat16'), or a learning rate too high for "
            'those parameters.')

