import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from tests._shared import load_conformance
from tpo.evaluation.functional import (boundary_f_measure, davis_statistics,
                                       mevis_j_and_f, region_similarity_j,
                                       rle_decode)
from tpo.evaluation.metrics import ReferringVOSMetric

RVOS = load_conformance('rvos_j_f.json')
TOL = 1e-6


def decode(mask):
    return rle_decode(mask['h'], mask['w'], mask['rle'])


def stack(masks):
    return np.stack([decode(m) for m in masks])


def frame_scores(pred, gt):
    return region_similarity_j(pred, gt), [
        boundary_f_measure(p, g) for p, g in zip(pred, gt)
    ]


def test_rle_decode():
    mask = rle_decode(2, 3, [0, 2, 3, 1])
    assert mask.tolist() == [[True, True, False], [False, False, True]]
    with pytest.raises(ValueError, match='summing'):
        rle_decode(2, 3, [1, 2])


@pytest.mark.parametrize('pair', RVOS['pairs'], ids=lambda p: p['name'])
def test_pairs(pair):
    pred, gt = decode(pair['pred']), decode(pair['gt'])
    assert float(region_similarity_j(pred, gt)) == pytest.approx(
        pair['J'], abs=TOL)
    assert boundary_f_measure(pred, gt) == pytest.approx(pair['F'], abs=TOL)


def test_sequence_and_davis_statistics():
    seq = RVOS['sequence']
    j, f = frame_scores(stack(seq['pred']), stack(seq['gt']))
    np.testing.assert_allclose(j, seq['J_per_frame'], rtol=0, atol=TOL)
    np.testing.assert_allclose(f, seq['F_per_frame'], rtol=0, atol=TOL)
    assert np.mean(j) == pytest.approx(seq['mevis_expression_J'], abs=TOL)
    assert np.mean(f) == pytest.approx(seq['mevis_expression_F'], abs=TOL)
    for values, key in ((j, 'J'), (f, 'F')):
        stats = davis_statistics(values)
        expect = seq['davis_db_statistics'][key]
        assert stats['mean'] == pytest.approx(expect['M'], abs=TOL)
        assert stats['recall'] == pytest.approx(expect['R'], abs=TOL)
        assert stats['decay'] == pytest.approx(expect['D'], abs=TOL)


def test_real_shaped_and_dataset_aggregate():
    seqs = {RVOS['sequence']['name']: RVOS['sequence']}
    seqs.update({s['name']: s for s in RVOS['real_shaped']})
    per_j, per_f = [], []
    for seq in RVOS['real_shaped']:
        j, f = frame_scores(stack(seq['pred']), stack(seq['gt']))
        np.testing.assert_allclose(j, seq['J_per_frame'], rtol=0, atol=TOL)
        np.testing.assert_allclose(f, seq['F_per_frame'], rtol=0, atol=TOL)
        assert np.mean(j) == pytest.approx(
            seq['mevis_expression_J'], abs=TOL)
        assert np.mean(f) == pytest.approx(
            seq['mevis_expression_F'], abs=TOL)
    expect = RVOS['mevis_style_dataset_aggregate']
    for name in expect['expressions']:
        j, f = frame_scores(stack(seqs[name]['pred']), stack(seqs[name]['gt']))
        per_j.append(j)
        per_f.append(f)
    out = mevis_j_and_f(per_j, per_f)
    for key in ('J', 'F', 'J&F'):
        assert out[key] == pytest.approx(expect[key], abs=TOL)


def test_referring_vos_metric():
    """Two samples of one expression pool their frames; J&F in percent."""
    seq = RVOS['sequence']
    pred = torch.from_numpy(stack(seq['pred']))
    gt = torch.from_numpy(stack(seq['gt']))
    evaluator = Evaluator(ReferringVOSMetric())
    evaluator.process([
        dict(pred_masks=pred[:5], gt_masks=gt[:5], expression_id='e0'),
        dict(pred_masks=pred[5:], gt_masks=gt[5:], expression_id='e0'),
        dict(pred_masks=gt[:2], gt_masks=gt[:2]),
    ])
    out = evaluator.evaluate(3)
    expect_j = (seq['mevis_expression_J'] + 1) / 2 * 100
    expect_f = (seq['mevis_expression_F'] + 1) / 2 * 100
    assert out['rvos/J'] == pytest.approx(expect_j, abs=1e-4)
    assert out['rvos/F'] == pytest.approx(expect_f, abs=1e-4)
    assert out['rvos/J&F'] == pytest.approx((expect_j + expect_f) / 2,
                                            abs=1e-4)
