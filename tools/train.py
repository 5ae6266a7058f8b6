"""Train a TPO model: ``python tools/train.py CONFIG [options]``."""
import argparse
import os.path as osp

from mmengine.config import Config

from tpo.utils.cli import add_common_args, load_config


STRATEGIES = ('deepspeed_zero2', 'deepspeed_zero3', 'fsdp')
STRATEGY_DIR = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', '_base_',
    'strategies')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a TPO model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the latest checkpoint in the work dir (no value '
        'or "auto"), or from the checkpoint PATH given')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision training')
    parser.add_argument(
        '--strategy',
        choices=STRATEGIES,
        help='train with DeepSpeed ZeRO-2/3 or FSDP (mmengine FlexibleRunner):'
        ' the `strategy` of configs/_base_/strategies/<name>.py replaces the '
        "config's")
    add_common_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    """Merge the command-line flags into the config."""
    cfg = load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.strategy:
        cfg.strategy = Config.fromfile(
            osp.join(STRATEGY_DIR, f'{args.strategy}.py')).strategy
    return cfg


def main(argv=None) -> None:
    cfg = build_config(parse_args(argv))
    from tpo.engine import build_runner
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
