"""A recipe's model at its real shape without its weights, and synthetic
training samples of the recipe's shapes (used by ``benchmark_scale.py``).

* :func:`random_weights` rewrites a config so that nothing is read from
  disk: each local folder a recipe loads (an LLM, its tokenizer, a SigLIP
  tower, BERT's tokenizer) is replaced by a randomly initialised model of
  the published hyper-parameters (:data:`PUBLISHED`, the ``config.json`` of
  the hub repository; a local ``config.json`` at the configured path takes
  precedence) and a word-level tokenizer of the same vocabulary size;
  ``pretrained`` / ``checkpoint`` files (UMT-L + Q-Former, SAM2) are dropped
  (their modules keep their random initialisation) and so is ``load_from``.
  The parameter count and every tensor shape are those of the real model.
* :func:`build_model` builds it, optionally with every parameter on the
  ``meta`` device (no memory: a 7B model to count and inspect on a laptop).
* :func:`synthetic_samples` makes packed training samples (frames, one
  conversation of exactly ``text_len`` text tokens, the targets of each
  task head) as the recipe's pipelines would.
* :func:`arch_from_model` describes a built model in the terms of
  ``estimate_memory.py`` (its ``ARCHS`` entries), for the memory estimate
  and the FLOP count of exactly that model.
"""
import contextlib
import copy
import json
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

#: Published hyper-parameters of the folders the 7B recipes load, keyed by
#: folder name (the ``config.json`` / tokenizer of the named hub repository).
#: ``llm``: keyword arguments of ``HFCausalLM(config=...)``; ``tokenizer``:
#: the size of its vocabulary (``len(tokenizer)``) and the special tokens
#: the prompt templates use; ``siglip``: ``SiglipVisionConfig`` arguments.
PUBLISHED: Dict[str, dict] = {
    'Mistral-7B-Instruct-v0.2': dict(
        hub='mistralai/Mistral-7B-Instruct-v0.2',
        llm=dict(model_type='mistral', vocab_size=32000, hidden_size=4096,
                 intermediate_size=14336, num_hidden_layers=32,
                 num_attention_heads=32, num_key_value_heads=8,
                 max_position_embeddings=32768, rope_theta=1e6,
                 rms_norm_eps=1e-5, sliding_window=None,
                 tie_word_embeddings=False, bos_token_id=1, eos_token_id=2),
        tokenizer=dict(size=32000, bos_token='<s>', eos_token='</s>',
                       unk_token='<unk>')),
    'Qwen2-7B-Instruct': dict(
        hub='Qwen/Qwen2-7B-Instruct',
        llm=dict(model_type='qwen2', vocab_size=152064, hidden_size=3584,
                 intermediate_size=18944, num_hidden_layers=28,
                 num_attention_heads=28, num_key_value_heads=4,
                 max_position_embeddings=32768, rope_theta=1e6,
                 rms_norm_eps=1e-6, use_sliding_window=False,
                 tie_word_embeddings=False, bos_token_id=151643,
                 eos_token_id=151645),
        # 151643 byte-level BPE tokens + <|endoftext|>, <|im_start|>,
        # <|im_end|>
        tokenizer=dict(size=151646, eos_token='<|im_end|>',
                       pad_token='<|endoftext|>',
                       additional=['<|im_start|>'])),
    'bert-base-uncased': dict(
        hub='google-bert/bert-base-uncased',
        tokenizer=dict(size=30522, unk_token='[UNK]', pad_token='[PAD]')),
    'siglip-so400m-patch14-384': dict(
        hub='google/siglip-so400m-patch14-384',
        siglip=dict(hidden_size=1152, intermediate_size=4304,
                    num_hidden_layers=27, num_attention_heads=16,
                    image_size=384, patch_size=14,
                    hidden_act='gelu_pytorch_tanh', layer_norm_eps=1e-6)),
}

#: Words of the synthetic texts: single tokens of the stand-in tokenizer and
#: (mostly) of real ones.
FILLER = ('the video shows a red circle that moves to the left while a blue '
          'square stays in the corner of the frame').split()


def _letters(index: int) -> str:
    """``'xa'``, ``'xb'``, ...: distinct words without digits (the word-level
    pre-tokenizer splits digits off)."""
    word = ''
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        word = chr(97 + rest) + word
    return 'x' + word


def stand_in_tokenizer(size: int, additional: Sequence[str] = (),
                       added: Optional[Dict[str, str]] = None, **kwargs):
    """A word-level tokenizer of exactly ``size`` tokens (``len()``) that
    include the special tokens of ``kwargs`` (``eos_token='</s>'``) and
    ``additional``; the special tokens of ``added`` come on top, as
    ``AutoTokenizer.from_pretrained(path, bos_token='[DEC]')`` adds them.
    Other ``kwargs`` (``truncation_side``) are set as attributes."""
    from tpo.models.llms.tokenizers import word_level_tokenizer
    specials = {k: v for k, v in kwargs.items() if k.endswith('_token')}
    sides = {k: v for k, v in kwargs.items() if k not in specials}
    base = word_level_tokenizer(FILLER)
    new = {v for v in specials.values() if v not in base.get_vocab()}
    fillers = size - len(base) - len(set(additional) | new)
    if fillers < 0:
        raise ValueError(f'a stand-in tokenizer needs at least '
                         f'{size - fillers} tokens, asked for {size}')
    tokenizer = word_level_tokenizer(
        list(FILLER) + [_letters(i) for i in range(fillers)])
    tokenizer.add_special_tokens(
        dict(specials, additional_special_tokens=list(additional)))
    tokenizer.add_special_tokens(dict(added or {}))
    for key, value in sides.items():
        setattr(tokenizer, key, value)
    return tokenizer


def register_stand_in_tokenizer() -> None:
    """``StandInTokenizer`` in the tokenizer registry (configs hold names,
    so that a config with stand-ins can still be dumped)."""
    from tpo.registry import TOKENIZERS
    if 'StandInTokenizer' not in TOKENIZERS.module_dict:
        TOKENIZERS.register_module('StandInTokenizer',
                                   module=stand_in_tokenizer)


def _published(path: str, kind: str, owner: str) -> dict:
    """The hyper-parameters :data:`PUBLISHED` gives for the folder
    ``path`` (by its name)."""
    name = osp.basename(osp.normpath(path))
    entry = PUBLISHED.get(name, {})
    if kind in entry:
        return copy.deepcopy(entry[kind])
    known = sorted(n for n, e in PUBLISHED.items() if kind in e)
    raise KeyError(
        f'--random-weights: {owner} loads {path!r}, whose shape is unknown: '
        f'known {kind} folders are {known}. Put the config.json (and '
        "tokenizer files) of that model at the path, or add its "
        f'hyper-parameters to PUBLISHED in {__file__}.')


#: Keys of a Hugging Face ``config.json`` that are not hyper-parameters.
_NOT_HYPER = ('architectures', 'torch_dtype', 'dtype', 'transformers_version',
              'auto_map')


def _hf_config(path: str, section: str, kind: str, owner: str,
               drop: Sequence[str] = ()) -> dict:
    """The hyper-parameters of the folder ``path``: its own
    ``config.json`` (its ``section``, e.g. ``text_config``, when present)
    or the published ones."""
    file = osp.join(path, 'config.json')
    if not osp.isfile(file):
        return _published(path, kind, owner)
    with open(file) as f:
        local = json.load(f)
    return {k: v for k, v in local.get(section, local).items()
            if not k.startswith('_') and k not in _NOT_HYPER + tuple(drop)}


def _llm_stand_in(llm: dict) -> dict:
    out = {k: v for k, v in llm.items() if k != 'pretrained'}
    out['config'] = _hf_config(llm['pretrained'], 'text_config', 'llm',
                               'model.llm')
    return out


def _tokenizer_stand_in(tokenizer: dict, owner: str) -> dict:
    if tokenizer.get('type') != 'PretrainedTokenizer':
        return tokenizer
    kwargs = {k: v for k, v in tokenizer.items() if k not in ('type', 'path')}
    spec = _published(tokenizer['path'], 'tokenizer', owner)
    added = {k: kwargs.pop(k) for k in list(kwargs) if k.endswith('_token')}
    spec.update(kwargs)
    if added:
        spec['added'] = added
    register_stand_in_tokenizer()
    return dict(type='StandInTokenizer', **spec)


def _siglip_stand_in(encoder: dict) -> dict:
    out = {k: v for k, v in encoder.items() if k != 'pretrained'}
    out['config'] = _hf_config(encoder['pretrained'], 'vision_config',
                               'siglip', 'model.vision_encoder',
                               drop=['model_type'])
    return out


def _drop_files(node):
    """Every ``pretrained`` / ``checkpoint`` path below ``node`` set to
    None (modules keep their random initialisation)."""
    if isinstance(node, dict):
        return {
            k: None if k in ('pretrained', 'checkpoint') and
            isinstance(v, str) else _drop_files(v)
            for k, v in node.items()
        }
    if isinstance(node, (list, tuple)):
        return type(node)(_drop_files(v) for v in node)
    return node


def random_weights(cfg) -> None:
    """Rewrite ``cfg`` (in place) so that its model builds at full shape
    with random weights and reads no file (see the module docstring)."""
    model = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else \
        copy.deepcopy(cfg.model)
    llm = model['llm']
    if llm.get('pretrained'):
        model['llm'] = _llm_stand_in(llm)
    encoder = model['vision_encoder']
    if encoder.get('type') == 'SigLIPVisionEncoder' and \
            encoder.get('pretrained'):
        model['vision_encoder'] = _siglip_stand_in(encoder)
    model['tokenizer'] = _tokenizer_stand_in(model['tokenizer'],
                                             'model.tokenizer')
    if model.get('connector_tokenizer'):
        model['connector_tokenizer'] = _tokenizer_stand_in(
            model['connector_tokenizer'], 'model.connector_tokenizer')
    cfg.model = _drop_files(model)
    cfg.load_from = None
    cfg.resume = False


# ---------------------------------------------------------------- building
@contextlib.contextmanager
def parameters_on_meta() -> Iterator[None]:
    """Every ``nn.Parameter`` registered inside goes to the ``meta``
    device (buffers and temporaries stay on the CPU, so that constructors
    that compute with them still work)."""
    register = nn.Module.register_parameter

    def to_meta(module, name, param):
        if param is not None and not param.is_meta:
            param = nn.Parameter(param.to('meta'),
                                 requires_grad=param.requires_grad)
        register(module, name, param)

    nn.Module.register_parameter = to_meta
    try:
        yield
    finally:
        nn.Module.register_parameter = register


def build_model(model_cfg: dict, meta: bool = False) -> nn.Module:
    """``MODELS.build(model_cfg)``, its parameters on ``meta`` if asked."""
    from mmengine.registry import init_default_scope
    from tpo.registry import MODELS
    init_default_scope('tpo')
    register_stand_in_tokenizer()
    torch.manual_seed(0)
    with parameters_on_meta() if meta else contextlib.nullcontext():
        return MODELS.build(model_cfg)


# ---------------------------------------------------------------- samples
def recipe_clip_shape(cfg) -> Tuple[int, int]:
    """``(num_frames, side)`` of the clips the recipe trains on: the frames
    of the first ``LoadVideoFrames`` of its training pipelines, the side
    its vision encoder is built for (``img_size``, or a SigLIP config's
    ``image_size``), else the first ``ResizeFrames``."""
    found = {}

    def visit(node):
        if isinstance(node, dict):
            kind = node.get('type')
            if kind in ('LoadVideoFrames', 'LoadImageSequence'):
                found.setdefault('frames', node.get('num_frames', 16))
            if kind == 'ResizeFrames':
                size = node.get('size')
                found.setdefault(
                    'side', size[0] if isinstance(size, (list, tuple))
                    else size)
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    loader = cfg.get('train_dataloader') or {}
    visit(loader.to_dict() if hasattr(loader, 'to_dict') else loader)
    encoder = cfg.model.vision_encoder
    frames = found.get('frames', encoder.get('num_frames', 16))
    side = encoder.get('img_size') or (encoder.get('config') or {}).get(
        'image_size') or found.get('side', 224)
    return int(frames), int(side)


def _text_tokens(model, conversation: List[dict]) -> int:
    ids, _ = model.prompt.encode(model.tokenizer, conversation, '', '')
    return len(ids) - 1  # the video placeholder becomes visual tokens


def _conversation(model, task: str, text_len: int,
                  question_len: int) -> List[dict]:
    """One turn of exactly ``text_len`` text tokens (template included):
    a question of ``question_len`` words (+ ``<track_box>`` for tracking)
    and an answer of filler words ending with the task's tokens."""
    words = (FILLER * (1 + (question_len + text_len) // len(FILLER)))
    question = ' '.join(words[:question_len])
    if task == 'track':
        from tpo.tasks import BOX_PROMPT_TOKEN
        question = f'{question} {BOX_PROMPT_TOKEN}'
    token_task = model.head_task(task)
    ending = ''
    if token_task in model.tasks:
        spec = model.tasks[token_task]
        ending = f' {spec.begin}{spec.token}'

    def turn(count):
        answer = ' '.join(words[question_len:question_len + count]) + ending
        return [dict(question=question, answer=answer.strip())]

    count = max(0, text_len - _text_tokens(model, turn(0)))
    while count and _text_tokens(model, turn(count)) > text_len:
        count -= 1
    conversation = turn(count)
    got = _text_tokens(model, conversation)
    if got > text_len:
        raise ValueError(f'--text-len {text_len} is shorter than the prompt '
                         f'template and question ({got} tokens)')
    return conversation


def synthetic_samples(model, tasks: Sequence[str], num_frames: int,
                      side: int, text_len: int, question_len: int = 32,
                      seed: int = 0) -> List[dict]:
    """Packed samples (``inputs`` + ``data_samples``, as
    ``PackTPOInputs`` makes them), one per task in ``tasks``: random
    ``(num_frames, 3, side, side)`` uint8 frames of a 32 s video, one
    conversation turn of ``text_len`` text tokens and the targets its head
    reads: a box (``'region'``), a window (``'temporal'``), a prompt box and
    per-frame masks (``'track'``, served by the mask head), none
    (``'chat'``)."""
    from tpo.datasets.transforms import PackTPOInputs
    rng = np.random.default_rng(seed)
    pack = PackTPOInputs()
    duration, box = 32.0, [0.2 * side, 0.25 * side, 0.6 * side, 0.7 * side]
    samples = []
    for index, task in enumerate(tasks):
        frames = rng.integers(0, 256, (num_frames, side, side, 3), np.uint8)
        conversation = _conversation(model, task, text_len, question_len)
        inds = np.linspace(0, 8 * num_frames - 1, num_frames).astype(int)
        results = dict(
            frames=frames, task=task, sample_idx=index,
            video_path=f'synthetic/{index}.mp4', vid=f'synthetic_{index}',
            conversation=conversation, query=conversation[0]['question'],
            ori_shape=(side, side), img_shape=(side, side),
            frame_inds=inds, fps=8 * num_frames / duration,
            frame_times=(inds / (8 * num_frames / duration)).astype(
                np.float32),
            duration=duration, instruction='')
        if task == 'region':
            results['gt_bboxes'] = np.array([box], np.float32)
        elif task == 'temporal':
            results['relevant_windows'] = np.array([[8.0, 16.0]], np.float32)
        elif task in ('track', 'mask'):
            masks = np.zeros((num_frames, side, side), bool)
            x0, y0, x1, y1 = (int(v) for v in box)
            masks[:, y0:y1, x0:x1] = True
            results['gt_masks'] = masks
            if task == 'track':
                results['prompt_bboxes'] = np.array([box], np.float32)
        samples.append(pack(results))
    return samples


def default_tasks(model, micro_batch: int) -> List[str]:
    """One sample per task head of the model (tracking for the mask head
    when the model encodes box prompts), the rest conversations; cut to
    ``micro_batch``."""
    tasks = []
    for head in model.heads.values():
        task = head.task
        if task == 'mask' and getattr(model, 'box_prompt_id', None) \
                is not None:
            task = 'track'
        tasks.append(task)
    tasks += ['chat'] * max(0, micro_batch - len(tasks))
    return tasks[:micro_batch]


# ---------------------------------------------------------------- shapes
def _requires_grad(module: nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters())


def _dtype_name(module: nn.Module) -> str:
    dtypes = {p.dtype for p in module.parameters()}
    return str(max(dtypes, key=lambda d: torch.finfo(d).bits)).replace(
        'torch.', '') if dtypes else 'float32'


def _count(module: nn.Module) -> Tuple[int, int]:
    params = list(module.parameters())
    return (sum(p.numel() for p in params),
            sum(p.numel() for p in params if p.requires_grad))


def _vision_arch(encoder: nn.Module, num_frames: int) -> dict:
    trainable, dtype = _requires_grad(encoder), _dtype_name(encoder)
    if hasattr(encoder, 'vision_tower'):  # SigLIPVisionEncoder
        config = encoder.vision_tower.config
        return dict(type='siglip', image_size=config.image_size,
                    patch_size=config.patch_size, num_frames=num_frames,
                    in_channels=config.num_channels,
                    dims=config.hidden_size,
                    intermediate_size=config.intermediate_size,
                    num_layers=len(encoder.vision_tower.encoder.layers),
                    feature_layer=-1,
                    num_heads=config.num_attention_heads,
                    trainable=trainable, dtype=dtype)
    # VideoViT
    conv = encoder.patch_embed.proj
    block = encoder.blocks[0]
    attn = block.attn
    if getattr(attn, 'q_bias', None) is not None:
        bias = 'qv'
    elif getattr(attn.qkv, 'bias', None) is not None:
        bias = 'qkv'
    else:
        bias = 'none'
    tubelet, patch = conv.kernel_size[0], conv.kernel_size[-1]
    return dict(type='vit', img_size=encoder.grid[1] * patch,
                patch_size=patch, num_frames=num_frames,
                tubelet_size=tubelet, in_channels=conv.in_channels,
                dims=encoder.embed_dims, depth=len(encoder.blocks),
                out_layer=-1, num_heads=attn.num_heads,
                mlp_ratio=block.mlp.fc1.out_features / encoder.embed_dims,
                qkv_bias=bias,
                final_norm=isinstance(encoder.norm, nn.LayerNorm),
                trainable=trainable, dtype=dtype)


def _connector_arch(model: nn.Module, instruction_len: int) -> dict:
    connector = model.connector
    trainable, dtype = _requires_grad(connector), _dtype_name(connector)
    if hasattr(connector, 'qformer'):
        config = connector.qformer.config
        extra = connector.extra_query_tokens
        return dict(
            type='qformer', num_queries=connector.query_tokens.shape[1],
            num_extra_queries=0 if extra is None else extra.shape[1],
            vision_norm=isinstance(connector.vision_norm, nn.LayerNorm),
            hidden_size=config.hidden_size,
            num_layers=config.num_hidden_layers,
            num_heads=config.num_attention_heads,
            intermediate_size=config.intermediate_size,
            cross_attention_frequency=config.cross_attention_frequency,
            vocab_size=config.vocab_size,
            max_position_embeddings=config.max_position_embeddings,
            dropout=bool(config.hidden_dropout_prob or
                         config.attention_probs_dropout_prob),
            instruction_len=instruction_len if
            model.connector_instruction else 0,
            trainable=trainable, dtype=dtype)
    # MLPProjector
    return dict(type='mlp', pool_stride=connector.pool_stride,
                newline=getattr(connector, 'image_newline', None)
                is not None, trainable=trainable, dtype=dtype)


def _llm_arch(model: nn.Module) -> Tuple[dict, dict]:
    llm = model.llm
    peft = getattr(llm, 'peft_config', {}).get('default')
    base = llm.get_base_model() if peft is not None else llm
    config = base.config
    layer = base.model.layers[0].self_attn
    rows = base.get_input_embeddings().weight.shape[0]
    head_dim = getattr(config, 'head_dim', None) or \
        config.hidden_size // config.num_attention_heads
    arch = dict(hidden_size=config.hidden_size,
                num_layers=config.num_hidden_layers,
                intermediate_size=config.intermediate_size,
                num_heads=config.num_attention_heads,
                num_kv_heads=config.num_key_value_heads, head_dim=head_dim,
                vocab_size=rows, added_tokens=0,
                qkv_bias=layer.q_proj.bias is not None,
                o_bias=layer.o_proj.bias is not None,
                tie_word_embeddings=bool(config.tie_word_embeddings),
                dtype=str(base.get_input_embeddings().weight.dtype).replace(
                    'torch.', ''))
    if peft is None:
        return arch, dict(r=0, targets=[], dropout=0.0, token_rows=False,
                          modules_to_save=[])
    targets = peft.target_modules
    token_rows = bool(peft.trainable_token_indices)
    return arch, dict(r=peft.r, targets=sorted(targets),
                      dropout=float(peft.lora_dropout),
                      token_rows=token_rows,
                      modules_to_save=sorted(peft.modules_to_save or ()))


def arch_from_model(model: nn.Module, num_frames: int, text_len: int,
                    instruction_len: int, title: str = '') -> dict:
    """``model`` (a built ``TPOModel``, parameters possibly on ``meta``)
    fed ``num_frames`` frames, as an ``estimate_memory.ARCHS``-style
    description. Heads other than the region MLP are described by their
    counted parameters."""
    vision = model.vision_encoder
    llm, lora = _llm_arch(model)
    heads = {}
    for name, head in model.heads.items():
        if type(head).__name__ == 'RegionHead':
            heads[name] = dict(type='region',
                               hidden=head.mlp[0].out_features,
                               trainable=_requires_grad(head))
        else:
            params, trainable = _count(head)
            heads[name] = dict(type='counted', kind=type(head).__name__,
                               params=params, trainable=trainable)
    box = getattr(model, 'box_prompt_encoder', None)
    return dict(
        title=title,
        vision=_vision_arch(vision, num_frames),
        amp=model.amp_dtype is not None,
        connector=_connector_arch(model, instruction_len),
        llm=llm, lora=lora, num_tasks=len(model.tasks),
        task_tokens_trainable=_requires_grad(model.task_tokens),
        box_prompt_hidden=None if box is None else
        box.mlp[0].out_features,
        heads=heads, text_len=text_len)


def component_counts(model: nn.Module) -> Dict[str, Tuple[int, int]]:
    """``{component: (params, trainable)}`` in the rows of
    ``estimate_memory.count_params``."""
    out: Dict[str, List[int]] = {}

    def add(row, param):
        entry = out.setdefault(row, [0, 0])
        entry[0] += param.numel()
        entry[1] += param.numel() if param.requires_grad else 0

    for name, param in model.named_parameters():
        top = name.split('.')[0]
        if top == 'llm':
            adapter = any(key in name for key in (
                'lora_', 'trainable_tokens_delta', 'modules_to_save'))
            add('LoRA + token rows' if adapter else 'LLM (frozen base)',
                param)
        elif top == 'heads':
            add(f"heads.{name.split('.')[1]}", param)
        else:
            add(dict(vision_encoder='vision encoder',
                     task_tokens='task tokens',
                     box_prompt_encoder='box prompt encoder').get(top, top),
                param)
    return {k: tuple(v) for k, v in out.items()}
