"""The ablation configs (Tables 11, 12, 15) and run_ablations.py."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
ABLATIONS = ROOT / 'configs' / 'tpo' / 'ablations'
sys.path.insert(0, str(ROOT / 'tools'))

from analysis_tools import run_ablations  # noqa: E402

CONVERSATION_SOURCES = {'videochat2_it', 'mvbench'}
HEAD_OF = dict(T='temporal', R='region', M='mask')

# config -> (parent config, the key paths it must change[, key paths it may
# change])
PARENTS = {
    'tpo_full': ('../tiny_stage3', {
        'load_from', 'model.strict_load', 'charades_dir',
        'charades_sta_train', 'train_dataloader.dataset.datasets'
    }, {'stage_model', 'max_iters', 'train_cfg'}),
    # the base MLLM's stage schedule (tiny_stage0.py): loaded strictly, as
    # it starts from scratch
    'mllm_base': ('tpo_full', {
        'load_from', 'model.frozen_modules', 'model.loss_weights',
        'model.strict_load', 'train_dataloader.dataset.datasets',
        'stage_model'
    }, {'max_iters', 'train_cfg'}),
    'stage1': ('mllm_base', {
        'load_from', 'train_dataloader.dataset.datasets', 'max_iters',
        'train_cfg'
    }),
    'mlp_temporal_head': ('tpo_full', {'model.heads.temporal'}),
    'no_conversation': ('tpo_full', {'train_dataloader.dataset.datasets'}),
    'one_temporal_dataset': ('tpo_full',
                             {'train_dataloader.dataset.datasets'}),
    'textualized': ('tpo_full', {
        'load_from', 'model.heads', 'model.max_new_tokens',
        'optim_wrapper.paramwise_cfg.custom_keys',
        'train_dataloader.dataset.datasets',
        'test_dataloader.dataset.datasets', 'test_evaluator',
        'val_dataloader.dataset.datasets', 'val_evaluator'
    }),
}
for _name in ('heads_t', 'heads_r', 'heads_m', 'heads_rm'):
    PARENTS[_name] = ('tpo_full', {
        'model.heads', 'train_dataloader.dataset.datasets',
        'test_dataloader.dataset.datasets', 'test_evaluator',
        'val_dataloader.dataset.datasets', 'val_evaluator'
    })


def _load(name: str) -> Config:
    return Config.fromfile(str((ABLATIONS / f'{name}.py').resolve()))


def diff_paths(a, b, prefix: str = '') -> set:
    """Dotted key paths whose values differ (dicts recursed into)."""
    if isinstance(a, dict) and isinstance(b, dict):
        paths = set()
        for key in a.keys() | b.keys():
            path = f'{prefix}.{key}' if prefix else key
            if key not in a or key not in b:
                paths.add(path)
            else:
                paths |= diff_paths(a[key], b[key], path)
        return paths
    return set() if a == b else {prefix}


def _sources(datasets) -> set:
    out = set()
    for ds in datasets:
        while 'source' not in ds:
            ds = ds['dataset']
        out.add(ds['source'])
    return out


def test_every_config_and_row_is_tested():
    names = {p.stem for p in ABLATIONS.glob('*.py')}
    assert names == set(PARENTS)
    assert {spec.get('config', row)
            for row, spec in run_ablations.ROWS.items()} <= names
    assert {name for name, _ in run_ablations.SHARED} <= names


@pytest.mark.parametrize('name', sorted(PARENTS))
def test_config_differs_from_parent_only_in_intended_keys(name):
    parent, intended, *optional = PARENTS[name]
    child = _load(name).to_dict()
    base = _load(parent).to_dict()
    changed = diff_paths(child, base)
    allowed = intended | (optional[0] if optional else set())
    unintended = {p for p in changed
                  if not any(p == k or p.startswith(k + '.')
                             for k in allowed)}
    assert not unintended, f'{name} also changes {sorted(unintended)}'
    unchanged = {k for k in intended
                 if not any(p == k or p.startswith(k + '.')
                            for p in changed)}
    assert not unchanged, f'{name} leaves {sorted(unchanged)} as {parent}'


@pytest.mark.parametrize(
    'row', sorted(r for r, spec in run_ablations.ROWS.items()
                  if spec.get('train', True)))
def test_row_heads_and_data_match_its_table_entry(row):
    spec = run_ablations.ROWS[row]
    cfg = _load(row)
    assert set(cfg.model.heads) == {HEAD_OF[h] for h in spec['heads']}
    sources = _sources(cfg.train_dataloader.dataset.datasets)
    assert bool(sources & CONVERSATION_SOURCES) == spec['conv']
    assert ('charades_sta' in sources) == (
        row != 'one_temporal_dataset' and 'T' in spec['heads']
        or row == 'textualized')
    # every row keeps the box-prompt encoder (the shared checkpoints'
    # vocabulary has <track_box>) and starts from its shared stage
    assert cfg.model.box_prompt_encoder == dict(type='BoxPromptEncoder')
    assert cfg.load_from.endswith(spec['start'])


def test_textualized_row_has_no_heads_and_decodes_every_task():
    cfg = _load('textualized')
    assert cfg.model.heads == {}
    for ds in cfg.train_dataloader.dataset.datasets:
        inner = ds['dataset']['dataset'] if ds['type'] == 'RepeatDataset' \
            else ds['dataset']
        types = [t['type'] for t in inner['pipeline']]
        if inner['source'] in CONVERSATION_SOURCES:
            assert 'TextualizeTaskAnswer' not in types
        else:
            assert types.index('TextualizeTaskAnswer') == \
                types.index('FormatTaskConversation') + 1
    wrapped = [m['metric']['type'] for m in cfg.test_evaluator
               if m['type'] == 'TextAnswerMetric']
    assert wrapped == ['ReferringBoxAccuracy', 'TemporalGroundingRecall',
                       'ReferringVOSMetric', 'TrackingMetric',
                       'MultipleChoiceAccuracy']


@pytest.mark.parametrize('name', ['textualized', 'mlp_temporal_head'])
def test_changed_models_build(name):
    from mmengine.registry import init_default_scope

    from tpo.registry import MODELS
    init_default_scope('tpo')
    model = MODELS.build(_load(name).model)
    expected = {'textualized': [], 'mlp_temporal_head': [
        ('region', 'RegionHead'), ('temporal', 'MLPTemporalHead'),
        ('mask', 'SAM2MaskHead')]}[name]
    assert [(k, type(v).__name__) for k, v in model.heads.items()] == \
        expected


def test_claim_verdicts_need_separated_seeds():
    def runs(*values):
        return [dict(metrics={'m': v}) for v in values]

    verdict = run_ablations.claim_verdict
    assert verdict({'a': runs(5, 6), 'b': runs(1, 2)}, 'a', 'b',
                   'm') == (4.0, 'holds')
    # ties and gaps up to MIN_GAP are noise
    assert verdict({'a': runs(6.1, 9.7), 'b': runs(6.1, 6.1)}, 'a', 'b',
                   'm')[1] == 'within seed noise'
    assert verdict({'a': runs(3, 4), 'b': runs(1, 2)}, 'a', 'b',
                   'm')[1] == 'within seed noise'
    # both rows below a row that needs no training
    assert verdict({'a': runs(5, 6), 'b': runs(1, 2), 'trivial': runs(7)},
                   'a', 'b', 'm')[1] == (
                       'holds, but both rows are at or below a baseline '
                       'without training (7.0)')
    assert verdict({'a': runs(5, 6), 'b': runs(1, 2), 'trivial': runs(5)},
                   'a', 'b', 'm')[1] == 'holds'
    assert verdict({'a': runs(1, 2), 'b': runs(5, 6)}, 'a', 'b',
                   'm') == (-4.0, 'reversed')
    assert verdict({'a': runs(1, 6), 'b': runs(3, 2)}, 'a', 'b',
                   'm') == (1.0, 'within seed noise')
    assert verdict({'a': runs(1), 'b': runs(3)}, 'a', 'b',
                   'm')[1] == 'needs >= 2 seeds'
    assert verdict({'a': runs(1, 2)}, 'a', 'b', 'm') == (None, 'not run')
    assert run_ablations.fmt(np.array([1.0, 3.0])) == '2.0 ± 1.4'
    assert run_ablations.fmt(None) == '-'


def test_render_reports_mean_spread_and_malformed_counts():
    def run(seed, acc, r1, malformed=None):
        metrics = {'refcoco/Acc@0.5': acc, 'temporal/R@1,IoU=0.5': r1}
        if malformed is not None:  # text answers only
            metrics.update({'refcoco/malformed': malformed,
                            'refcoco/answers': 64.0})
        return dict(row='x', seed=seed, iters=50, train_s=10.0, test_s=5.0,
                    metrics=metrics)

    args = run_ablations.parse_args(
        ['--rows', 'tpo_full', 'textualized', '--seeds', '0', '1'])
    results = {
        'tpo_full': [run(0, 10.0, 30.0), run(1, 14.0, 32.0)],
        'textualized': [run(0, 2.0, 20.0, 10), run(1, 4.0, 36.0, 20)]
    }
    text = run_ablations.render(args, results, 'cmd', [60.0, 30.0])
    rows = {line.split(' | ')[0]: line.split(' | ')
            for line in text.splitlines() if line.startswith('| ')}
    full = rows['| TPO: CG-DETR T + R + M + C, two temporal sources '
                '(`tpo_full`)']
    assert full[1:6] == ['✓', '✓', '✓', '✓', '50']
    assert full[6] == '12.0 ± 2.8'  # box Acc@0.5: mean, sample sd
    assert full[-1] == '- |'  # no malformed count: the heads answer
    p2s = rows['| textualized task data (P2S, LM loss only) (`textualized`)']
    assert p2s[6] == '3.0 ± 1.4'
    assert p2s[-1] == 'region 15.0/64 |'
    assert 'Wall time: 1.5 min in 2 invocation(s)' in text
    claims = [line for line in text.splitlines() if '`tpo_full` vs' in line]
    assert '| refcoco/Acc@0.5 | +9.0 | holds |' in claims[2]
    assert '| temporal/R@1,IoU=0.5 | +3.0 | within seed noise |' in claims[0]


def test_write_markdown_keeps_the_text_around_the_markers(tmp_path):
    path = tmp_path / 'a.md'
    run_ablations.write_markdown(str(path), run_ablations.BEGIN + '\nold\n' +
                                 run_ablations.END)
    text = path.read_text()
    assert text.startswith('# Ablations in miniature')
    path.write_text('intro\n' + text + 'discussion\n')
    run_ablations.write_markdown(
        str(path), run_ablations.BEGIN + '\nnew\n' + run_ablations.END)
    text = path.read_text()
    assert 'intro' in text and 'discussion' in text and 'new' in text
    assert 'old' not in text


def test_quick_run_end_to_end_and_resume(tmp_path):
    """Shared stages and a TPO row, then the textualized row; a last run
    reuses every cached stage and result (the aggregation over seeds is
    tested above, on values)."""
    work_dir, out = tmp_path / 'work', tmp_path / 'ablations.md'
    common = ['--quick', '--work-dir', str(work_dir), '--out', str(out)]
    results = run_ablations.main(common + ['--rows', 'heads_r', '--seeds',
                                           '0'])
    assert [r['seed'] for r in results['heads_r']] == [0]
    metrics = results['heads_r'][0]['metrics']
    assert 0 <= metrics['refcoco/Acc@0.5'] <= 100
    assert 'temporal/mIoU' not in metrics and 'mvbench/Avg' in metrics
    text = out.read_text()
    assert '| R only (`heads_r`) |  | ✓ |  |  | 2 | ' in text
    assert 'CPU cores' in text and '--quick' in text

    argv = common + ['--rows', 'heads_r', 'textualized', 'trivial',
                     '--seeds', '0']
    results = run_ablations.main(argv)
    trivial = results['trivial'][0]['metrics']
    # option A always has an option letter; the whole video overlaps
    assert trivial['mvbench/malformed'] == 0
    assert trivial['temporal/mIoU'] > 0
    p2s = results['textualized'][0]['metrics']
    for prefix in ('refcoco', 'temporal', 'rvos', 'tracking'):
        assert p2s[f'{prefix}/answers'] == run_ablations.QUICK['test_samples']
        assert 0 <= p2s[f'{prefix}/malformed'] <= p2s[f'{prefix}/answers']
    text = out.read_text()
    assert 'textualized task data' in text and 'track 4.0/4' in text
    assert 'in 2 invocation(s)' in text
    assert 'trivial predictions' in text

    cached = work_dir / 'results' / 'quick_base2_stage12' / \
        'heads_r_it2_seed0.json'
    stamp = cached.stat().st_mtime
    start = time.time()
    again = run_ablations.main(argv)
    assert time.time() - start < 10
    assert cached.stat().st_mtime == stamp
    assert json.loads(cached.read_text()) == again['heads_r'][0]
    assert 'in 2 invocation(s)' in out.read_text()
