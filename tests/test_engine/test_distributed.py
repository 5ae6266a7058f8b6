"""Two-process DDP on CPU (gloo) through tools/dist_train.sh."""
import os
import subprocess
from pathlib import Path

from tests.test_engine.test_runner import stage3_cfg

ROOT = Path(__file__).resolve().parents[2]


def test_dist_train_two_processes_on_cpu(tiny_world, tmp_path):
    cfg = stage3_cfg(tiny_world, str(tmp_path / 'work'))
    cfg.default_hooks.checkpoint.interval = 2
    config = tmp_path / 'ddp.py'
    cfg.dump(str(config))
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT='29617',
               PYTHONPATH=str(ROOT))
    run = subprocess.run(
        ['bash', str(ROOT / 'tools/dist_train.sh'), str(config), '2',
         '--work-dir', str(tmp_path / 'work')],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=600)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log
    assert 'Distributed launcher: pytorch' in log
    assert (tmp_path / 'work' / 'iter_2.pth').is_file(), log[-3000:]
