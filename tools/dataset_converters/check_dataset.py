"""Check that the datasets of a config are ready to train on.

    python tools/dataset_converters/check_dataset.py CONFIG [--split train]

Builds every dataset of the config's ``{split}_dataloader`` (through
``ConcatDataset`` / ``MixedDataset`` / single-dataset wrappers) without
stopping at the first problem: every malformed annotation record (file,
record, field) and every missing video / image / frame folder is printed,
then a summary per dataset. Exits with 1 when there is any problem, else 0.
With ``--skip-bad-records`` malformed records are listed and counted as
skipped (as the readers' ``skip_bad_records=True`` would leave them out),
not as problems. Nothing is decoded and no synthetic world is generated.
"""
import argparse
import sys

from mmengine.config import Config, DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Check the datasets of a config.')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--split', default='train', choices=('train', 'val', 'test', 'all'),
        help='which dataloader to check (default: train)')
    parser.add_argument('--no-files', action='store_true',
                        help='only parse the annotations')
    parser.add_argument(
        '--skip-bad-records', action='store_true',
        help='count and list malformed annotation records as skipped (what '
        'the readers do with skip_bad_records=True) instead of as problems')
    parser.add_argument('--max-problems', type=int, default=None,
                        help='print at most this many problems per dataset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'tpo') or 'tpo')
    from tpo.datasets.check import check_config, format_reports
    reports = check_config(cfg, args.split, not args.no_files,
                           args.skip_bad_records)
    print(format_reports(reports, args.max_problems))
    return 1 if any(r.problems for r in reports) else 0


if __name__ == '__main__':
    sys.exit(main())
