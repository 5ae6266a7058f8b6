"""Convert a VideoChat2 stage-3 checkpoint (OpenGVLab/Ask-Anything,
``video_chat2``) to TPOModel keys.

Example::

    python tools/model_converters/videochat2_to_tpo.py \\
        checkpoints/VideoChat2_stage3_Mistral_7B/videochat2_mistral_7b_stage3.pth \\
        checkpoints/videochat2_stage3_converted.safetensors \\
        --config configs/_base_/models/videochat2_umtl_mistral7b.py

The release is a ``.pth`` (read with ``torch.load(weights_only=True)``)
holding UMT-L, the Q-Former, the projection named ``mistral_proj``
(Mistral), ``llama_proj`` (Vicuna) or ``phi_proj`` (Phi), and the LLM under
``mistral_model.`` / ``llama_model.`` / ``phi_model.``
(``<llm>.base_model.model.*`` when trained with LoRA, ``<llm>.model.*`` /
``<llm>.lm_head.*`` otherwise). The rules (first match wins, release ->
TPOModel; :data:`VIDEOCHAT2_RULES`):

* ``vision_encoder.encoder.{patch_embed,blocks}.*`` ->
  ``vision_encoder.{patch_embed,blocks}.*``
* ``vision_layernorm.*`` -> ``vision_encoder.norm.*`` (eps 1e-12)
* ``qformer.bert.embeddings.LayerNorm.*`` ->
  ``connector.qformer.embeddings.layernorm.*``; the word / position
  embeddings keep their names under ``connector.qformer.embeddings.``
* ``qformer.bert.encoder.layer.N.{attention,crossattention}.self.*`` ->
  ``connector.qformer.encoder.layer.N.{...}.attention.*``; the other layer
  keys keep their names under ``connector.qformer.encoder.layer.N.``
* ``query_tokens`` / ``extra_query_tokens`` -> ``connector.`` same names
* ``project_up`` / ``mistral_proj`` / ``llama_proj`` / ``phi_proj`` ->
  ``connector.proj``
* ``mistral_model.*`` / ``llama_model.*`` / ``phi_model.*`` -> ``llm.*``
  (a peft layout is kept)

Everything else is reported with the reason (:data:`VIDEOCHAT2_UNMAPPED`).
``--config`` builds the config's tokenizer and adds TPOModel's special
tokens, so that the LLM's vocabulary rows get TPOModel's token ids (the
added rows start at the mean of the base rows). The output is one
``.safetensors`` file (OUT ends with ``.safetensors``) or a folder of
shards; its ``vision_encoder.*`` / ``connector.*`` parts are what
``VideoViT`` / ``QFormerConnector`` load with ``pretrained=``.
"""
import argparse
import sys
from typing import Dict, List, Mapping, Optional

import torch

from tpo.models.utils.state_dict_conversion import (ConversionResult,
                                                    KeyRule, UnmappedReason,
                                                    convert_checkpoint,
                                                    convert_state_dict,
                                                    tpo_added_tokens)

#: UMT-L, Q-Former and projection of VideoChat2 (and of VideoChat-TPO).
VIDEOCHAT2_RULES: List[KeyRule] = [
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
    (r'^(?:mistral_model|llama_model|phi_model)\.(.+)$', r'llm.\1', None),
]

#: Release keys that have no TPOModel counterpart, and why.
VIDEOCHAT2_UNMAPPED: List[UnmappedReason] = [
    ('qformer.bert.embeddings.position_ids', 'buffer: transformers rebuilds '
     'position_ids (non-persistent)'),
    ('qformer.cls.', 'unused: BERT masked-LM head'),
    ('vision_encoder.encoder.norm.', 'UMT-internal final norm (with_ln=True);'
     ' VideoViT has one final norm, which takes vision_layernorm'),
    ('vision_encoder.encoder.pos_embed', 'fixed table: VideoViT rebuilds it'),
    ('vision_encoder.encoder.img_pos_embed', 'fixed table: VideoViT rebuilds '
     'it'),
]


def convert_videochat2(state_dict: Mapping[str, torch.Tensor],
                       **kwargs) -> ConversionResult:
    """Convert a VideoChat2 state dict (keyword arguments: see
    :func:`~tpo.models.utils.state_dict_conversion.convert_state_dict`;
    VideoChat2 adds no tokens to its LLM)."""
    return convert_state_dict(state_dict, VIDEOCHAT2_RULES,
                              VIDEOCHAT2_UNMAPPED, **kwargs)


def target_tokens(config: Optional[str]):
    """The target tokenizer's added tokens and vocabulary rows of the model
    of ``config`` (None, None without a config)."""
    if config is None:
        return None, None
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from tpo.registry import TOKENIZERS
    init_default_scope('tpo')
    cfg = Config.fromfile(config)
    return tpo_added_tokens(TOKENIZERS.build(cfg.model.tokenizer), cfg.model)


def conversion_args(description: str) -> argparse.ArgumentParser:
    """The arguments every VideoChat converter takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help='checkpoint file, *.index.json or folder')
    parser.add_argument('out', help='output .safetensors file or folder')
    parser.add_argument(
        '--config', help='model config whose tokenizer gives the target '
        'token ids (e.g. configs/_base_/models/videochat2_umtl_mistral7b.py)')
    parser.add_argument(
        '--merge-lora', nargs='*', default=[],
        help='LLM modules whose LoRA is folded into the base weight (e.g. '
        'lm_head when the target has no LoRA there)')
    parser.add_argument('--lora-alpha', type=float, default=32.0,
                        help='LoRA alpha of the checkpoint (release: 32)')
    parser.add_argument('--dtype', choices=['float32', 'float16', 'bfloat16'],
                        help='cast floating tensors')
    parser.add_argument('--show-all', action='store_true',
                        help='list every unmapped key')
    return parser


def conversion_kwargs(args: argparse.Namespace) -> Dict:
    dst_tokens, dst_size = target_tokens(args.config)
    return dict(dst_tokens=dst_tokens, dst_vocab_size=dst_size,
                merge_lora=args.merge_lora, lora_alpha=args.lora_alpha,
                dtype=getattr(torch, args.dtype) if args.dtype else None)


def main(argv=None) -> ConversionResult:
    args = conversion_args(__doc__.split('\n')[0]).parse_args(argv)
    kwargs = conversion_kwargs(args)
    return convert_checkpoint(
        args.src, args.out, lambda sd: convert_videochat2(sd, **kwargs),
        args.show_all)


if __name__ == '__main__':
    main(sys.argv[1:])
