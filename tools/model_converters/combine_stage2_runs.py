"""Join the checkpoints of TPO's stage-2 runs (Table 16: the temporal, mask
and region heads trained "respectively") into the start of stage 3.

    python tools/model_converters/combine_stage2_runs.py \\
        configs/tpo/videochat_stage2_temporal.py \\
        configs/tpo/videochat_stage2_mask.py \\
        configs/tpo/videochat_stage2_region.py \\
        --out work_dirs/videochat_stage2

Each run's checkpoint is the last one of its config's ``work_dir`` (or
``--checkpoints``, one per config, in order); its frozen modules are the
config's ``model.frozen_modules``. Every tensor comes from the run that
trained it; tensors trained by every run (the LLM's LoRA) are averaged, or
taken from one run with ``--shared NAME`` (a suffix of one config's name,
e.g. ``region``); see :mod:`tpo.engine.combine_runs`.

Written to ``--out``: ``stage2_combined.safetensors``, its
``last_checkpoint`` marker (so that stage 3's ``load_from =
'work_dirs/videochat_stage2'`` finds it) and ``stage2_combined.json``
(the runs, their checkpoints, and which run each module came from). A
marker that points at another checkpoint (e.g. of the joint stage-2 run)
is kept unless ``--overwrite``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List

OUT_FILE = 'stage2_combined.safetensors'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+', help='the runs\' configs')
    parser.add_argument('--out', required=True,
                        help='the folder to write into (stage 3 loads it)')
    parser.add_argument('--checkpoints', nargs='+',
                        help='a checkpoint or work dir per config (default: '
                        "each config's work_dir)")
    parser.add_argument('--shared', default='mean',
                        help="tensors trained by several runs: 'mean' "
                        '(default) or the run to take them from')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace a last_checkpoint marker of --out that '
                        'points elsewhere')
    return parser.parse_args(argv)


def run_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def pick_shared(shared: str, names: List[str]) -> str:
    """'mean', or the one run name that ends with ``shared``."""
    if shared == 'mean':
        return shared
    matches = [name for name in names if name.endswith(shared)]
    if len(matches) != 1:
        raise SystemExit(f'error: --shared {shared!r} matches {matches} of '
                         f'the runs {names}; name exactly one')
    return matches[0]


def module_summary(sources: Dict[str, str]) -> Dict[str, Dict[str, int]]:
    """Per source, how many tensors of each module it gave."""
    from tpo.engine.optimizers import module_group
    summary: Dict[str, Counter] = {}
    for key, source in sources.items():
        summary.setdefault(source, Counter())[module_group(key)] += 1
    return {source: dict(sorted(counts.items()))
            for source, counts in sorted(summary.items())}


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config
    from safetensors.torch import save_file

    from tpo.engine.checkpoint import resolve_checkpoint
    from tpo.engine.combine_runs import combine_runs
    from tpo.engine.export import checkpoint_state_dict
    if args.checkpoints and len(args.checkpoints) != len(args.configs):
        raise SystemExit(f'error: {len(args.checkpoints)} --checkpoints for '
                         f'{len(args.configs)} configs')
    names = [run_name(config) for config in args.configs]
    if len(set(names)) != len(names):
        raise SystemExit(f'error: two configs share a name: {names}')
    shared = pick_shared(args.shared, names)
    marker = osp.join(args.out, 'last_checkpoint')
    target = osp.join(args.out, OUT_FILE)
    if osp.isfile(marker) and not args.overwrite:
        with open(marker) as f:
            current = f.read().strip()
        if osp.abspath(current) != osp.abspath(target):
            raise SystemExit(
                f'error: {marker} points at {current}; pass --overwrite to '
                f'point it at {target} instead (that checkpoint is kept)')
    states, frozen, checkpoints = {}, {}, {}
    for index, (name, config) in enumerate(zip(names, args.configs)):
        cfg = Config.fromfile(config)
        where = (args.checkpoints[index] if args.checkpoints else
                 cfg.work_dir)
        try:
            checkpoints[name] = resolve_checkpoint(
                where, key=f'the checkpoint of {name}')
        except FileNotFoundError as error:
            raise SystemExit(f'error: {error}') from None
        states[name] = checkpoint_state_dict(checkpoints[name])
        frozen[name] = tuple(cfg.model.get('frozen_modules', ()))
        print(f'{name}: {len(states[name])} tensors from '
              f'{checkpoints[name]}')
    try:
        combined = combine_runs(states, frozen, shared)
    except ValueError as error:
        raise SystemExit(f'error: {error}') from None
    os.makedirs(args.out, exist_ok=True)
    partial = target + '.partial'
    save_file({k: v.contiguous() for k, v in combined.state_dict.items()},
              partial, metadata={'format': 'pt'})
    os.replace(partial, target)
    summary = module_summary(combined.sources)
    with open(osp.join(args.out, 'stage2_combined.json'), 'w') as f:
        json.dump(dict(runs=checkpoints, frozen=frozen, shared=shared,
                       modules=summary), f, indent=1)
    with open(marker, 'w') as f:
        f.write(target)
    for source, counts in summary.items():
        print(f'{source}: ' + ', '.join(f'{module} ({count})'
                                        for module, count in counts.items()))
    print(f'wrote {target} ({len(combined.state_dict)} tensors)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
