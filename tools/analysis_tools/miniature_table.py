"""The miniature's verdict table: each metric of a trained tiny TPO model
next to its trivial baselines on the same test split, and its target.

    python tools/analysis_tools/miniature_table.py CONFIG \
        [--metrics METRICS_JSON] [--out TABLE_JSON] [--readme README.md]

CONFIG gives the test split and evaluator (e.g.
``configs/tpo/ablations/tpo_full.py``); the baselines are those of
``trivial_baselines.py``. METRICS_JSON holds the model's test metrics as a
JSON object (the ``metrics`` of ``quickstart_results.json`` or the metrics
``tools/test.py`` logs); without it the model column is ``-``. When the
file also holds ``baselines`` (``quickstart_results.json`` does), those are
used instead of being scored again. ``--readme`` rewrites the quick-start
results block of the README (between its ``quickstart-results`` markers)
from the file: this table and, when present, the time of every step. The targets
are those of the quick start (issue 16): a metric meets its target when it
reaches ``min_value`` and exceeds its best baseline by ``min_gain``.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from analysis_tools.trivial_baselines import trivial_metrics  # noqa: E402


class Target(NamedTuple):
    label: str
    keys: Tuple[str, ...]  # metric names, the first one present is used
    baselines: Tuple[Tuple[str, str], ...]  # (label, trivial_metrics key)
    min_value: float = 0.0
    min_gain: float = 0.0


TARGETS = (
    Target('MVBench-style MCQ accuracy', ('mvbench/Avg', ),
           (('always-A', 'blind'), ('chance', 'chance')), min_value=70),
    Target('referring-box Acc@0.5', ('refcoco/Acc@0.5', ),
           (('mean training box', 'blind'), ), min_value=60),
    Target('temporal R1@0.5',
           ('temporal/R@1,IoU=0.5', 'qvhighlights/MR-full-R1@0.5'),
           (('whole video', 'blind'), ), min_value=60, min_gain=20),
    Target('referring masks J&F', ('rvos/J&F', ),
           (('no mask', 'blind'), ('full frame', 'full_frame')),
           min_value=60),
    Target('tracking AUC', ('tracking/AUC', ),
           (('first box held still', 'blind'),
            ('full-frame box', 'full_frame')), min_gain=10),
)


def _pick(metrics: Dict[str, float],
          keys: Sequence[str]) -> Optional[float]:
    return next((float(metrics[k]) for k in keys if k in metrics), None)


def rule(target: Target) -> str:
    parts = [f'>= {target.min_value:g}'] if target.min_value else []
    if target.min_gain:
        parts.append(f'>= best baseline + {target.min_gain:g}')
    return ' and '.join(parts)


def table_rows(model: Dict[str, float],
               baselines: Dict[str, Dict[str, float]]) -> List[dict]:
    """One row per target: model value, baselines, verdict."""
    rows = []
    for target in TARGETS:
        values = {
            label: _pick(baselines.get(key, {}), target.keys)
            for label, key in target.baselines
        }
        known = [v for v in values.values() if v is not None]
        value = _pick(model, target.keys)
        if value is None:
            verdict = '-'
        else:
            floor = max(known) + target.min_gain if known else -1.0
            met = value >= target.min_value and (
                not target.min_gain or value >= floor)
            verdict = 'met' if met else 'not met'
        rows.append(dict(metric=target.label, model=value,
                         baselines=values, target=rule(target),
                         verdict=verdict))
    return rows


def markdown(rows: List[dict]) -> str:
    def fmt(value: Optional[float]) -> str:
        return '-' if value is None else f'{value:.1f}'

    lines = ['| metric | model | trivial baseline | target | verdict |',
             '|---|---|---|---|---|']
    for row in rows:
        base = ', '.join(f'{label} {fmt(v)}'
                         for label, v in row['baselines'].items())
        lines.append(f"| {row['metric']} | {fmt(row['model'])} | {base} | "
                     f"{row['target']} | {row['verdict']} |")
    return '\n'.join(lines)


README_BEGIN = '<!-- quickstart-results:begin -->'
README_END = '<!-- quickstart-results:end -->'


def readme_block(rows: List[dict], results: dict) -> str:
    """The README's quick-start results: the target table, then the time of
    every step of the run that produced ``results``."""
    lines = [README_BEGIN, '', markdown(rows), '']
    stages = results.get('stage_minutes', {})
    if stages:
        lines += ['| step | minutes |', '|---|---|']
        lines += [f'| {name} | {value:.1f} |'
                  for name, value in stages.items()]
        lines += [f"| **total** | **{results['minutes']:.1f}** |", '']
    lines.append(README_END)
    return '\n'.join(lines)


def update_readme(path: str, block: str) -> None:
    """Replace the text between the quick-start markers of ``path``."""
    with open(path) as f:
        text = f.read()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(f'{path} has no {README_BEGIN} ... {README_END} '
                         'block to rewrite.')
    text = text[:begin] + block + text[end + len(README_END):]
    with open(path, 'w') as f:
        f.write(text)


def main(argv=None) -> List[dict]:
    from mmengine.config import Config
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--metrics', help='JSON object of model metrics')
    parser.add_argument('--out', help='write the rows as JSON here')
    parser.add_argument(
        '--readme', help='rewrite the quick-start results block of this file')
    args = parser.parse_args(argv)
    results = {}
    if args.metrics:
        with open(args.metrics) as f:
            results = json.load(f)
    baselines = results.get('baselines') or trivial_metrics(
        Config.fromfile(args.config))
    rows = table_rows(results.get('metrics', results), baselines)
    print(markdown(rows))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1)
    if args.readme:
        update_readme(args.readme, readme_block(rows, results))
    return rows


if __name__ == '__main__':
    main()
