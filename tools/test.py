"""Evaluate a TPO checkpoint: ``python tools/test.py CONFIG CHECKPOINT``."""
import argparse
import json
import os
import os.path as osp
import shutil

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
    parser.add_argument(
        '--submission-dir',
        help='also write the official submission files there: '
        'qvhighlights_submission.jsonl, tracking/<sequence>.txt (LaSOT) or '
        'tracking/<sequence>/<sequence>_001.txt + tracking.zip (GOT-10k), '
        'masks/Annotations/<vid>/<exp_id>/<frame>.png + '
        'masks/submission.zip (MeViS, Ref-YouTube-VOS)')
    parser.add_argument(
        '--no-resume',
        action='store_true',
        help='predict every batch again instead of reusing the predictions '
        'an interrupted run of the same checkpoint left in the work dir')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args)
    from tpo.engine import build_runner, resolve_checkpoint
    cfg.load_from = resolve_checkpoint(args.checkpoint, key='checkpoint')
    # Predictions are cached per batch; an interrupted run resumes from them.
    cache_dir = osp.join(cfg.work_dir, 'prediction_cache')
    if args.no_resume:
        shutil.rmtree(cache_dir, ignore_errors=True)
    stat = os.stat(cfg.load_from)
    cfg.test_cfg = dict(
        cfg.get('test_cfg') or {},
        type='ResumableTestLoop', cache_dir=cache_dir,
        key=f'{osp.abspath(cfg.load_from)}:{stat.st_size}:{stat.st_mtime}')
    cfg.default_hooks.logger.interval = 10**9  # the progress bar reports
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='ProgressBarHook')
    ]
    evaluator = cfg.test_evaluator
    evaluator = list(evaluator) if isinstance(evaluator,
                                              (list, tuple)) else [evaluator]
    if args.out is not None:
        evaluator.append(dict(type='DumpPredictions', out_file=args.out))
    if args.submission_dir is not None:
        root = args.submission_dir
        dataset = cfg.test_dataloader.dataset
        layout = 'got10k' if dataset.get('layout') == 'got10k' else 'lasot'
        evaluator += [
            dict(type='QVHighlightsSubmission',
                 out_file=osp.join(root, 'qvhighlights_submission.jsonl')),
            dict(type='TrackingSubmission', layout=layout,
                 out_dir=osp.join(root, 'tracking')),
            dict(type='MaskSubmission', out_dir=osp.join(root, 'masks')),
        ]
    cfg.test_evaluator = evaluator
    metrics = build_runner(cfg).test()
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1, default=float)
    return metrics


if __name__ == '__main__':
    main()
