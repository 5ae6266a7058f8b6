"""Frozen submodules (no gradients, and eval mode even when the model
trains) and submodules that mmengine's ``init_weights`` must leave alone."""
from typing import Iterable

from torch import nn


def freeze_modules(root: nn.Module, paths: Iterable[str]) -> None:
    """Stop the gradients of the submodules at ``paths`` (attribute paths
    such as ``'vision_encoder'`` or ``'heads.mask.sam'``) and put them in
    eval mode."""
    for path in paths:
        module = root.get_submodule(path)
        module.eval()
        module.requires_grad_(False)


def keep_in_eval(root: nn.Module, paths: Iterable[str]) -> None:
    """Put the submodules at ``paths`` back in eval mode (after
    ``root.train()``)."""
    for path in paths:
        root.get_submodule(path).eval()


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
