"""Frozen submodules (no gradients, and eval mode even when the model
trains) and submodules that mmengine's ``init_weights`` must leave alone."""
from typing import Iterable, Optional

from torch import nn


def freeze_modules(root: nn.Module, paths: Iterable[str]) -> None:
    """Stop the gradients of the submodules at ``paths`` (attribute paths
    such as ``'vision_encoder'`` or ``'heads.mask.sam'``) and put them in
    eval mode. A path may also name one parameter (a task token,
    ``'task_tokens.tokens.region'``), which stops training alone."""
    for path in paths:
        module = _submodule(root, path)
        if module is None:
            root.get_parameter(path).requires_grad_(False)
            continue
        module.eval()
        module.requires_grad_(False)


def keep_in_eval(root: nn.Module, paths: Iterable[str]) -> None:
    """Put the submodules at ``paths`` back in eval mode (after
    ``root.train()``); parameter paths are passed over."""
    for path in paths:
        module = _submodule(root, path)
        if module is not None:
            module.eval()


def _submodule(root: nn.Module, path: str) -> Optional[nn.Module]:
    """The submodule at ``path``; None when ``path`` names a parameter
    (an error naming the path when it names neither)."""
    try:
        return root.get_submodule(path)
    except AttributeError:
        pass
    try:
        root.get_parameter(path)
    except AttributeError:
        raise AttributeError(
            f'{path!r} is neither a submodule nor a parameter of the '
            f'{type(root).__name__}') from None
    return None


def mark_built_initialised(root: nn.Module) -> None:
    """Mark the Hugging Face and PEFT modules under ``root``, initialised
    (or loaded) when built, as initialised, so that mmengine's
    ``init_weights`` (the Runner's, before ``load_from``) leaves them: it
    would re-draw LoRA's B matrices, which start at zero."""
    from peft import PeftModel
    from transformers import PreTrainedModel
    for module in root.modules():
        if isinstance(module, (PreTrainedModel, PeftModel)):
            module.is_init = True
