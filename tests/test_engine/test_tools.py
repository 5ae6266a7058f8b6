"""Command-line flags of tools/train.py and tools/test.py."""
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / 'tools'
CONFIG = str(TOOLS.parent / 'configs/tpo/tiny_stage3.py')
sys.path.insert(0, str(TOOLS))

import train as train_tool  # noqa: E402


def build(*flags):
    return train_tool.build_config(train_tool.parse_args([CONFIG, *flags]))


def test_defaults():
    cfg = build()
    assert cfg.work_dir == './work_dirs/tiny_stage3'
    assert cfg.resume is False
    assert cfg.load_from == 'work_dirs/tiny_stage3_no_conversation'
    assert cfg.launcher == 'none'


def test_resume_auto_and_path():
    cfg = build('--resume')
    assert cfg.resume is True and cfg.load_from is None
    cfg = build('--resume', 'ckpt/iter_10.pth')
    assert cfg.resume is True and cfg.load_from == 'ckpt/iter_10.pth'


def test_amp_work_dir_and_cfg_options():
    cfg = build('--amp', '--work-dir', 'elsewhere', '--cfg-options',
                'model.lora.r=8', 'train_dataloader.batch_size=2')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.work_dir == 'elsewhere'
    assert cfg.model.lora.r == 8
    assert cfg.train_dataloader.batch_size == 2


def test_unknown_flag_is_rejected(capsys):
    with pytest.raises(SystemExit):
        train_tool.parse_args([CONFIG, '--no-such-flag'])
    assert 'unrecognized arguments' in capsys.readouterr().err
