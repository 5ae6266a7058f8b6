"""Export a trained TPO model: the LLM (LoRA merged) as a Hugging Face model
folder, the other parts as one safetensors file.

The exported folder holds:

* ``config.json``, ``model*.safetensors`` (+ ``generation_config.json``):
  the LLM with LoRA merged into its weights, loadable with
  ``transformers.AutoModelForCausalLM.from_pretrained(folder)``;
* the tokenizer files (``AutoTokenizer.from_pretrained(folder)``), holding
  the video placeholder, task-begin and task tokens at the ids used in
  training;
* ``tpo_components.safetensors``: every tensor outside the LLM (vision
  encoder, connector, task tokens, heads, ...) under its TPOModel name;
  its header metadata (key ``'tpo'``, JSON) names the tasks and their
  token ids;
* ``tpo_config.py``: the config the model was built from.
"""
import os
import os.path as osp
import re
from typing import Optional, Union

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from torch import nn

from .checkpoint import load_checkpoint_file, resolve_checkpoint
from .hooks.safetensors_checkpoint_hook import save_safetensors

COMPONENTS_FILE = 'tpo_components.safetensors'
CONFIG_FILE = 'tpo_config.py'


def load_config(config: Union[str, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """A :class:`Config` from a path (clear error when it is missing)."""
    if not isinstance(config, Config):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'config file {config!r} does not exist')
        config = Config.fromfile(str(config))
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if not config.get('model'):
        raise ValueError(
            f'config {config.filename or ""!r} has no `model` to build')
    return config


def checkpoint_state_dict(filename: str) -> dict:
    """The model weights of a ``.pth`` (its ``state_dict``) or of a
    ``.safetensors`` file, with DDP's ``module.`` prefix removed."""
    checkpoint = load_checkpoint_file(filename, map_location='cpu')
    state_dict = checkpoint['state_dict'] if isinstance(
        checkpoint.get('state_dict'), dict) else checkpoint
    return {re.sub(r'^module\.', '', k): v for k, v in state_dict.items()}


def build_model_from_checkpoint(config: Union[str, Config],
                                checkpoint: str,
                                cfg_options: Optional[dict] = None
                                ) -> tuple:
    """Build ``cfg.model`` and load the weights of ``checkpoint`` (a
    ``.pth``, a ``.safetensors`` or a work dir) into it.

    A checkpoint may hold a subset of the weights (the rest comes from the
    config's pretrained sources, loaded when the model is built); a
    checkpoint holding none of them is an error (a mismatching one also
    fails in ``TPOModel``'s own check when ``strict_load``). Returns
    ``(model, cfg, checkpoint_path)``.
    """
    cfg = load_config(config, cfg_options)
    path = resolve_checkpoint(str(checkpoint), key='checkpoint')
    # Read (or refuse) the checkpoint before the model takes minutes to build.
    state_dict = checkpoint_state_dict(path)
    from mmengine.registry import init_default_scope

    from tpo.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'tpo'))
    model = MODELS.build(cfg.model)
    result = model.load_state_dict(state_dict, strict=False)
    unexpected = list(result.unexpected_keys)
    if state_dict and len(unexpected) == len(state_dict):
        raise ValueError(
            f'checkpoint {path} holds none of the weights of the model of '
            f'the config (first keys: {unexpected[:3]}); is it the '
            'checkpoint of this config?')
    if unexpected:
        print_log(
            f'{len(unexpected)} tensors of {path} are not in the model, '
            f'e.g. {unexpected[:3]}', logger='current', level=30)
    print_log(
        f'loaded {len(state_dict) - len(unexpected)} tensors from {path} '
        f'into a model of {len(nn.Module.state_dict(model))} tensors (the '
        'others come from the config)', logger='current')
    model.eval()
    return model, cfg, path


def build_model_from_export(folder: str,
                            cfg_options: Optional[dict] = None) -> tuple:
    """Build the model of an :func:`export_hf` folder: its config, with the
    merged LLM (frozen, no LoRA) and the tokenizer read from the folder and
    every other tensor from ``tpo_components.safetensors``. Returns
    ``(model, cfg)``."""
    for name in (CONFIG_FILE, COMPONENTS_FILE, 'config.json'):
        if not osp.isfile(osp.join(folder, name)):
            raise FileNotFoundError(
                f'{folder} lacks {name}: it is not a folder written by '
                'tools/model_converters/export_hf.py')
    cfg = load_config(osp.join(folder, CONFIG_FILE), cfg_options)
    llm = dict(type='HFCausalLM', pretrained=folder)
    for key in ('torch_dtype', 'attn_implementation'):
        if cfg.model.llm.get(key) is not None:
            llm[key] = cfg.model.llm[key]
    cfg.model.llm = llm
    cfg.model.tokenizer = dict(type='PretrainedTokenizer', path=folder)
    cfg.model.lora = None
    cfg.model.frozen_modules = tuple(
        m for m in cfg.model.get('frozen_modules', ()) if m != 'llm') + (
            'llm', )
    from mmengine.registry import init_default_scope

    from tpo.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'tpo'))
    model = MODELS.build(cfg.model)
    model.load_state_dict(
        checkpoint_state_dict(osp.join(folder, COMPONENTS_FILE)))
    model.eval()
    return model, cfg


def non_llm_state_dict(model: nn.Module, llm_name: str = 'llm') -> dict:
    """Every parameter and persistent buffer of ``model`` outside its LLM,
    whatever ``model.state_dict()`` is trimmed to."""
    state = {}
    for name, child in model.named_children():
        if name != llm_name:
            state.update(nn.Module.state_dict(child, prefix=f'{name}.'))
    for name, value in model.named_parameters(recurse=False):
        state[name] = value
    for name, value in model.named_buffers(recurse=False):
        if name not in model._non_persistent_buffers_set:
            state[name] = value
    return {k: v.detach() for k, v in state.items()
            if isinstance(v, torch.Tensor)}


def merged_llm(model: nn.Module) -> nn.Module:
    """The model's LLM with LoRA (and peft's trainable token rows and
    ``modules_to_save`` copies) merged in: a plain transformers model.
    Merges in place (the TPOModel's LLM is changed)."""
    llm = model.llm
    if hasattr(llm, 'merge_and_unload'):
        llm = llm.merge_and_unload()
    return llm


def export_hf(config: Union[str, Config],
              checkpoint: str,
              out_dir: str,
              dtype: Optional[str] = None,
              bake_task_tokens: bool = False,
              cfg_options: Optional[dict] = None,
              max_shard_size: str = '5GB') -> dict:
    """Export the model of ``config`` with the weights of ``checkpoint`` to
    ``out_dir`` (see the module docstring for the layout).

    Args:
        config: config file (or :class:`Config`).
        checkpoint: ``.pth``, ``.safetensors`` or a work dir (its last
            checkpoint).
        out_dir: output folder (created).
        dtype: cast the LLM to this dtype (``'bfloat16'``...) before saving.
        bake_task_tokens: also write each learned task-token embedding
            into the LLM's input-embedding row of its token, so the plain
            LLM sees the task token as TPOModel feeds it. Off by default:
            the exported LLM then computes exactly what the trained
            (LoRA) LLM computes on the same token ids.
        cfg_options: config overrides.
        max_shard_size: shard size of the LLM's safetensors files.

    Returns:
        A summary: output folder, checkpoint used, task token ids, file
        names.
    """
    model, cfg, path = build_model_from_checkpoint(config, checkpoint,
                                                   cfg_options)
    os.makedirs(out_dir, exist_ok=True)
    tasks = {
        task: dict(
            begin=spec.begin,
            token=spec.token,
            begin_id=int(model.tokenizer.convert_tokens_to_ids(spec.begin)),
            token_id=int(model.task_token_ids[task]))
        for task, spec in model.tasks.items()
    }
    metadata = dict(
        producer='tpo.engine.export',
        checkpoint=osp.basename(path),
        config=osp.basename(cfg.filename) if cfg.filename else None,
        tasks=tasks,
        video_token=model.prompt.video_token,
        video_token_id=int(model.splicer.video_id))
    save_safetensors(non_llm_state_dict(model),
                     osp.join(out_dir, COMPONENTS_FILE), metadata)

    with torch.no_grad():
        llm = merged_llm(model)
        if bake_task_tokens:
            weight = llm.get_input_embeddings().weight
            for task, token_id in model.task_token_ids.items():
                weight[token_id] = model.task_tokens[task].to(weight)
        if dtype is not None:
            llm = llm.to(getattr(torch, dtype))
    llm.save_pretrained(out_dir, max_shard_size=max_shard_size)
    model.tokenizer.save_pretrained(out_dir)
    cfg.dump(osp.join(out_dir, CONFIG_FILE))
    print_log(f'exported {path} to {out_dir}', logger='current')
    return dict(
        out_dir=out_dir,
        checkpoint=path,
        tasks=tasks,
        components=osp.join(out_dir, COMPONENTS_FILE),
        config=osp.join(out_dir, CONFIG_FILE))
