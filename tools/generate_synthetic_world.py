"""Generate the synthetic video world (videos + annotations in public dataset
formats) into OUT_DIR, or check that the one there has the same parameters.

Example::

    python tools/generate_synthetic_world.py data/synthetic_world --val 100
"""
import argparse
import json
import os.path as osp
import time

from tpo.datasets.synthetic import ensure_synthetic_world


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='folder of the world')
    parser.add_argument('--train', type=int, default=400, help='train videos')
    parser.add_argument('--val', type=int, default=100, help='val videos')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(128, 128),
        metavar=('H', 'W'),
        help='frame size (even)')
    parser.add_argument('--fps', type=int, default=8)
    parser.add_argument(
        '--workers',
        type=int,
        default=None,
        help='rendering processes (default: CPU count)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    ensure_synthetic_world(
        args.out_dir,
        num_videos=dict(train=args.train, val=args.val),
        seed=args.seed,
        size=args.size,
        fps=args.fps,
        num_workers=args.workers)
    with open(osp.join(args.out_dir, 'meta.json')) as f:
        counts = json.load(f)['counts']
    print(f'{"output":<22}{"train":>8}{"val":>8}')
    for name, per_split in counts.items():
        print(f'{name:<22}{per_split["train"]:>8}{per_split["val"]:>8}')
    print(f'Done in {time.perf_counter() - start:.1f} s: {args.out_dir}')


if __name__ == '__main__':
    main()
