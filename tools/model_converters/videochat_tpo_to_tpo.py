"""Convert a released VideoChat-TPO or VideoChat2 checkpoint to TPOModel keys.

Examples::

    # VideoChat-TPO (OpenGVLab/VideoChat-TPO): safetensors shards + index,
    # every head; load it with configs/tpo/videochat_tpo_release.py
    python tools/model_converters/videochat_tpo_to_tpo.py \\
        checkpoints/VideoChat-TPO checkpoints/videochat_tpo_converted \\
        --config configs/tpo/videochat_tpo_release.py

    # VideoChat2 stage 3 (a .pth, read with torch.load(weights_only=True))
    python tools/model_converters/videochat_tpo_to_tpo.py \\
        checkpoints/VideoChat2_stage3_Mistral_7B/videochat2_mistral_7b_stage3.pth \\
        checkpoints/videochat2_stage3_converted.safetensors \\
        --config configs/_base_/models/videochat2_umtl_mistral7b.py

``--config`` builds the config's tokenizer and adds TPOModel's special
tokens, so that the rows of the LLM's vocabulary matrices are reordered from
the release's token ids to TPOModel's; without it they are kept as they are.
The output is one ``.safetensors`` file (OUT ends with ``.safetensors``) or a
folder with one shard per input shard and ``model.safetensors.index.json``.
Keys that are not mapped are listed, grouped by prefix with the reason
(modules the release never runs); nothing is dropped silently.
"""
import argparse
import json
import os
import os.path as osp
import sys

import torch

from tpo.models.model_converters import (VIDEOCHAT_TPO_ADDED_TOKENS,
                                         ConversionResult, checkpoint_files,
                                         checkpoint_keys,
                                         convert_videochat_state_dict,
                                         load_state_dict_file,
                                         tpo_added_tokens)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='checkpoint file, *.index.json or folder')
    parser.add_argument('out', help='output .safetensors file or folder')
    parser.add_argument(
        '--config', help='model config whose tokenizer gives the target '
        'token ids (e.g. configs/_base_/models/videochat2_umtl_mistral7b.py)')
    parser.add_argument(
        '--src-added-tokens', help='added_tokens.json of the checkpoint '
        '(default: the one next to it, else the VideoChat-TPO release ids '
        'for lm.* keys, none for VideoChat2)')
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
    return parser.parse_args(argv)


def source_tokens(args, keys):
    path = args.src_added_tokens
    if path is None:
        folder = args.src if osp.isdir(args.src) else osp.dirname(args.src)
        candidate = osp.join(folder, 'added_tokens.json')
        path = candidate if osp.exists(candidate) else None
    if path is not None:
        with open(path) as f:
            return json.load(f)
    if any(k.startswith('lm.') for k in keys):
        return dict(VIDEOCHAT_TPO_ADDED_TOKENS)
    return {}


def target_tokens(args):
    if args.config is None:
        return None, None
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from tpo.registry import TOKENIZERS
    init_default_scope('tpo')
    cfg = Config.fromfile(args.config)
    tokenizer = TOKENIZERS.build(cfg.model.tokenizer)
    return tpo_added_tokens(tokenizer, cfg.model)


def save(state_dict, path, source):
    from safetensors.torch import save_file
    tensors = {k: v.contiguous() for k, v in state_dict.items()}
    save_file(tensors, path, metadata={'format': 'pt', 'converted_from':
                                       osp.basename(source)})


def main(argv=None) -> ConversionResult:
    args = parse_args(argv)
    keys = checkpoint_keys(args.src)
    src_tokens = source_tokens(args, keys)
    dst_tokens, dst_size = target_tokens(args)
    kwargs = dict(
        src_tokens=src_tokens, dst_tokens=dst_tokens,
        dst_vocab_size=dst_size, merge_lora=args.merge_lora,
        lora_alpha=args.lora_alpha,
        dtype=getattr(torch, args.dtype) if args.dtype else None)
    layout = 'VideoChat-TPO' if any(k.startswith('lm.') for k in keys) \
        else 'VideoChat2'
    print(f'{args.src}: {len(keys)} keys, {layout} layout')

    files = checkpoint_files(args.src)
    total = ConversionResult()
    single = args.out.endswith('.safetensors')
    if single:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        for file in files:
            total.update(
                convert_videochat_state_dict(load_state_dict_file(file),
                                             **kwargs))
        save(total.state_dict, args.out, args.src)
    else:
        os.makedirs(args.out, exist_ok=True)
        weight_map = {}
        for i, file in enumerate(files):
            result = convert_videochat_state_dict(load_state_dict_file(file),
                                                  **kwargs)
            name = f'model-{i + 1:05d}-of-{len(files):05d}.safetensors'
            if result.state_dict:
                save(result.state_dict, osp.join(args.out, name), file)
                weight_map.update({k: name for k in result.state_dict})
            total.update(result)
            total.state_dict.clear()  # keep memory to one shard
        with open(osp.join(args.out, 'model.safetensors.index.json'),
                  'w') as f:
            json.dump(dict(metadata={'converted_from': args.src},
                           weight_map=weight_map), f, indent=2)
    report = total.report(max_keys=None if args.show_all else 8)
    print(report)
    report_path = (args.out[:-len('.safetensors')] if single else
                   osp.join(args.out, 'conversion')) + '.report.txt'
    with open(report_path, 'w') as f:
        f.write(total.report(max_keys=None) + '\n')
    print(f'wrote {args.out} (full report: {report_path})')
    return total


if __name__ == '__main__':
    main(sys.argv[1:])
