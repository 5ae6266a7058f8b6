"""Convert a LLaVA-OneVision checkpoint to TPOModel keys.

Example::

    python tools/model_converters/llava_onevision_to_tpo.py \\
        checkpoints/llava-onevision-qwen2-7b-ov-hf \\
        checkpoints/llava_ov_7b_converted.safetensors

Reads the hub files of ``llava-hf/llava-onevision-*-ov-hf`` (transformers
< 5 layout) or a transformers >= 5 ``LlavaOnevisionForConditionalGeneration``
state dict, and renames prefixes (:data:`LLAVA_ONEVISION_PREFIXES`, the
longest matching prefix wins)::

    hub files / transformers >= 5             TPOModel
    multi_modal_projector.linear_{1,2}.*      connector.linear_{1,2}.*
      model.multi_modal_projector.linear_*    connector.linear_*
    image_newline / model.image_newline       connector.image_newline
    vision_tower.vision_model.*               vision_encoder.vision_tower.*
      model.vision_tower.*                    vision_encoder.vision_tower.*
    language_model.model.*                    llm.model.*
      model.language_model.*                  llm.model.*
    language_model.lm_head.* / lm_head.*      llm.lm_head.*

The tower's ``post_layernorm`` and pooling head, which
``SigLIPVisionEncoder`` removes, are reported as unused. The LLM keys are
the plain (non-LoRA) ones, which TPOModel routes into its LoRA-wrapped LLM
when loading (``load_from``). Tower layers past the encoder's feature layer
are kept and reported as unexpected by a non-strict load.
"""
import argparse
import re
import sys
from typing import Dict, List, Mapping

import torch

from tpo.models.utils.state_dict_conversion import (ConversionResult,
                                                    KeyRule,
                                                    convert_checkpoint,
                                                    convert_state_dict)

LLAVA_ONEVISION_PREFIXES: Dict[str, str] = {
    'vision_tower.vision_model.': 'vision_encoder.vision_tower.',
    'model.vision_tower.': 'vision_encoder.vision_tower.',
    'multi_modal_projector.': 'connector.',
    'model.multi_modal_projector.': 'connector.',
    'image_newline': 'connector.image_newline',
    'model.image_newline': 'connector.image_newline',
    'language_model.model.': 'llm.model.',
    'model.language_model.': 'llm.model.',
    'language_model.lm_head.': 'llm.lm_head.',
    'lm_head.': 'llm.lm_head.',
}
LLAVA_ONEVISION_RULES: List[KeyRule] = [
    ('^' + re.escape(prefix) + '(.*)$', LLAVA_ONEVISION_PREFIXES[prefix] +
     r'\1', None)
    for prefix in sorted(LLAVA_ONEVISION_PREFIXES, key=len, reverse=True)
]
#: Tower modules that SigLIPVisionEncoder removes (never used).
DROPPED = ('vision_encoder.vision_tower.post_layernorm.',
           'vision_encoder.vision_tower.head.')


def convert_llava_onevision(state_dict: Mapping[str, torch.Tensor],
                            **kwargs) -> ConversionResult:
    """Rename a LLaVA-OneVision state dict's keys to TPOModel's (keyword
    arguments: see
    :func:`~tpo.models.utils.state_dict_conversion.convert_state_dict`);
    the removed tower modules and unknown keys are reported."""
    result = convert_state_dict(state_dict, LLAVA_ONEVISION_RULES, **kwargs)
    for key, target in list(result.renamed.items()):
        if target.startswith(DROPPED):
            del result.renamed[key], result.state_dict[target]
            result.unmapped.setdefault(
                'unused: SigLIPVisionEncoder removes it', []).append(key)
    return result


def main(argv=None) -> ConversionResult:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='checkpoint file, *.index.json or folder')
    parser.add_argument('out', help='output .safetensors file or folder')
    parser.add_argument('--dtype', choices=['float32', 'float16', 'bfloat16'],
                        help='cast floating tensors')
    parser.add_argument('--show-all', action='store_true',
                        help='list every unmapped key')
    args = parser.parse_args(argv)
    dtype = getattr(torch, args.dtype) if args.dtype else None
    return convert_checkpoint(
        args.src, args.out, lambda sd: convert_llava_onevision(sd,
                                                               dtype=dtype),
        args.show_all)


if __name__ == '__main__':
    main(sys.argv[1:])
