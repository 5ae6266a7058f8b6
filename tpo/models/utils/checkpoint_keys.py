"""Which tensors a TPO checkpoint holds, and the check of a checkpoint
against the model before anything is copied."""
import logging
from typing import List, Sequence, Set, Tuple

from mmengine.logging import print_log
from torch import nn

from ..llms.lora import ADAPTER_KEYS, adapt_plain_llm_keys


class CheckpointKeys:
    """Key filtering and strict loading of a model's checkpoints.

    Checkpoints hold every tensor except the frozen weights of submodules
    built from their own pretrained source (``pretrained_paths``, e.g. a
    7B LLM's base weights, or SAM2 inside the mask head), unless those were
    loaded from a checkpoint themselves: the config rebuilds them.

    Loading first routes plain LLM keys into a LoRA-wrapped LLM, then
    compares the checkpoint with the model: unexpected keys, keys of the
    wrong shape, and missing keys that neither a pretrained source nor
    fresh LoRA adapters provide fail (``strict``) or are skipped and logged.

    Args:
        pretrained_paths: attribute paths of the pretrained submodules.
        strict: fail on a mismatch (else skip and log).
        vocab_size: the tokenizer's length, named when vocabulary tables
            mismatch.
    """

    def __init__(self, pretrained_paths: Sequence[str], strict: bool,
                 vocab_size: int) -> None:
        self.pretrained_paths = tuple(pretrained_paths)
        self.strict = strict
        self.vocab_size = vocab_size
        self.carried: Set[str] = set()
        self.load_prefix = ''

    def rebuildable(self, model: nn.Module) -> Set[str]:
        """Frozen tensors of pretrained submodules that no checkpoint
        loaded."""
        keys = set()
        for name in self.pretrained_paths:
            module = model.get_submodule(name)
            for key, param in module.named_parameters(remove_duplicate=False):
                if not param.requires_grad:
                    keys.add(f'{name}.{key}')
            keys.update(f'{name}.{key}' for key, _ in
                        module.named_buffers(remove_duplicate=False))
        return keys - self.carried

    def filter(self, model: nn.Module, state: dict, prefix: str) -> dict:
        """Drop the rebuildable tensors from a model's ``state_dict``."""
        for key in self.rebuildable(model):
            state.pop(prefix + key, None)
        return state

    def check(self, model: nn.Module, state_dict: dict,
              prefix: str) -> None:
        """The load-state-dict pre-hook: adapt plain LLM keys, then check
        the checkpoint against the model (see the class docstring)."""
        own = nn.Module.state_dict(model, keep_vars=True)
        adapt_plain_llm_keys(state_dict, prefix, own)
        incoming = {
            k[len(prefix):]: k
            for k in state_dict if k.startswith(prefix)
        }
        unexpected = sorted(set(incoming) - set(own))
        mismatched = sorted(
            (k, tuple(state_dict[incoming[k]].shape), tuple(own[k].shape))
            for k in incoming
            if k in own and state_dict[incoming[k]].shape != own[k].shape)
        optional = self.rebuildable(model)
        if not any(p in k for k in incoming for p in ADAPTER_KEYS):
            optional |= {k for k in own if any(p in k for p in ADAPTER_KEYS)}
        missing = sorted(set(own) - set(incoming) - optional)
        self.load_prefix = prefix
        if unexpected or mismatched or missing:
            message = self.report(unexpected, mismatched, missing)
            if self.strict:
                raise RuntimeError(
                    message + '\nSet `model.strict_load=False` to skip these '
                    'keys (they are logged).')
            print_log(message + '\nstrict_load=False: these keys are skipped.',
                      logger='current', level=logging.WARNING)
            for key in unexpected + [m[0] for m in mismatched]:
                state_dict.pop(incoming[key])
        skipped = set(unexpected) | {m[0] for m in mismatched}
        self.carried |= set(incoming) - skipped

    def report(self, unexpected: List[str],
               mismatched: List[Tuple[str, tuple, tuple]],
               missing: List[str]) -> str:
        lines = ['The checkpoint does not match the model:']
        if unexpected:
            lines.append(f'unexpected keys ({len(unexpected)}): '
                         f'{", ".join(unexpected)}')
        if mismatched:
            lines.append('keys of the wrong shape (checkpoint vs model): ' +
                         ', '.join(f'{k} {a} vs {b}'
                                   for k, a, b in mismatched))
            if any('embed_tokens' in k or 'lm_head' in k
                   for k, _, _ in mismatched):
                lines.append(
                    f'The tokenizer has {self.vocab_size} tokens: the '
                    'checkpoint was saved with another vocabulary (a '
                    'tokenizer without the task tokens, or other added '
                    'tokens).')
        if missing:
            lines.append(f'missing keys ({len(missing)}): '
                         f'{", ".join(missing)}')
        return '\n'.join(lines)

    def drop_checked_missing(self, incompatible) -> None:
        """The load-state-dict post-hook: missing keys were checked in
        :meth:`check`; drop them from the report torch / mmengine print."""
        incompatible.missing_keys[:] = [
            k for k in incompatible.missing_keys
            if not k.startswith(self.load_prefix)
        ]
