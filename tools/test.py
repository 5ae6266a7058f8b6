"""Evaluate a TPO checkpoint: ``python tools/test.py CONFIG CHECKPOINT``."""
import argparse

from tpo.utils.cli import add_common_args, load_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a TPO model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, or a work dir (its last checkpoint is used)')
    parser.add_argument(
        '--out',
        help='dump the predictions of every test sample to this .pkl/.json')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args)
    from tpo.engine import build_runner, resolve_checkpoint
    cfg.load_from = resolve_checkpoint(args.checkpoint, key='checkpoint')
    cfg.default_hooks.logger.interval = 10**9  # the progress bar reports
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='ProgressBarHook')
    ]
    if args.out is not None:
        evaluator = cfg.test_evaluator
        cfg.test_evaluator = (list(evaluator) if isinstance(
            evaluator, (list, tuple)) else [evaluator]) + [
                dict(type='DumpPredictions', out_file=args.out)
            ]
    return build_runner(cfg).test()


if __name__ == '__main__':
    main()
