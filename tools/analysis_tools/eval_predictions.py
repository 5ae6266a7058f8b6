"""Score a predictions or submission file with a config's metrics, without
a model (mmdetection's ``eval_metric.py`` for TPO).

    python tools/analysis_tools/eval_predictions.py CONFIG PREDICTIONS

PREDICTIONS is one of:

* the ``--out`` file of ``tools/test.py`` (``.json`` or ``.pkl``, one record
  per sample): scored by the config's ``test_evaluator`` as it was
  computed, the same numbers;
* a QVHighlights submission (``.jsonl`` rows ``{qid,
  pred_relevant_windows, pred_saliency_scores}``) or a tracking result
  folder (``<sequence>.txt``, one ``x,y,w,h`` row per frame, LaSOT /
  GOT-10k): joined with the ground truth of the config's test dataset by
  ``qid`` / sequence name, then scored by the config's metrics.

The metrics that only write files (``DumpPredictions``, ``*Submission``)
are left out. A malformed file stops with an error naming the file, the
record and the field. The numbers are printed and, with ``--out``, written
as JSON.
"""
import argparse
import io
import json
import os
import os.path as osp
import pickle
import sys
from typing import Iterable, List, Optional, Sequence

import numpy as np

WRITERS = ('DumpPredictions', 'QVHighlightsSubmission', 'TrackingSubmission',
           'MaskSubmission')
# What a predictions pickle may name: numpy arrays, dtypes and scalars.
PICKLE_GLOBALS = {
    ('numpy.core.multiarray', '_reconstruct'), ('numpy', 'ndarray'),
    ('numpy', 'dtype'), ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', 'scalar'), ('_codecs', 'encode')
} | {(module, name) for module in ('builtins', '__builtin__')
     for name in ('tuple', 'list', 'dict', 'set', 'frozenset', 'bytes',
                  'bytearray', 'complex')}


class PredictionError(ValueError):
    """A predictions file that cannot be scored."""


class _ArraysOnly(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays, nothing that runs
    code."""

    def find_class(self, module, name):
        if (module, name) in PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'refusing to load {module}.{name}: a predictions file holds only '
            'containers, numbers, strings and numpy arrays')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('predictions', help='tools/test.py --out file, a '
                        'QVHighlights .jsonl or a tracking result folder')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides of the config')
    return parser.parse_args(argv)


def load_records(path: str) -> List[dict]:
    """The records of a ``tools/test.py --out`` file."""
    if path.endswith('.pkl'):
        with open(path, 'rb') as f:
            try:
                records = _ArraysOnly(io.BytesIO(f.read())).load()
            except pickle.UnpicklingError as error:
                raise PredictionError(f'{path}: {error}') from None
    elif path.endswith('.json'):
        with open(path) as f:
            try:
                records = json.load(f)
            except json.JSONDecodeError as error:
                raise PredictionError(
                    f'{path} line {error.lineno}: invalid JSON '
                    f'({error.msg})') from None
    else:
        raise PredictionError(f'{path}: expected .json, .pkl, .jsonl or a '
                              'folder of tracking results')
    if not isinstance(records, list):
        raise PredictionError(f'{path}: expected a list of records, got '
                              f'{type(records).__name__}')
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise PredictionError(f'{path} record {index}: expected an '
                                  f'object, got {type(record).__name__}')
        if 'task' not in record:
            raise PredictionError(f"{path} record {index}: field 'task' is "
                                  'missing (is it a tools/test.py --out '
                                  'file?)')
    return records


def _dataset_items(cfg) -> List[dict]:
    """The items of the config's test dataset, without loading videos."""
    from tpo.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def qvhighlights_records(path: str, cfg) -> List[dict]:
    """A QVHighlights submission joined with the config's ground truth."""
    from tpo.datasets.annotation import iter_jsonl
    items = {str(item['qid']): item for item in _dataset_items(cfg)
             if 'qid' in item and 'relevant_windows' in item}
    records = []
    for line, row in iter_jsonl(path):
        where = f'{path} line {line}'
        if not isinstance(row, dict):
            raise PredictionError(f'{where}: expected an object')
        if 'qid' not in row:
            raise PredictionError(f"{where}: field 'qid' is missing")
        item = items.get(str(row['qid']))
        if item is None:
            raise PredictionError(f"{where}: field 'qid' {row['qid']!r} is "
                                  'not a query of the config\'s test set')
        windows = np.asarray(row.get('pred_relevant_windows', []),
                             dtype=np.float64)
        if windows.size and (windows.ndim != 2 or windows.shape[1] != 3):
            raise PredictionError(
                f"{where} (qid={row['qid']!r}): field 'pred_relevant_windows' "
                f'must be [[start, end, score], ...], got shape '
                f'{windows.shape}')
        record = dict(task='temporal', qid=row['qid'],
                      pred_windows=windows.reshape(-1, 3),
                      gt_windows=np.asarray(item['relevant_windows']),
                      duration=item['duration'])
        for key in ('relevant_clip_ids', 'saliency_scores'):
            if key in item:
                record[key] = item[key]
        if 'pred_saliency_scores' in row:
            record['pred_saliency'] = np.asarray(row['pred_saliency_scores'],
                                                 dtype=np.float64)
        records.append(record)
    return records


def tracking_records(folder: str, cfg) -> List[dict]:
    """Tracking result files joined with the config's ground truth."""
    records = []
    for item in _dataset_items(cfg):
        if 'sequence' not in item:
            continue
        path = osp.join(folder, f"{item['sequence']}.txt")
        if not osp.isfile(path):
            raise PredictionError(f'{folder}: no result file for sequence '
                                  f"{item['sequence']!r} ({path})")
        try:
            boxes = np.loadtxt(path, delimiter=',', ndmin=2)
        except ValueError as error:
            raise PredictionError(f'{path}: not x,y,w,h rows ({error})') \
                from None
        if boxes.shape[1] != 4:
            raise PredictionError(f'{path}: rows of {boxes.shape[1]} values, '
                                  'expected x,y,w,h')
        gt = item.get('gt_track_bboxes')
        if gt is None:
            raise PredictionError(f"sequence {item['sequence']!r} has no "
                                  'ground truth in the config\'s test set '
                                  '(a server-scored split?)')
        record = dict(task='track', pred_track_bboxes=boxes,
                      gt_track_bboxes=np.asarray(gt),
                      sequence=item['sequence'])
        if item.get('absent') is not None:
            record['absent'] = np.asarray(item['absent'])
        if item.get('ori_shape') is not None:
            record['ori_shape'] = item['ori_shape']
        records.append(record)
    return records


# The metrics a submission format can feed (its rows carry nothing else).
SUBMISSION_METRICS = dict(
    qvhighlights=('MomentRetrievalMetric', 'TemporalGroundingRecall'),
    tracking=('TrackingMetric', ))


def score(cfg, records: Iterable[dict], source: str,
          only: Optional[Sequence[str]] = None) -> dict:
    """The config's metrics (writers left out; only the types ``only``
    when given) on the records."""
    from mmengine.evaluator import Evaluator

    from tpo.registry import METRICS
    metrics_cfg = cfg.test_evaluator
    metrics_cfg = metrics_cfg if isinstance(metrics_cfg, (list, tuple)) \
        else [metrics_cfg]
    metrics = [METRICS.build(m) for m in metrics_cfg
               if m['type'] not in WRITERS and
               (only is None or m['type'] in only)]
    if not metrics:
        raise PredictionError('the config has no metric that computes a '
                              'number (only submission writers)')
    evaluator = Evaluator(metrics)
    for index, record in enumerate(records):
        try:
            evaluator.process([record], None)
        except (KeyError, ValueError, TypeError) as error:
            raise PredictionError(
                f'{source} record {index}: {error}') from None
    results = {}
    for metric in metrics:  # each scores its own share of the records
        if not metric.results:
            raise PredictionError(f'{source}: no record for '
                                  f'{type(metric).__name__} (tasks '
                                  f'{getattr(metric, "tasks", None)})')
        results.update(metric.evaluate(len(metric.results)))
    return results


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmengine.config import Config, DictAction
    from mmengine.registry import init_default_scope
    init_default_scope('tpo')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--o'] +
                                              args.cfg_options).o)
    path = args.predictions
    if osp.isdir(path):
        records, only = tracking_records(path, cfg), \
            SUBMISSION_METRICS['tracking']
    elif path.endswith('.jsonl'):
        records, only = qvhighlights_records(path, cfg), \
            SUBMISSION_METRICS['qvhighlights']
    else:
        records, only = load_records(path), None
    metrics = score(cfg, records, path, only)
    for name, value in metrics.items():
        print(f'{name}: {value}')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=1, default=float)
    return metrics


if __name__ == '__main__':
    try:
        main()
    except PredictionError as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
