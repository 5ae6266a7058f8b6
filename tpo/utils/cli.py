"""Command-line options shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='where logs and outputs go')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.lora.r=8 '
        'train_dataloader.batch_size=4')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with the common options applied; the
    work dir defaults to ``work_dirs/<config name>``. The current directory
    is put on ``sys.path`` first, so plugins of ``custom_imports`` import."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    # Plugins named in `custom_imports` (e.g. projects.point_head...) are
    # importable from the directory the tool runs in, as in mmdetection.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg
