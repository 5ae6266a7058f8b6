"""Key mapping from released VideoChat2 / VideoChat-TPO checkpoints to
:class:`~tpo.models.TPOModel`.

Two official layouts are understood:

* **VideoChat-TPO** (``OpenGVLab/VideoChat-TPO``, the inference code of
  ``OpenGVLab/TPO``): safetensors shards with keys
  ``vision_encoder.encoder.*``, ``vision_layernorm.*``, ``qformer.bert.*``,
  ``query_tokens``, ``extra_query_tokens``, ``project_up.*``,
  ``lm.base_model.model.*`` (peft LoRA layout, LoRA also on ``lm_head``),
  the task tokens ``box_token`` / ``temporal_token`` / ``track_token``, the
  region head ``loc_decoder.*``, the box-prompt encoder ``loc_encoder.*`` and
  the parts of the temporal and mask heads.
* **VideoChat2 stage 3** (``OpenGVLab/Ask-Anything``, ``video_chat2``): a
  ``.pth`` with the same vision / Q-Former names, the projection named
  ``mistral_proj`` (Mistral), ``llama_proj`` (Vicuna) or ``phi_proj`` (Phi),
  and the LLM under ``mistral_model.`` / ``llama_model.`` / ``phi_model.``
  (``<llm>.base_model.model.*`` when trained with LoRA, ``<llm>.model.*`` /
  ``<llm>.lm_head.*`` otherwise).

The rules (first match wins, official -> TPOModel; :data:`KEY_RULES`):

* ``vision_encoder.encoder.{patch_embed,blocks}.*`` ->
  ``vision_encoder.{patch_embed,blocks}.*``
* ``vision_layernorm.*`` -> ``vision_encoder.norm.*`` (eps 1e-12)
* ``qformer.bert.embeddings.LayerNorm.*`` ->
  ``connector.qformer.embeddings.layernorm.*``; the word / position
  embeddings keep their names under ``connector.qformer.embeddings.``
* ``qformer.bert.encoder.layer.N.{attention,crossattention}.self.*`` ->
  ``connector.qformer.encoder.layer.N.{...}.attention.*``; the other layer
  keys (``*.output``, ``intermediate[_query]``, ``output[_query]``) keep
  their names under ``connector.qformer.encoder.layer.N.``
* ``query_tokens`` / ``extra_query_tokens`` -> ``connector.`` same names
* ``project_up`` / ``mistral_proj`` / ``llama_proj`` / ``phi_proj`` ->
  ``connector.proj``
* ``box_token`` / ``temporal_token`` / ``track_token`` ->
  ``task_tokens.tokens.{region,temporal,mask}`` (squeezed to ``(D,)``)
* ``loc_decoder.{0,2}`` -> ``heads.region.mlp.{0,2}``
* ``loc_encoder.{0,2}`` -> ``box_prompt_encoder.mlp.{0,2}``
* ``lm.*`` / ``mistral_model.*`` / ``llama_model.*`` / ``phi_model.*`` ->
  ``llm.*`` (the peft layout is kept)

Everything else is *reported*, grouped by prefix with the reason it is not
mapped (:data:`UNMAPPED_REASONS`), never dropped silently.

The rows of the LLM's vocabulary matrices (``embed_tokens``, ``lm_head`` and
the ``lora_B`` of ``lm_head``) are reordered by token *name*: the release
adds seven tokens at ids 32000-32006 (:data:`VIDEOCHAT_TPO_ADDED_TOKENS`),
TPOModel adds its placeholder and task tokens in its own order.

Pickles are only read with ``torch.load(weights_only=True)``.
"""
import json
import os
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from tpo.utils.safe_loading import torch_load

# Token -> id of the tokens the VideoChat-TPO release added to Mistral's
# 32000-token vocabulary (its added_tokens.json).
VIDEOCHAT_TPO_ADDED_TOKENS: Dict[str, int] = {
    '<box_begin>': 32000,
    '<time_begin>': 32001,
    '<temp>': 32002,
    '<boxes>': 32003,
    '<track_begin>': 32004,
    '<tracking>': 32005,
    '<track_box>': 32006,
}

# (source regex, target template, tensor transform or None), first match wins.
_Rule = Tuple[str, str, Optional[Callable[[torch.Tensor], torch.Tensor]]]


def _flatten(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1)


KEY_RULES: List[_Rule] = [
    # vision encoder (UMT) and VideoChat2's vision_layernorm
    (r'^vision_encoder\.encoder\.(patch_embed|blocks)\.(.+)$',
     r'vision_encoder.\1.\2', None),
    (r'^vision_layernorm\.(weight|bias)$', r'vision_encoder.norm.\1', None),
    # Q-Former: LAVIS BertModel -> transformers InstructBlipQFormerModel
    (r'^qformer\.bert\.embeddings\.LayerNorm\.(weight|bias)$',
     r'connector.qformer.embeddings.layernorm.\1', None),
    (r'^qformer\.bert\.embeddings\.(word_embeddings|position_embeddings)'
     r'\.weight$', r'connector.qformer.embeddings.\1.weight', None),
    (r'^qformer\.bert\.encoder\.layer\.(\d+)\.(attention|crossattention)'
     r'\.self\.(.+)$', r'connector.qformer.encoder.layer.\1.\2.attention.\3',
     None),
    (r'^qformer\.bert\.encoder\.layer\.(\d+)\.((?:attention|crossattention)'
     r'\.output|intermediate|output|intermediate_query|output_query)\.(.+)$',
     r'connector.qformer.encoder.layer.\1.\2.\3', None),
    (r'^query_tokens$', r'connector.query_tokens', None),
    (r'^extra_query_tokens$', r'connector.extra_query_tokens', None),
    (r'^(?:project_up|mistral_proj|llama_proj|phi_proj)\.(weight|bias)$',
     r'connector.proj.\1', None),
    # task tokens and task parts
    (r'^box_token$', r'task_tokens.tokens.region', _flatten),
    (r'^temporal_token$', r'task_tokens.tokens.temporal', _flatten),
    (r'^track_token$', r'task_tokens.tokens.mask', _flatten),
    (r'^loc_decoder\.([02])\.(weight|bias)$', r'heads.region.mlp.\1.\2',
     None),
    (r'^loc_encoder\.([02])\.(weight|bias)$',
     r'box_prompt_encoder.mlp.\1.\2', None),
    # temporal head: CG-DETR under CGDETRHead's `cg_model`
    (r'^cg_model\.(?!txt_proj_linear\.|txt_position_embed\.)(.+)$',
     r'heads.temporal.cg_model.\1', None),
    # mask head: SAM2 and the prompt adapter of SAM2MaskHead
    (r'^sam\.(.+)$', r'heads.mask.sam.\1', None),
    (r'^track_embed\.(.+)$', r'heads.mask.adapter.\1', None),
    (r'^track_embed_decode2\.(.+)$', r'heads.mask.aux_box.\1', None),
    # LLM, peft layout kept
    (r'^(?:lm|mistral_model|llama_model|phi_model)\.(.+)$', r'llm.\1', None),
]

# Prefix -> why the key is not mapped; checked in order.
UNMAPPED_REASONS: List[Tuple[str, str]] = [
    ('project_down.', 'unused: the release appends the raw LLM hidden '
     'state to the text query (CGDETRHead(project_task_embedding=False))'),
    ('cg_model.txt_proj_linear.', 'unused by the official CG-DETR forward'),
    ('cg_model.txt_position_embed.', 'unused by the release (CGDETRHead '
     'builds it only with use_txt_pos=True)'),
    ('cg_criterion.', 'buffer: the class weights CGDETRHead rebuilds from '
     'its loss config'),
    ('temporal_embed.', 'legacy MLP temporal head, unused by the release\'s '
     'inference (it grounds with CG-DETR)'),
    ('action_embed.', 'legacy actionness MLP, unused by the release\'s '
     'inference'),
    ('merge_proj.', 'unused: token merging for use_clip=True, which the '
     'released model never runs'),
    ('qformer.bert.embeddings.position_ids', 'buffer: transformers rebuilds '
     'position_ids (non-persistent)'),
    ('qformer.cls.', 'unused: BERT masked-LM head'),
    ('vision_encoder.encoder.norm.', 'UMT-internal final norm (with_ln=True);'
     ' VideoViT has one final norm, which takes vision_layernorm'),
    ('vision_encoder.encoder.pos_embed', 'fixed table: VideoViT rebuilds it'),
    ('vision_encoder.encoder.img_pos_embed', 'fixed table: VideoViT rebuilds '
     'it'),
]
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
        lines.append(f'not mapped: {total} keys' + ('' if total else ' (none)'))
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


def map_key(key: str) -> Optional[Tuple[str, Optional[Callable]]]:
    """The TPOModel key of an official key (and a tensor transform), or
    None."""
    for pattern, target, transform in KEY_RULES:
        if re.match(pattern, key):
            return re.sub(pattern, target, key), transform
    return None


def unmapped_reason(key: str) -> str:
    for prefix, reason in UNMAPPED_REASONS:
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
            notes.append(f'{token} (id {dst_id}) is new: mean of the base rows')
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


def convert_videochat_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        src_tokens: Optional[Mapping[str, int]] = None,
        dst_tokens: Optional[Mapping[str, int]] = None,
        dst_vocab_size: Optional[int] = None,
        merge_lora: Sequence[str] = (),
        lora_alpha: float = 32.0,
        dtype: Optional[torch.dtype] = None) -> ConversionResult:
    """Convert an official VideoChat2 / VideoChat-TPO state dict.

    Args:
        state_dict: official keys -> tensors (one shard is fine).
        src_tokens: token -> id of the tokens added to the checkpoint's LLM
            vocabulary; None: :data:`VIDEOCHAT_TPO_ADDED_TOKENS` when the
            keys are VideoChat-TPO's (``lm.*``), none for VideoChat2.
        dst_tokens, dst_vocab_size: token -> id of the target tokenizer's
            added tokens and its length (:func:`tpo_added_tokens`); None:
            the vocabulary rows are kept as they are.
        merge_lora: LLM modules whose LoRA is folded into the base weight
            (e.g. ``('lm_head', )`` for a target without LoRA there).
        lora_alpha: the checkpoint's LoRA alpha (VideoChat-TPO: 32).
        dtype: cast floating tensors to this dtype.
    """
    result = ConversionResult()
    if src_tokens is None:
        src_tokens = VIDEOCHAT_TPO_ADDED_TOKENS \
            if any(k.startswith('lm.') for k in state_dict) else {}
    llm = {}
    for key, value in state_dict.items():
        mapped = map_key(key)
        if mapped is None:
            result.unmapped.setdefault(unmapped_reason(key), []).append(key)
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
            'vocabulary rows kept in the official order (' + ', '.join(
                f'{t}={i}' for t, i in src_tokens.items()) + '); pass the '
            'target tokens to reorder them for TPOModel')
    return result


def tpo_added_tokens(tokenizer, model_cfg: Mapping
                     ) -> Tuple[Dict[str, int], int]:
    """Add the special tokens that ``TPOModel`` adds for ``model_cfg`` to
    ``tokenizer`` (the same list, from ``TPOModel._special_tokens``) and
    return token -> id plus the number of rows of the model's vocabulary
    tables: the tokenizer's length, or the LLM's own vocabulary size when
    larger (tables never shrink)."""
    from types import SimpleNamespace

    from tpo.models.llms.prompt_template import build_prompt_template
    from tpo.models.tpo_model import TPOModel
    from tpo.structures import TPO_TASKS
    holder = SimpleNamespace(
        prompt=build_prompt_template(model_cfg.get('prompt_template')),
        tasks={t: dict(s)
               for t, s in (model_cfg.get('tasks') or TPO_TASKS).items()})
    special = TPOModel._special_tokens(
        holder, model_cfg.get('box_prompt_encoder') is not None)
    tokenizer.add_special_tokens({'additional_special_tokens': special})
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


# ---------------------------------------------------------------- file I/O
def _torch_load(path: str) -> Dict[str, torch.Tensor]:
    """A pickled state dict, read with ``weights_only=True`` (memory-mapped
    when the file allows it, so that picking a part stays cheap)."""
    try:
        obj = torch_load(path, map_location='cpu', mmap=True)
    except RuntimeError:  # legacy (non-zip) format: no mmap
        obj = torch_load(path, map_location='cpu')
    for key in ('model', 'module', 'state_dict'):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    return dict(obj)


def checkpoint_files(path: str) -> List[str]:
    """The weight files of a checkpoint: a file, a sharded
    ``*.safetensors.index.json``, or a folder holding one of those."""
    if osp.isdir(path):
        index = [f for f in sorted(os.listdir(path))
                 if f.endswith('.safetensors.index.json')]
        if index:
            return checkpoint_files(osp.join(path, index[0]))
        files = [osp.join(path, f) for f in sorted(os.listdir(path))
                 if f.endswith('.safetensors')]
        if files:
            return files
        raise FileNotFoundError(f'{path!r} holds no *.safetensors or '
                                '*.safetensors.index.json')
    if path.endswith('.json'):
        with open(path) as f:
            weight_map = json.load(f)['weight_map']
        folder = osp.dirname(path)
        return [osp.join(folder, f) for f in dict.fromkeys(weight_map.values())]
    return [path]


def load_state_dict_file(
        path: str,
        select: Optional[Callable[[str], bool]] = None
) -> Dict[str, torch.Tensor]:
    """Read a checkpoint (safetensors, sharded index, folder, or a pickle read
    with ``torch.load(weights_only=True)``) into one state dict, keeping only
    the keys ``select`` accepts (all when None)."""
    from safetensors import safe_open
    state = {}
    for file in checkpoint_files(path):
        if file.endswith('.safetensors'):
            with safe_open(file, framework='pt', device='cpu') as f:
                for key in f.keys():
                    if select is None or select(key):
                        state[key] = f.get_tensor(key)
        else:
            state.update((k, v) for k, v in _torch_load(file).items()
                         if select is None or select(k))
    return state


def checkpoint_keys(path: str) -> List[str]:
    """The keys of a checkpoint without reading its tensors (pickles are
    memory-mapped)."""
    from safetensors import safe_open
    keys = []
    for file in checkpoint_files(path):
        if file.endswith('.safetensors'):
            with safe_open(file, framework='pt', device='cpu') as f:
                keys += list(f.keys())
        else:
            keys += list(_torch_load(file))
    return keys


def is_official_layout(keys) -> bool:
    return any(
        k.startswith(('vision_encoder.encoder.', 'qformer.bert.',
                      'vision_layernorm.', 'lm.base_model.',
                      'mistral_model.', 'llama_model.')) or k in (
                          'query_tokens', 'extra_query_tokens')
        for k in keys)


def belongs_to(key: str, component: str) -> bool:
    """Whether an official or TPOModel key belongs to ``component``."""
    if key.startswith(component + '.'):
        return True
    mapped = map_key(key)
    return mapped is not None and mapped[0].startswith(component + '.')


def component_state_dict(state_dict: Mapping[str, torch.Tensor],
                         component: str) -> Dict[str, torch.Tensor]:
    """The part of a checkpoint that belongs to ``component`` (a TPOModel
    attribute, e.g. ``'vision_encoder'``), with the prefix removed. Official
    key names are converted first; a state dict without any key of the
    component is taken to be the component's own (bare keys)."""
    part = {k: v for k, v in state_dict.items() if belongs_to(k, component)}
    if not part:
        return dict(state_dict)
    if is_official_layout(part):
        result = convert_videochat_state_dict(part)
        if result.unmapped:
            from mmengine.logging import print_log
            print_log(f'{component}: keys not loaded: '
                      f'{result.unmapped_keys()}', 'current', level=30)
        part = result.state_dict
    prefix = component + '.'
    return {k[len(prefix):]: v for k, v in part.items()
            if k.startswith(prefix)}


def load_pretrained_component(module: torch.nn.Module, path: str,
                              component: str) -> Tuple[List[str], List[str]]:
    """Load ``component``'s weights from the checkpoint at ``path`` into
    ``module`` (non-strict), log missing and unexpected keys, and fail when
    no key matches. Returns ``(missing, unexpected)``."""
    from mmengine.logging import print_log
    keys = checkpoint_keys(path)
    if any(belongs_to(k, component) for k in keys):
        raw = load_state_dict_file(path, lambda k: belongs_to(k, component))
    else:
        raw = load_state_dict_file(path)
    state = component_state_dict(raw, component)
    own = module.state_dict()
    if not set(state) & set(own):
        raise KeyError(
            f'{type(module).__name__}: no key of {path!r} belongs to '
            f'{component} (first keys: {sorted(state)[:5]})')
    missing, unexpected = module.load_state_dict(state, strict=False)
    print_log(
        f'{type(module).__name__}: loaded {len(set(state) & set(own))} '
        f'tensors of {component} from {path}', 'current')
    if missing:
        print_log(f'{type(module).__name__}: missing keys {missing}',
                  'current', level=30)
    if unexpected:
        print_log(f'{type(module).__name__}: unused keys {unexpected}',
                  'current', level=30)
    return missing, unexpected
