"""Convert the released VideoChat-TPO (OpenGVLab/VideoChat-TPO, the
inference code of OpenGVLab/TPO) to TPOModel keys.

Example::

    # every head; load the result with configs/tpo/videochat_tpo_release.py
    python tools/model_converters/videochat_tpo_to_tpo.py \\
        checkpoints/VideoChat-TPO checkpoints/videochat_tpo_converted \\
        --config configs/tpo/videochat_tpo_release.py

The release is safetensors shards + index with VideoChat2's vision encoder,
Q-Former and projection (``project_up``; converted by the rules of
``videochat2_to_tpo.py``), the LLM as ``lm.base_model.model.*`` (peft LoRA
layout, LoRA also on ``lm_head``), and TPO's parts (:data:`TPO_PART_RULES`):

* ``box_token`` / ``temporal_token`` / ``track_token`` ->
  ``task_tokens.tokens.{region,temporal,mask}`` (squeezed to ``(D,)``)
* ``loc_decoder.{0,2}`` -> ``heads.region.mlp.{0,2}``
* ``loc_encoder.{0,2}`` -> ``box_prompt_encoder.mlp.{0,2}``
* ``cg_model.*`` -> ``heads.temporal.cg_model.*`` (CGDETRHead)
* ``sam.*`` / ``track_embed.*`` / ``track_embed_decode2.*`` ->
  ``heads.mask.{sam,adapter,aux_box}.*`` (SAM2MaskHead)
* ``lm.*`` -> ``llm.*`` (the peft layout is kept)

Everything else (modules the release never runs) is reported with the
reason (:data:`TPO_UNMAPPED`). The rows of the LLM's vocabulary matrices
(``embed_tokens``, ``lm_head`` and the ``lora_B`` of ``lm_head``) are
reordered by token name: the release adds
seven tokens at ids 32000-32006 (its ``added_tokens.json``, default
:data:`VIDEOCHAT_TPO_ADDED_TOKENS`), TPOModel adds its placeholder and task
tokens in its own order (``--config``). Output: one ``.safetensors`` file or
a folder of shards, loaded with ``load_from``.
"""
import json
import os.path as osp
import sys
from typing import Dict, List, Mapping

import torch
from videochat2_to_tpo import (VIDEOCHAT2_RULES, VIDEOCHAT2_UNMAPPED,
                               conversion_args, conversion_kwargs)

from tpo.models.utils.state_dict_conversion import (ConversionResult,
                                                    KeyRule, UnmappedReason,
                                                    convert_checkpoint,
                                                    convert_state_dict)

#: Token -> id of the tokens the release added to Mistral's 32000-token
#: vocabulary (its added_tokens.json).
VIDEOCHAT_TPO_ADDED_TOKENS: Dict[str, int] = {
    '<box_begin>': 32000,
    '<time_begin>': 32001,
    '<temp>': 32002,
    '<boxes>': 32003,
    '<track_begin>': 32004,
    '<tracking>': 32005,
    '<track_box>': 32006,
}


def _flatten(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1)


#: Task tokens, heads and LLM of the release.
TPO_PART_RULES: List[KeyRule] = [
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
    (r'^lm\.(.+)$', r'llm.\1', None),
]
VIDEOCHAT_TPO_RULES: List[KeyRule] = VIDEOCHAT2_RULES + TPO_PART_RULES

#: Release keys that have no TPOModel counterpart, and why.
TPO_UNMAPPED: List[UnmappedReason] = [
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
] + VIDEOCHAT2_UNMAPPED


def convert_videochat_tpo(state_dict: Mapping[str, torch.Tensor],
                          src_tokens: Mapping[str, int] = (
                              VIDEOCHAT_TPO_ADDED_TOKENS),
                          **kwargs) -> ConversionResult:
    """Convert a VideoChat-TPO state dict (one shard is fine; keyword
    arguments: see
    :func:`~tpo.models.utils.state_dict_conversion.convert_state_dict`)."""
    return convert_state_dict(state_dict, VIDEOCHAT_TPO_RULES, TPO_UNMAPPED,
                              src_tokens=src_tokens, **kwargs)


def source_tokens(src: str, path: str = None) -> Dict[str, int]:
    """The release's added tokens: ``path``, else the ``added_tokens.json``
    next to ``src``, else :data:`VIDEOCHAT_TPO_ADDED_TOKENS`."""
    if path is None:
        folder = src if osp.isdir(src) else osp.dirname(src)
        candidate = osp.join(folder, 'added_tokens.json')
        path = candidate if osp.exists(candidate) else None
    if path is None:
        return dict(VIDEOCHAT_TPO_ADDED_TOKENS)
    with open(path) as f:
        return json.load(f)


def main(argv=None) -> ConversionResult:
    parser = conversion_args(__doc__.split('\n')[0])
    parser.add_argument(
        '--src-added-tokens', help='added_tokens.json of the checkpoint '
        '(default: the one next to it, else the release ids)')
    args = parser.parse_args(argv)
    kwargs = conversion_kwargs(args)
    kwargs['src_tokens'] = source_tokens(args.src, args.src_added_tokens)
    return convert_checkpoint(
        args.src, args.out, lambda sd: convert_videochat_tpo(sd, **kwargs),
        args.show_all)


if __name__ == '__main__':
    main(sys.argv[1:])
