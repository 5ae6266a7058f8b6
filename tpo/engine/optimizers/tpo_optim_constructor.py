"""An optimizer-wrapper constructor for TPO's per-module learning rates.

``paramwise_cfg.custom_keys`` gives each module of Table 16 its own learning
rate (``lr_mult`` relative to ``optimizer.lr``). mmengine's default
constructor then makes one parameter group per parameter, which is
thousands of groups for a 7B LLM with LoRA; DeepSpeed and fused optimizers
slow down with that many. This constructor applies the same rules, skips
frozen parameters, merges the groups whose hyper-parameters are identical
and logs, per module, what trains at which rate. A custom key that matches
no parameter (a typo, or a module the model does not have) fails when the
optimizer is built, before the first iteration.
"""
import difflib
import logging
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS, OPTIMIZERS

from tpo.registry import OPTIM_WRAPPER_CONSTRUCTORS
from .tpo_optim_wrapper import NONFINITE_KEYS, TPOOptimWrapper

# mmengine logs these once per parameter (frozen ones skipped; the lr, wd
# and multipliers of every custom-key match): thousands of lines for a 7B
# model with LoRA. The module table replaces them.
_NOISY_MESSAGES = ('is skipped since its requires_grad=False',
                   'paramwise_options -- ')
# Bookkeeping keys that mmengine copies from custom_keys into each group;
# they do not change the optimizer's behaviour (lr / weight_decay are
# already multiplied), so groups that differ only there are merged.
_MULTIPLIER_KEYS = ('lr_mult', 'decay_mult')


def module_group(name: str) -> str:
    """The row of the summary table a parameter belongs to.

    ``task_tokens.<task>`` and ``heads.<name>`` are split per task / head;
    the LLM is split into its LoRA adapters (``lora_`` parameters) and the
    rest (trainable token rows, ``modules_to_save`` such as ``lm_head``,
    or the full LLM when it is trained without LoRA); any other parameter
    is filed under its top-level module.
    """
    parts = name.split('.')
    if parts[0] == 'task_tokens':
        return f'task_tokens.{parts[-1]}'
    if parts[0] == 'heads' and len(parts) > 2:
        return f'heads.{parts[1]}'
    if parts[0] == 'llm':
        return 'llm (LoRA)' if 'lora_' in name else 'llm (other)'
    return parts[0] if len(parts) > 1 else '(root)'


class _DropPerParameterMessages(logging.Filter):

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in _NOISY_MESSAGES)


def _hashable(value):
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TPOOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """:class:`DefaultOptimWrapperConstructor` with merged parameter groups.

    1. ``paramwise_cfg`` is applied as by mmengine's default constructor
       (``custom_keys``: the longest key that is a substring of a
       parameter's full name, e.g. ``'heads.region'`` or
       ``'task_tokens.tokens.temporal'``, sets its ``lr_mult`` /
       ``decay_mult``; then ``bias_decay_mult``, ``norm_decay_mult``, ...);
       parameters with ``requires_grad=False`` are left out.
    2. Parameter groups with identical hyper-parameters (``lr``,
       ``weight_decay`` and any other key a custom key sets; the
       bookkeeping keys ``lr_mult`` / ``decay_mult`` are dropped) are merged
       into one group each, in the order of their first parameter.
    3. A table of every module (trainable / frozen parameter counts, its
       learning rate and weight decay) is logged.
    4. ``type='OptimWrapper'`` (the default) builds a
       :class:`TPOOptimWrapper`: the same, plus a check that stops (or
       skips) a step whose gradients are not finite, naming the
       parameters (``nonfinite_grads`` / ``max_consecutive_skips`` in
       ``optim_wrapper``).

    A ``custom_keys`` key that is a substring of no parameter name, trainable
    or frozen, raises a :class:`ValueError` naming the key and the closest
    module names, before any group is built.

    After a call, ``group_records`` holds, per optimizer group, its
    hyper-parameters, the number of tensors and elements, and the module
    prefixes (rows of the table) it holds; ``module_table`` holds the rows.
    The built optimizer wrapper gets the same two attributes.
    """

    def check_custom_keys(self, model: nn.Module) -> None:
        """Fail, naming the key and the closest module names, when a
        ``paramwise_cfg.custom_keys`` key matches no parameter of ``model``
        (mmengine would silently give it no effect)."""
        names = [name for name, _ in model.named_parameters()]
        unused = [
            key for key in self.paramwise_cfg.get('custom_keys', {})
            if not any(key in name for name in names)
        ]
        if not unused:
            return
        modules = [name for name, _ in model.named_modules() if name]
        lines = []
        for key in unused:
            # Module names as deep as the key, e.g. 'heads.region' for
            # 'heads.regoin' or 'heads.temporal'.
            depth = key.strip('.').count('.')
            close = difflib.get_close_matches(
                key, [m for m in modules if m.count('.') == depth], n=3,
                cutoff=0.4)
            hint = f'closest module names: {close}' if close else \
                f'top-level modules: {[m for m in modules if "." not in m]}'
            lines.append(f'  {key!r} ({hint})')
        raise ValueError(
            'optim_wrapper.paramwise_cfg.custom_keys: '
            f'{len(unused)} key(s) match no parameter (trainable or frozen) '
            f'of {type(model).__name__}; a key applies to the parameters '
            'whose full name contains it. Fix or remove:\n' + '\n'.join(lines))

    def _param_groups(self, model: nn.Module) -> List[dict]:
        params: List[dict] = []
        logger = MMLogger.get_current_instance()
        skip_filter = _DropPerParameterMessages()
        logger.addFilter(skip_filter)
        try:
            self.add_params(params, model)
        finally:
            logger.removeFilter(skip_filter)
        # Defensive: leave out any group holding a frozen parameter (some
        # mmengine versions kept them as groups of their own).
        return [
            group for group in params
            if all(p.requires_grad for p in group['params'])
        ]

    def merge_groups(self, groups: List[dict], names: Dict[int, str]
                     ) -> Tuple[List[dict], List[dict]]:
        """Merge groups with identical hyper-parameters.

        Returns the merged groups and, per group, a record of its
        hyper-parameters, tensor / element counts and module prefixes.
        """
        merged: 'OrderedDict[tuple, dict]' = OrderedDict()
        records: 'OrderedDict[tuple, dict]' = OrderedDict()
        for group in groups:
            hyper = {
                k: v
                for k, v in group.items()
                if k != 'params' and k not in _MULTIPLIER_KEYS
            }
            # Spell out the defaults so that a custom key with lr_mult=1
            # merges with the parameters no key matched.
            if self.base_lr is not None:
                hyper.setdefault('lr', self.base_lr)
            if self.base_wd is not None:
                hyper.setdefault('weight_decay', self.base_wd)
            key = _hashable(hyper)
            if key not in merged:
                merged[key] = dict(hyper, params=[])
                records[key] = dict(hyper, num_tensors=0, num_params=0,
                                    prefixes=[])
            merged[key]['params'].extend(group['params'])
            record = records[key]
            for param in group['params']:
                record['num_tensors'] += 1
                record['num_params'] += param.numel()
                prefix = module_group(names[id(param)])
                if prefix not in record['prefixes']:
                    record['prefixes'].append(prefix)
        return list(merged.values()), list(records.values())

    def summarize(self, model: nn.Module, groups: List[dict]) -> List[dict]:
        """One row per module: trainable / frozen counts, lr and wd."""
        default_lr = self.base_lr
        default_wd = self.base_wd if self.base_wd is not None else \
            self.optimizer_cfg.get('weight_decay', 0.0)
        hyper = {}
        for group in groups:
            for param in group['params']:
                hyper[id(param)] = (group.get('lr', default_lr),
                                    group.get('weight_decay', default_wd))
        rows: 'OrderedDict[str, dict]' = OrderedDict()
        seen = set()
        for name, param in model.named_parameters():
            if id(param) in seen:
                continue
            seen.add(id(param))
            row = rows.setdefault(
                module_group(name),
                dict(trainable=0, frozen=0, lr=[], weight_decay=[]))
            if id(param) in hyper:
                row['trainable'] += param.numel()
                lr, wd = hyper[id(param)]
                if lr not in row['lr']:
                    row['lr'].append(lr)
                if wd not in row['weight_decay']:
                    row['weight_decay'].append(wd)
            else:
                row['frozen'] += param.numel()
        return [dict(module=module, **row) for module, row in rows.items()]

    @staticmethod
    def format_table(rows: List[dict], num_groups: int) -> str:

        def values(vals):
            return ', '.join(f'{v:.3g}' for v in vals) if vals else '-'

        header = ('module', 'trainable', 'frozen', 'lr', 'weight_decay')
        lines = [header] + [(row['module'], f"{row['trainable']:,}",
                             f"{row['frozen']:,}", values(row['lr']),
                             values(row['weight_decay'])) for row in rows]
        total_t = sum(row['trainable'] for row in rows)
        total_f = sum(row['frozen'] for row in rows)
        lines.append(('total', f'{total_t:,}', f'{total_f:,}',
                      f'{num_groups} groups', ''))
        widths = [max(len(line[i]) for line in lines) for i in range(5)]
        out = []
        for i, line in enumerate(lines):
            out.append('  '.join(
                cell.ljust(w) if j == 0 else cell.rjust(w)
                for j, (cell, w) in enumerate(zip(line, widths))).rstrip())
            if i == 0 or i == len(lines) - 2:
                out.append('-' * len(out[0]))
        return '\n'.join(out)

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        self.check_custom_keys(model)
        names = {}
        for name, param in model.named_parameters():
            names.setdefault(id(param), name)

        groups = self._param_groups(model)
        groups, records = self.merge_groups(groups, names)
        rows = self.summarize(model, groups)
        self.group_records, self.module_table = records, rows
        print_log(
            'Optimizer parameter groups per module (TPOOptimWrapperConstructor'
            f'):\n{self.format_table(rows, len(groups))}',
            logger='current')

        optim_wrapper_cfg = self.optim_wrapper_cfg.copy()
        optim_wrapper_cfg.setdefault('type', 'OptimWrapper')
        if optim_wrapper_cfg['type'] in ('OptimWrapper', OptimWrapper):
            optim_wrapper_cfg['type'] = TPOOptimWrapper
        elif set(optim_wrapper_cfg) & set(NONFINITE_KEYS) and \
                optim_wrapper_cfg['type'] not in (TPOOptimWrapper,
                                                  'TPOOptimWrapper'):
            keys = sorted(set(optim_wrapper_cfg) & set(NONFINITE_KEYS))
            raise ValueError(
                f"optim_wrapper: {keys} apply to type='OptimWrapper' only, "
                'not to '
                f"{optim_wrapper_cfg['type']!r} (an AmpOptimWrapper's loss "
                'scaler skips steps with non-finite gradients itself).')
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cfg['params'] = groups
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        optim_wrapper = OPTIM_WRAPPERS.build(
            optim_wrapper_cfg, default_args=dict(optimizer=optimizer))
        optim_wrapper.group_records = records
        optim_wrapper.module_table = rows
        if isinstance(optim_wrapper, TPOOptimWrapper):
            optim_wrapper.param_names = names
        return optim_wrapper
