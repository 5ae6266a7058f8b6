"""Consolidate a DeepSpeed ZeRO checkpoint into one ``.safetensors`` file.

Example::

    # the folder mmengine's DeepSpeedStrategy saved (one per checkpoint)
    python tools/model_converters/zero_to_tpo.py \\
        work_dirs/videochat_stage3/iter_3000.pth \\
        work_dirs/videochat_stage3/iter_3000_fp32.safetensors

SRC may also be a work dir (its last checkpoint). The output holds the
weights in ``TPOModel`` keys, as ``TPOModel.state_dict()`` gives them (every
tensor but the frozen weights that the config rebuilds from ``pretrained``
sources): trainable parameters in fp32, gathered from every rank's optimizer
partition (ZeRO-1/2/3, any number of ranks), frozen ones and buffers as the
engine saved them. Use it as ``load_from`` of the next stage or as the
checkpoint of ``tools/test.py`` (both also read the folder directly).
"""
import argparse
import os
import os.path as osp
import sys

from tpo.engine.checkpoint import (is_deepspeed_checkpoint, resolve_checkpoint,
                                   zero_checkpoint_state_dict)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'src', help='DeepSpeed checkpoint folder (work_dir/iter_N.pth) or a '
        'work dir')
    parser.add_argument('out', help='output .safetensors file')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.out.endswith('.safetensors'):
        sys.exit(f'out={args.out!r}: give a path ending with .safetensors')
    try:
        src = resolve_checkpoint(args.src, key='src')
    except FileNotFoundError as error:
        sys.exit(str(error))
    if not is_deepspeed_checkpoint(src):
        sys.exit(f'{src} is not a DeepSpeed checkpoint folder (no '
                 '*model_states.pt in it); a .pth or .safetensors is already '
                 'a consolidated checkpoint.')
    from tpo.engine.hooks.safetensors_checkpoint_hook import save_safetensors
    state_dict = zero_checkpoint_state_dict(src)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    save_safetensors(state_dict, args.out,
                     dict(producer='zero_to_tpo', source=osp.abspath(src)))
    numel = sum(v.numel() for v in state_dict.values())
    print(f'{len(state_dict)} tensors ({numel:,} values) from {src} -> '
          f'{args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
