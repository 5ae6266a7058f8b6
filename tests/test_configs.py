"""Every config in the repo loads, dumps, and the dump reloads identically;
none is deeper than three levels."""
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

CONFIG_ROOT = Path(__file__).resolve().parents[1] / 'configs'
CONFIGS = sorted(p for p in CONFIG_ROOT.rglob('*.py'))


def test_configs_exist():
    names = {p.relative_to(CONFIG_ROOT).as_posix() for p in CONFIGS}
    assert 'tpo/tiny_stage3.py' in names
    assert '_base_/default_runtime.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_dump_roundtrip(path, tmp_path):
    cfg = Config.fromfile(str(path))
    dumped = tmp_path / 'dumped.py'
    cfg.dump(str(dumped))
    assert Config.fromfile(str(dumped)).to_dict() == cfg.to_dict()


def test_swap_head_in_one_line(tmp_path):
    """An ablation config that changes the region loss in one line (the
    official code's L1 instead of the paper's MSE)."""
    child = tmp_path / 'ablation.py'
    child.write_text(
        f"_base_ = ['{CONFIG_ROOT / 'tpo' / 'tiny_stage3.py'}']\n"
        'model = dict(heads=dict(region=dict('
        "loss_bbox=dict(type='L1Loss'))))\n")
    cfg = Config.fromfile(str(child))
    assert cfg.model.heads.region.loss_bbox == dict(type='L1Loss',
                                                     loss_weight=5.0)
    assert cfg.model.heads.region.type == 'RegionHead'


def test_no_config_is_more_than_three_levels_deep():
    sys.path.insert(0, str(CONFIG_ROOT.parent / 'tools' / 'analysis_tools'))
    from config_depth import deepest_chain
    for root in (CONFIG_ROOT, CONFIG_ROOT.parent / 'projects'):
        for path in root.rglob('*.py'):
            chain = deepest_chain(str(path))
            assert len(chain) - 1 <= 3, ' -> '.join(chain)
    assert len(deepest_chain(str(CONFIG_ROOT / 'tpo/ablations/heads_t.py'))
               ) - 1 == 3


def test_a_head_swap_replaces_the_whole_head_and_its_loss_weight():
    full = Config.fromfile(str(CONFIG_ROOT / 'tpo/ablations/tpo_full.py'))
    mlp = Config.fromfile(
        str(CONFIG_ROOT / 'tpo/ablations/mlp_temporal_head.py'))
    assert full.model.heads.temporal.type == 'CGDETRHead'
    assert mlp.model.heads.temporal == dict(type='MLPTemporalHead',
                                            loss_weight=0.05)
