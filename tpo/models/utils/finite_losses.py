"""Stop before the backward pass when the total loss is not finite."""
import math
from typing import Dict

import torch
from mmengine.logging import MessageHub


def check_finite_loss(loss: torch.Tensor,
                      log_vars: Dict[str, torch.Tensor]) -> None:
    """Raise ``FloatingPointError`` when ``loss`` is NaN or infinite,
    naming the iteration (1-based, as logged), the terms at fault and the
    usual causes. One host sync per iteration; the terms are looked at
    only when the total is not finite (any non-finite term makes it so)."""
    if not isinstance(loss, torch.Tensor) or torch.isfinite(loss).all():
        return
    values = {k: v.item() for k, v in log_vars.items() if 'loss' in k}
    bad = [k for k, v in values.items()
           if k != 'loss' and not math.isfinite(v)] or ['loss']
    iteration = MessageHub.get_current_instance().get_info('iter')
    where = '' if iteration is None else f'iteration {iteration + 1}: '
    terms = ', '.join(f"loss term '{k}' is {values[k]}" for k in bad)
    all_terms = ', '.join(f'{k}={v:.4g}' for k, v in values.items())
    raise FloatingPointError(
        f'{where}{terms} ({all_terms}). The backward pass and optimizer '
        'step of this batch were not run. Usual causes: a learning rate '
        'too high for the module behind that term (lower optimizer.lr or '
        'its lr_mult in optim_wrapper.paramwise_cfg.custom_keys, or warm '
        'up longer), no gradient clipping (optim_wrapper.clip_grad='
        "dict(max_norm=1.0)), float16 overflow (use model.amp_dtype="
        "'bfloat16'), or a degenerate sample in this batch (e.g. an "
        'empty box). The last checkpoint holds finite weights. '
        '`tools/train.py CONFIG --resume` continues from it with the '
        "checkpoint's learning rates and schedule and the same batches: "
        'fix what the checkpoint does not hold (clip_grad, amp_dtype, '
        'the data) before resuming; to lower a learning rate, start '
        'from its weights instead (`--cfg-options load_from=<last '
        'checkpoint>`).')
