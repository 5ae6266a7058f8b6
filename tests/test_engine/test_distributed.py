"""Two-process DDP on CPU (gloo) through tools/dist_train.sh."""
import os
import subprocess

import pytest
import torch

from tests.test_engine.test_runner import (LOSS_TERMS, ROOT,
                                           read_iterations, region_only_cfg,
                                           trainable_state)
from tpo.engine import build_runner


def test_two_processes_match_one_with_the_same_global_batch(
        tiny_world, tmp_path):
    """2 processes x batch 1 against 1 process x batch 2.

    The InfiniteSampler gives rank r the samples r, r + 2, ... of the
    one-process order, so every iteration trains on the same global batch;
    DDP averages the two ranks' gradients, which equals the batch of 2
    here because each sample has one box and equally many answer tokens
    (see ``region_only_cfg``). The loss terms (mean over the ranks) and the
    final weights match up to float rounding.
    """
    ddp_dir = tmp_path / 'ddp'
    config = tmp_path / 'ddp.py'
    region_only_cfg(tiny_world, str(ddp_dir), batch_size=1).dump(str(config))
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT='29617',
               PYTHONPATH=str(ROOT))
    run = subprocess.run(
        ['bash', str(ROOT / 'tools/dist_train.sh'), str(config), '2',
         '--work-dir', str(ddp_dir)],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=600)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log
    assert 'Distributed launcher: pytorch' in log
    assert (ddp_dir / 'iter_2.pth').is_file(), log[-3000:]

    single_dir = str(tmp_path / 'single')
    single = build_runner(region_only_cfg(tiny_world, single_dir,
                                          batch_size=2))
    single.train()
    one = read_iterations(single_dir)
    ranks = [read_iterations(str(ddp_dir), rank) for rank in (0, 1)]
    assert [r['iter'] for r in one] == [r['iter'] for r in ranks[0]] == \
        [r['iter'] for r in ranks[1]] == [1, 2, 3, 4]
    for k, expected in enumerate(one):
        # The same samples, split between the ranks in the sampler's order.
        assert expected['samples'] == \
            ranks[0][k]['samples'] + ranks[1][k]['samples']
        assert len(set(expected['samples'])) == 2
        for term in LOSS_TERMS:
            mean = (ranks[0][k][term] + ranks[1][k][term]) / 2
            assert mean == pytest.approx(expected[term], rel=1e-4), \
                (expected['iter'], term)
    # Not vacuous: the two ranks' samples have different losses.
    assert ranks[0][0]['loss'] != pytest.approx(ranks[1][0]['loss'])

    ddp_state = torch.load(ddp_dir / 'iter_4.pth',
                           weights_only=False)['state_dict']
    for name, value in trainable_state(single).items():
        torch.testing.assert_close(ddp_state[name], value, rtol=1e-4,
                                   atol=1e-5, msg=name)
