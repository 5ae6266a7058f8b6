"""Evaluate a TPO checkpoint: ``python tools/test.py CONFIG CHECKPOINT``."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a TPO model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, or a work dir (its last checkpoint is used)')
    parser.add_argument('--work-dir', help='where logs and results go')
    parser.add_argument(
        '--out',
        help='dump the predictions of every test sample to this .pkl/.json')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    from tpo.engine import build_runner, resolve_checkpoint
    cfg.load_from = resolve_checkpoint(args.checkpoint)
    if args.out is not None:
        cfg.test_evaluator = list(cfg.test_evaluator) if isinstance(
            cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator.append(
            dict(type='DumpPredictions', out_file=args.out))
    runner = build_runner(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
