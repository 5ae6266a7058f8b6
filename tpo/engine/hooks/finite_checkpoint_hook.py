"""Stop a run before a checkpoint with non-finite weights is written."""
from typing import List, Optional

import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper

from tpo.registry import HOOKS
from ..optimizers.tpo_optim_wrapper import nonfinite_names


def nonfinite_weight_names(model: torch.nn.Module) -> List[str]:
    """Names of the trainable parameters of ``model`` (model wrappers and
    DeepSpeed engines unwrapped) holding NaN or infinity, on any rank.
    Under ZeRO-3 each rank checks its partition."""
    while is_model_wrapper(model) or type(model).__name__ in (
            'MMDeepSpeedEngineWrapper', 'DeepSpeedEngine'):
        model = getattr(model, 'module', None) or model.model
    return nonfinite_names([(name, getattr(p, 'ds_tensor', p))
                            for name, p in model.named_parameters()
                            if p.requires_grad])


@HOOKS.register_module()
class FiniteCheckpointHook(Hook):
    """Check the trainable weights right before ``CheckpointHook`` saves
    (same stage, higher priority) and stop the run with a
    :class:`FloatingPointError` naming the iteration and the parameters
    when one holds NaN or infinity, so that no checkpoint with non-finite
    weights is written or marked as the latest.

    :class:`~tpo.engine.optimizers.TPOOptimWrapper` already refuses
    non-finite gradients; this hook covers every other way (DeepSpeed, an
    optimizer that overflows, a custom wrapper) and costs one check per
    saved checkpoint.
    """

    priority = 'LOW'  # before CheckpointHook (VERY_LOW)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        hook = self._checkpoint_hook(runner)
        if hook is None or hook.by_epoch:
            return
        if hook.every_n_train_iters(runner, hook.interval, hook.save_begin) \
                or (hook.save_last and hook.is_last_train_iter(runner)):
            self._check(runner, f'iteration {runner.iter + 1}')

    def after_train_epoch(self, runner) -> None:
        hook = self._checkpoint_hook(runner)
        if hook is None or not hook.by_epoch:
            return
        if hook.every_n_epochs(runner, hook.interval, hook.save_begin) or (
                hook.save_last and hook.is_last_train_epoch(runner)):
            self._check(runner, f'epoch {runner.epoch + 1}')

    @staticmethod
    def _checkpoint_hook(runner) -> Optional[CheckpointHook]:
        return next(
            (h for h in runner.hooks if isinstance(h, CheckpointHook)), None)

    @staticmethod
    def _check(runner, when: str) -> None:
        bad = nonfinite_weight_names(runner.model)
        if bad:
            more = f' and {len(bad) - 8} more' if len(bad) > 8 else ''
            raise FloatingPointError(
                f'{when}: {len(bad)} trainable weight(s) hold NaN or inf '
                f'({bad[:8]}{more}); the checkpoint of {when} was not '
                'written and the latest checkpoint is still the previous '
                'one. Resuming from it replays the same batches: see '
                'docs/reliability.md for what to change first.')
