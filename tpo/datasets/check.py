"""Check every dataset of a config: annotations parse, media files exist.

Used by ``tools/dataset_converters/check_dataset.py``. Nothing stops at the
first problem: each leaf dataset is read with
:attr:`~tpo.datasets.TPOBaseDataset.collect_errors` (readers that parse
through ``parse_each`` then report every malformed record; others report
their first), and every item's media paths are checked.
"""
import copy
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Iterator, List, Optional, Tuple

from tpo.registry import DATASETS
from .annotation import AnnotationError

# wrappers holding a list of datasets / one dataset
LIST_WRAPPERS = ('ConcatDataset', 'MixedDataset')
# item fields naming a file or folder that must exist
PATH_FIELDS = ('video_path', 'frame_dir', 'mask_dir', 'mask_file')


@dataclass
class Problem:
    """One problem: where in the config, and the message (which names the
    file, the record and the field)."""
    where: str
    message: str

    def __str__(self) -> str:
        return f'[{self.where}] {self.message}'


@dataclass
class DatasetReport:
    """What checking one leaf dataset found."""
    where: str
    type: str
    source: str = ''
    num_items: int = 0
    problems: List[Problem] = field(default_factory=list)
    #: Malformed annotation records left out (``skip_bad_records``).
    skipped_records: List[Problem] = field(default_factory=list)


def _type_name(cfg: dict) -> str:
    kind = cfg.get('type', '?')
    return kind if isinstance(kind, str) else getattr(kind, '__name__',
                                                      str(kind))


def iter_leaf_configs(cfg: Any, where: str) -> Iterator[Tuple[str, dict]]:
    """``(where, config)`` of every reader config under a dataset config,
    through ``ConcatDataset`` / ``MixedDataset`` (also their ``dict(dataset=,
    ratio=)`` entries) and single-dataset wrappers (``RepeatDataset``,
    ``SyntheticWorldDataset``...)."""
    if not isinstance(cfg, dict):
        return
    if 'type' not in cfg and 'dataset' in cfg:  # a mixture entry
        yield from iter_leaf_configs(cfg['dataset'], f'{where}.dataset')
        return
    if _type_name(cfg) in LIST_WRAPPERS or 'datasets' in cfg:
        for i, sub in enumerate(cfg.get('datasets') or []):
            yield from iter_leaf_configs(sub, f'{where}.datasets[{i}]')
        return
    if isinstance(cfg.get('dataset'), dict):
        yield from iter_leaf_configs(cfg['dataset'], f'{where}.dataset')
        return
    yield where, cfg


def _label(cfg: dict) -> str:
    source = cfg.get('source') or ''
    return f'{_type_name(cfg)}{f" source={source}" if source else ""}'


def check_leaf(cfg: dict, where: str, check_files: bool = True,
               skip_bad_records: bool = False) -> DatasetReport:
    """Build one reader from ``cfg``, read its annotations collecting every
    problem, and check its items' media paths. With ``skip_bad_records``
    the malformed records are what the reader would leave out with
    ``skip_bad_records=True``: listed as skipped, not as problems."""
    report = DatasetReport(where, _type_name(cfg), cfg.get('source') or '')
    at = f'{where} ({_label(cfg)})'
    cfg = copy.deepcopy(cfg)
    cfg['lazy_init'] = True
    try:
        dataset = DATASETS.build(cfg)
    except Exception as error:  # noqa: BLE001 - reported, not hidden
        report.problems.append(
            Problem(at, f'cannot build: {type(error).__name__}: {error}'))
        return report
    dataset.collect_errors = True
    try:
        dataset.full_init()
    except AnnotationError as error:
        report.problems.append(Problem(at, str(error)))
    except Exception as error:  # noqa: BLE001 - reported, not hidden
        report.problems.append(
            Problem(at, f'{type(error).__name__}: {error}'))
    bad_records = [Problem(at, str(error))
                   for error in getattr(dataset, 'parse_errors', [])]
    if skip_bad_records:
        report.skipped_records.extend(bad_records)
    else:
        report.problems.extend(bad_records)
    if not getattr(dataset, '_fully_initialized', False):
        return report
    report.num_items = len(dataset)
    if check_files:
        report.problems.extend(_missing_files(dataset, at))
    return report


def _missing_files(dataset, at: str) -> Iterator[Problem]:
    seen = set()
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        for key in PATH_FIELDS:
            path = info.get(key)
            if not isinstance(path, str) or path in seen:
                continue
            seen.add(path)
            if not osp.exists(path):
                yield Problem(
                    at, f'item {index}{_item_id(info)}: field {key!r} '
                    f'{path} does not exist.')


def _item_id(info: dict) -> str:
    for key in ('qid', 'ref_id', 'region_id', 'exp_id', 'sequence',
                'video_id', 'sample_id'):
        if info.get(key) is not None:
            return f' ({key}={info[key]!r})'
    return ''


def check_config(cfg, split: str = 'train', check_files: bool = True,
                 skip_bad_records: bool = False) -> List[DatasetReport]:
    """Check every dataset of ``{split}_dataloader`` (``split='all'``: of
    the train, val and test dataloaders) of a loaded mmengine config (see
    :func:`check_leaf` for ``skip_bad_records``)."""
    splits = ('train', 'val', 'test') if split == 'all' else (split, )
    reports, seen = [], set()
    for name in splits:
        loader = cfg.get(f'{name}_dataloader')
        if not loader or not loader.get('dataset'):
            if split != 'all':
                raise KeyError(f'the config has no {name}_dataloader.dataset')
            continue
        for where, leaf in iter_leaf_configs(
                loader['dataset'], f'{name}_dataloader.dataset'):
            key = repr(sorted((k, repr(v)) for k, v in leaf.items()))
            if key in seen:  # e.g. val_dataloader = test_dataloader
                continue
            seen.add(key)
            reports.append(
                check_leaf(dict(leaf), where, check_files, skip_bad_records))
    return reports


def format_reports(reports: List[DatasetReport],
                   max_problems: Optional[int] = None) -> str:
    """Every problem, then one summary line per dataset and a total."""
    lines = []
    for report in reports:
        problems = report.problems
        if max_problems is not None:
            problems = problems[:max_problems]
        lines.extend(f'PROBLEM {p}' for p in problems)
        if len(problems) < len(report.problems):
            lines.append(f'... {len(report.problems) - len(problems)} more '
                         f'problems in {report.where}')
        skipped = report.skipped_records[:max_problems]
        lines.extend(f'SKIPPED {p}' for p in skipped)
        if len(skipped) < len(report.skipped_records):
            lines.append(f'... {len(report.skipped_records) - len(skipped)} '
                         f'more skipped records in {report.where}')
    lines.append('')
    lines.append('Summary:')
    for report in reports:
        status = 'OK' if not report.problems else \
            f'{len(report.problems)} problem(s)'
        if report.skipped_records:
            status += f', {len(report.skipped_records)} bad record(s) skipped'
        lines.append(
            f'  {report.where} ({report.type}'
            f'{f" source={report.source}" if report.source else ""}): '
            f'{report.num_items} items, {status}')
    total = sum(len(r.problems) for r in reports)
    bad = sum(bool(r.problems) for r in reports)
    skipped = sum(len(r.skipped_records) for r in reports)
    lines.append(f'{len(reports)} dataset(s) checked, {bad} with problems, '
                 f'{total} problem(s) in total' +
                 (f', {skipped} bad record(s) skipped.' if skipped else '.'))
    return '\n'.join(lines)
