"""Convert a pickled checkpoint YOU TRUST into a ``.safetensors`` file.

tpo reads ``.pth`` files weights-only and refuses one that holds other
objects (they could run code when unpickled). When such a file comes from a
source you trust (e.g. a checkpoint you trained with an older toolkit that
pickled its own classes), convert it once here and use the output instead::

    python tools/model_converters/trusted_pickle_to_safetensors.py \\
        old.pth old.safetensors --trust-pickled-code

This is the only place in tpo that unpickles arbitrary objects, and only
with ``--trust-pickled-code``. The output holds the tensors of the
checkpoint's ``state_dict`` (or ``model`` / ``module``; else the top level),
with DDP's ``module.`` prefix removed; what is not a tensor is left out and
listed. A DeepSpeed checkpoint folder is consolidated (as
``zero_to_tpo.py`` does) with DeepSpeed's own readers.
"""
import argparse
import os
import os.path as osp
import re
import sys

import torch


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='a .pth / .pt / .bin file, or a '
                        'DeepSpeed checkpoint folder')
    parser.add_argument('out', help='output .safetensors file')
    parser.add_argument(
        '--trust-pickled-code', action='store_true',
        help='required: SRC is unpickled without restrictions, which runs '
        'any code it holds. Only for files from a source you trust.')
    return parser.parse_args(argv)


def trusted_state_dict(src: str) -> dict:
    """The tensors of ``src``, unpickled without restrictions."""
    if osp.isdir(src):
        from deepspeed.utils.zero_to_fp32 import \
            get_fp32_state_dict_from_zero_checkpoint
        src = src.rstrip('/')
        return get_fp32_state_dict_from_zero_checkpoint(
            osp.dirname(src), tag=osp.basename(src))
    checkpoint = torch.load(src, map_location='cpu', weights_only=False)
    for key in ('state_dict', 'model', 'module'):
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
            break
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{src} holds a {type(checkpoint).__name__}, not a '
                         'state dict')
    return {re.sub(r'^module\.', '', k): v for k, v in checkpoint.items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.trust_pickled_code:
        sys.exit('refusing to unpickle without --trust-pickled-code: '
                 f'{args.src} may run code when loaded. Pass the flag only '
                 'for a file from a source you trust.')
    if not args.out.endswith('.safetensors'):
        sys.exit(f'out={args.out!r}: give a path ending with .safetensors')
    if not osp.exists(args.src):
        sys.exit(f'{args.src} does not exist')
    from tpo.engine.hooks.safetensors_checkpoint_hook import save_safetensors
    state_dict = trusted_state_dict(args.src)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    skipped = save_safetensors(
        state_dict, args.out,
        dict(producer='trusted_pickle_to_safetensors',
             source=osp.abspath(args.src)))
    print(f'{len(state_dict) - len(skipped)} tensors from {args.src} -> '
          f'{args.out}' + (f'; left out (not tensors): {skipped}'
                           if skipped else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
