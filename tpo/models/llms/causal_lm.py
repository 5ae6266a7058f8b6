"""Hugging Face causal LMs behind the registry."""
from typing import Optional

import torch
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedModel

from tpo.registry import MODELS
from tpo.utils.local_files import require_hf_model_folder


def hf_model_kwargs(torch_dtype: Optional[str],
                    attn_implementation: Optional[str]) -> dict:
    """``from_pretrained`` / ``from_config`` keyword arguments for a weight
    dtype name (``'bfloat16'``) and an attention implementation."""
    kwargs = {}
    if torch_dtype is not None:
        kwargs['dtype'] = getattr(torch, torch_dtype)
    if attn_implementation is not None:
        kwargs['attn_implementation'] = attn_implementation
    return kwargs


@MODELS.register_module()
def HFCausalLM(config: Optional[dict] = None,
               pretrained: Optional[str] = None,
               torch_dtype: Optional[str] = None,
               attn_implementation: Optional[str] = None) -> PreTrainedModel:
    """Build a causal LM from a local folder or, for tests, from a config.

    Args:
        config: ``dict(model_type='llama', hidden_size=..., ...)``: a randomly
            initialised model of that family (tiny configs).
        pretrained: a local folder holding ``config.json`` and the weights
            (e.g. a downloaded Mistral-7B-Instruct); takes precedence.
        torch_dtype: e.g. ``'bfloat16'``.
        attn_implementation: ``'sdpa'``, ``'eager'`` or ``'flash_attention_2'``.
    """
    kwargs = hf_model_kwargs(torch_dtype, attn_implementation)
    if pretrained is not None:
        require_hf_model_folder(
            pretrained, 'HFCausalLM',
            'the model card on the Hugging Face hub (e.g. '
            '`huggingface-cli download mistralai/Mistral-7B-Instruct-v0.2 '
            '--local-dir <dir>`)')
        return AutoModelForCausalLM.from_pretrained(
            pretrained, local_files_only=True, **kwargs)
    if config is None:
        raise ValueError('HFCausalLM needs `pretrained` (a local folder) or '
                         '`config` (dict with model_type=...).')
    config = dict(config)
    model_config = AutoConfig.for_model(config.pop('model_type'), **config)
    return AutoModelForCausalLM.from_config(model_config, **kwargs)
