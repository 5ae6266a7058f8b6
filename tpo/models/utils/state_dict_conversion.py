"""Converting released checkpoints to ``TPOModel`` keys: the machinery
shared by the converters of ``tools/model_converters`` (each release's key
map lives in its own tool, so adding a backbone never edits this file).

A conversion applies ordered key rules (first match wins), reports every key
no rule maps together with the reason (never dropping one silently),
reorders the rows of the LLM's vocabulary matrices by token *name* (a
release adds its tokens in its own order) and optionally folds LoRA into
base weights. Pickles are only read with
:func:`tpo.utils.safe_loading.torch_load`.
"""
import json
import os
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from tpo.tasks import TPO_TASKS, task_table
from ..llms.prompt_template import build_prompt_template
from ..llms.vocabulary import add_special_tokens, special_tokens
from .pretrained import checkpoint_files, read_state_dict

#: A rule: (source regex, target template, tensor transform or None).
KeyRule = Tuple[str, str, Optional[Callable[[torch.Tensor], torch.Tensor]]]
#: An unmapped key's reason: (key prefix, why it is not mapped).
UnmappedReason = Tuple[str, str]
UNKNOWN_REASON = 'unknown: no conversion rule'

# The LLM's vocabulary-sized matrices, by key suffix (peft layouts included).
_VOCAB_ROWS = re.compile(
    r'(?:^|\.)(?:embed_tokens|lm_head)\.(?:base_layer\.|original_module\.|'
    r'modules_to_save\.\w+\.|token_adapter\.base_layer\.|lora_B\.\w+\.)?'
    r'weight$')


@dataclass
class ConversionResult:
    """A converted state dict and what could not be mapped.

    Attributes:
        state_dict: TPOModel keys -> tensors.
        renamed: official key -> TPOModel key, for every mapped key.
        unmapped: reason -> official keys not mapped for that reason.
        notes: other remarks (vocabulary rows added or dropped, ...).
    """
    state_dict: Dict[str, torch.Tensor] = field(default_factory=OrderedDict)
    renamed: Dict[str, str] = field(default_factory=OrderedDict)
    unmapped: Dict[str, List[str]] = field(default_factory=OrderedDict)
    notes: List[str] = field(default_factory=list)

    def unmapped_keys(self) -> List[str]:
        return [k for keys in self.unmapped.values() for k in keys]

    def update(self, other: 'ConversionResult') -> None:
        """Merge the result of another shard into this one."""
        self.state_dict.update(other.state_dict)
        self.renamed.update(other.renamed)
        for reason, keys in other.unmapped.items():
            self.unmapped.setdefault(reason, []).extend(keys)
        self.notes.extend(other.notes)

    def report(self, max_keys: Optional[int] = 8) -> str:
        """Human-readable summary: unmapped keys grouped by reason and by
        top-level prefix (up to ``max_keys`` keys listed per prefix; None:
        all)."""
        lines = [f'mapped {len(self.renamed)} keys']
        total = len(self.unmapped_keys())
        lines.append(f'not mapped: {total} keys' +
                     ('' if total else ' (none)'))
        for reason, keys in self.unmapped.items():
            lines.append(f'  [{reason}]')
            by_prefix: Dict[str, List[str]] = OrderedDict()
            for key in keys:
                by_prefix.setdefault(key.split('.')[0], []).append(key)
            for prefix, group in by_prefix.items():
                lines.append(f'    {prefix}.* : {len(group)} keys')
                shown = group if max_keys is None else group[:max_keys]
                lines.extend(f'      {k}' for k in shown)
                if len(shown) < len(group):
                    lines.append(f'      ... {len(group) - len(shown)} more')
        for note in dict.fromkeys(self.notes):
            lines.append(f'note: {note}')
        return '\n'.join(lines)


def map_key(key: str, rules: Sequence[KeyRule]
            ) -> Optional[Tuple[str, Optional[Callable]]]:
    """The TPOModel key of a release key (and a tensor transform) by the
    first matching rule, or None."""
    for pattern, target, transform in rules:
        if re.match(pattern, key):
            return re.sub(pattern, target, key), transform
    return None


def unmapped_reason(key: str, reasons: Sequence[UnmappedReason]) -> str:
    """Why a key no rule maps is left out (the first matching prefix)."""
    for prefix, reason in reasons:
        if key.startswith(prefix):
            return reason
    return UNKNOWN_REASON


def remap_vocab_rows(weight: torch.Tensor, src_tokens: Mapping[str, int],
                     dst_tokens: Mapping[str, int],
                     dst_size: int) -> Tuple[torch.Tensor, List[str]]:
    """Reorder the rows of a vocabulary matrix by token name.

    The base vocabulary (the rows below the first added token on both sides)
    is kept in place; each added token of ``dst_tokens`` takes the row of the
    same token in ``src_tokens``, or the mean of the base rows when the
    source lacks it (how both codes initialise new tokens).

    Returns the new matrix and notes on rows added or dropped.
    """
    src_base = min(src_tokens.values()) if src_tokens else weight.shape[0]
    dst_base = min(dst_tokens.values()) if dst_tokens else dst_size
    if src_base != dst_base:
        raise ValueError(
            f'the base vocabularies differ: {src_base} rows before the added '
            f'tokens in the checkpoint, {dst_base} in the target tokenizer; '
            'the target must use the same base tokenizer (Mistral-7B-Instruct'
            '-v0.2 for VideoChat-TPO)')
    if src_base > weight.shape[0]:
        raise ValueError(f'the matrix has {weight.shape[0]} rows, fewer than '
                         f'the {src_base} base tokens')
    out = weight.new_empty((dst_size, ) + tuple(weight.shape[1:]))
    out[:src_base] = weight[:src_base]
    mean = weight[:src_base].float().mean(0).to(weight.dtype)
    out[src_base:] = mean
    notes = []
    for token, dst_id in dst_tokens.items():
        src_id = src_tokens.get(token)
        if src_id is not None and src_id < weight.shape[0]:
            out[dst_id] = weight[src_id]
        else:
            notes.append(
                f'{token} (id {dst_id}) is new: mean of the base rows')
    for token, src_id in src_tokens.items():
        if token not in dst_tokens:
            notes.append(f'{token} (official id {src_id}) has no token in the '
                         'target tokenizer: its row is dropped')
    return out, notes


def merge_lora_weights(state_dict: Dict[str, torch.Tensor],
                       modules: Sequence[str], lora_alpha: float,
                       adapter: str = 'default') -> List[str]:
    """Fold the LoRA of ``modules`` (key fragments, e.g. ``'lm_head'``) into
    their base weight, in place: ``W = W0 + alpha / r * B @ A`` under the
    plain name ``<module>.weight``. For a target whose LoRA does not cover
    those modules (TPOModel routes plain names into its peft layout)."""
    notes = []
    for key in [k for k in state_dict if k.endswith('.base_layer.weight')]:
        module = key[:-len('.base_layer.weight')]
        if not any(module == m or module.endswith('.' + m) for m in modules):
            continue
        a = state_dict.pop(f'{module}.lora_A.{adapter}.weight', None)
        b = state_dict.pop(f'{module}.lora_B.{adapter}.weight', None)
        base = state_dict.pop(key)
        if a is not None and b is not None:
            delta = (b.float() @ a.float()) * (lora_alpha / a.shape[0])
            base = (base.float() + delta).to(base.dtype)
            notes.append(f'merged LoRA of {module} (r={a.shape[0]}, '
                         f'alpha={lora_alpha}) into {module}.weight')
        state_dict[f'{module}.weight'] = base
    return notes


def convert_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        rules: Sequence[KeyRule],
        unmapped_reasons: Sequence[UnmappedReason] = (),
        src_tokens: Optional[Mapping[str, int]] = None,
        dst_tokens: Optional[Mapping[str, int]] = None,
        dst_vocab_size: Optional[int] = None,
        merge_lora: Sequence[str] = (),
        lora_alpha: float = 32.0,
        dtype: Optional[torch.dtype] = None) -> ConversionResult:
    """Convert a released state dict by ``rules``.

    Args:
        state_dict: release keys -> tensors (one shard is fine).
        rules: the release's key rules (first match wins).
        unmapped_reasons: why keys no rule maps are left out.
        src_tokens: token -> id of the tokens the release added to its
            LLM's vocabulary.
        dst_tokens, dst_vocab_size: token -> id of the target tokenizer's
            added tokens and its length (:func:`tpo_added_tokens`); None:
            the vocabulary rows are kept as they are.
        merge_lora: LLM modules whose LoRA is folded into the base weight
            (e.g. ``('lm_head', )`` for a target without LoRA there).
        lora_alpha: the release's LoRA alpha.
        dtype: cast floating tensors to this dtype.
    """
    result = ConversionResult()
    src_tokens = src_tokens or {}
    llm = {}
    for key, value in state_dict.items():
        mapped = map_key(key, rules)
        if mapped is None:
            result.unmapped.setdefault(unmapped_reason(key, unmapped_reasons),
                                       []).append(key)
            continue
        target, transform = mapped
        if transform is not None:
            value = transform(value)
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        result.renamed[key] = target
        if target.startswith('llm.'):
            llm[target] = value
        else:
            result.state_dict[target] = value
    if merge_lora:
        result.notes += merge_lora_weights(llm, merge_lora, lora_alpha)
    vocab_notes = set()
    for key, value in llm.items():
        if dst_tokens is not None and _VOCAB_ROWS.search(key):
            value, notes = remap_vocab_rows(value, src_tokens, dst_tokens,
                                            dst_vocab_size)
            vocab_notes.update(notes)
        result.state_dict[key] = value
    if vocab_notes:
        result.notes += sorted(vocab_notes)
    elif llm and dst_tokens is None and src_tokens:
        result.notes.append(
            'vocabulary rows kept in the release order (' + ', '.join(
                f'{t}={i}' for t, i in src_tokens.items()) + '); pass the '
            'target tokens to reorder them for TPOModel')
    return result


def tpo_added_tokens(tokenizer, model_cfg: Mapping
                     ) -> Tuple[Dict[str, int], int]:
    """Add the special tokens that ``TPOModel`` adds for ``model_cfg`` to
    ``tokenizer`` (the same list, :func:`special_tokens`) and
    return token -> id plus the number of rows of the model's vocabulary
    tables: the tokenizer's length, or the LLM's own vocabulary size when
    larger (tables never shrink)."""
    prompt = build_prompt_template(model_cfg.get('prompt_template'))
    special = special_tokens(
        task_table(model_cfg.get('tasks') or TPO_TASKS),
        model_cfg.get('box_prompt_encoder') is not None, prompt.video_token)
    add_special_tokens(tokenizer, special)
    tokens = {t: tokenizer.convert_tokens_to_ids(t) for t in special}
    return tokens, max(len(tokenizer), _llm_vocab_size(model_cfg['llm']))


def _llm_vocab_size(llm_cfg: Mapping) -> int:
    """The vocabulary size an ``HFCausalLM`` config starts from (0 when
    unknown)."""
    if llm_cfg.get('pretrained'):
        path = osp.join(llm_cfg['pretrained'], 'config.json')
        if osp.exists(path):
            with open(path) as f:
                return int(json.load(f).get('vocab_size', 0))
        return 0
    return int((llm_cfg.get('config') or {}).get('vocab_size', 0))


def save_safetensors(state_dict: Mapping[str, torch.Tensor], path: str,
                     source: str) -> None:
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in state_dict.items()}, path,
              metadata={'format': 'pt',
                        'converted_from': osp.basename(source)})


def convert_checkpoint(
        src: str, out: str,
        convert: Callable[[Dict[str, torch.Tensor]], ConversionResult],
        show_all: bool = False) -> ConversionResult:
    """Convert the checkpoint ``src`` (a file, sharded index or folder)
    shard by shard with ``convert`` and write ``out``: one ``.safetensors``
    file, or a folder with one shard per input shard and
    ``model.safetensors.index.json``. Prints the report (every unmapped key
    with ``show_all``) and writes it in full next to the output."""
    files = checkpoint_files(src)
    total = ConversionResult()
    single = out.endswith('.safetensors')
    if single:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        for file in files:
            total.update(convert(read_state_dict(file)))
        save_safetensors(total.state_dict, out, src)
    else:
        os.makedirs(out, exist_ok=True)
        weight_map = {}
        for i, file in enumerate(files):
            result = convert(read_state_dict(file))
            name = f'model-{i + 1:05d}-of-{len(files):05d}.safetensors'
            if result.state_dict:
                save_safetensors(result.state_dict, osp.join(out, name), file)
                weight_map.update({k: name for k in result.state_dict})
            total.update(result)
            total.state_dict.clear()  # keep memory to one shard
        with open(osp.join(out, 'model.safetensors.index.json'), 'w') as f:
            json.dump(dict(metadata={'converted_from': src},
                           weight_map=weight_map), f, indent=2)
    print(total.report(max_keys=None if show_all else 8))
    report_path = (out[:-len('.safetensors')] if single else
                   osp.join(out, 'conversion')) + '.report.txt'
    with open(report_path, 'w') as f:
        f.write(total.report(max_keys=None) + '\n')
    print(f'wrote {out} (full report: {report_path})')
    return total
