import ast
import math

import numpy as np
import pytest
from mmengine.evaluator import Evaluator

from tests._shared import load_conformance
from tpo.evaluation.functional import got10k_eval, lasot_eval
from tpo.evaluation.metrics import TrackingMetric

TRACK = load_conformance('tracking_lasot_got10k.json')
SEQS = TRACK['inputs']['sequences']
MATLAB = TRACK['reference_output']['lasot_matlab_toolkit_octave']
GOT = TRACK['reference_output']['got10k_toolkit_ExperimentGOT10k']
TOL = 1e-6


def edge_sequence(case):
    return dict(pred=case['pred'], gt=[case['gt_first_row']] * len(
        case['pred']))


@pytest.fixture(scope='module')
def lasot():
    return lasot_eval(SEQS)


def test_lasot_main(lasot):
    summary = MATLAB['summary']
    assert lasot['success_auc'] == pytest.approx(
        summary['Success_AUC'], abs=TOL)
    assert lasot['precision'] == pytest.approx(
        summary['Precision@20px'], abs=TOL)
    assert lasot['norm_precision'] == pytest.approx(
        summary['NormPrecision@0.20'], abs=TOL)
    for key, ref in (('success_curve', 'plain_overlap_curve'),
                     ('precision_curve', 'plain_error_curve'),
                     ('norm_precision_curve', 'norm_error_curve')):
        np.testing.assert_allclose(
            lasot[key], MATLAB[ref], rtol=0, atol=TOL)


def test_lasot_per_seq_curves(lasot):
    per_seq = MATLAB['per_seq']
    for seq, out in zip(SEQS, lasot['per_seq']):
        for key, ref in (('success_curve', 'plain_overlap'),
                         ('precision_curve', 'plain_error'),
                         ('success_curve', 'norm_overlap'),
                         ('norm_precision_curve', 'norm_error')):
            np.testing.assert_allclose(
                out[key], per_seq[ref][seq['name']], rtol=0, atol=TOL,
                err_msg=f'{seq["name"]} {ref}')


@pytest.mark.parametrize('name', sorted(TRACK['edge_cases']))
def test_lasot_edge_cases(name):
    case = TRACK['edge_cases'][name]
    out = lasot_eval([edge_sequence(case)])
    expect = case['matlab']
    if math.isnan(expect['Success_AUC']):
        # an all-zero success curve is dropped: nothing is left to average
        assert math.isnan(out['success_auc'])
    else:
        assert out['success_auc'] == pytest.approx(
            expect['Success_AUC'], abs=TOL)
    assert out['precision'] == pytest.approx(
        expect['Precision@20px'], abs=TOL)
    assert out['norm_precision'] == pytest.approx(
        expect['NormPrecision@0.20'], abs=TOL)
    np.testing.assert_allclose(
        out['per_seq'][0]['success_curve'],
        case['matlab_per_seq_overlap_curve'][name], rtol=0, atol=TOL)
    np.testing.assert_allclose(
        out['per_seq'][0]['precision_curve'],
        case['matlab_per_seq_error_curve'][name], rtol=0, atol=TOL)


def test_got10k_main():
    sizes = [ast.literal_eval(GOT['assumed_resolution'][s['name']])
             for s in SEQS]
    out = got10k_eval(SEQS, sizes)
    assert out['ao'] == pytest.approx(GOT['AO(pooled over frames)'], abs=TOL)
    assert out['sr50'] == pytest.approx(GOT['SR0.5'], abs=TOL)
    assert out['sr75'] == pytest.approx(GOT['SR0.75(succ_curve[75])'],
                                        abs=TOL)
    np.testing.assert_allclose(
        out['success_curve'], GOT['succ_curve_101'], rtol=0, atol=TOL)
    assert np.mean([i.mean() for i in out['ious']]) == pytest.approx(
        GOT['mean_of_seq_wise_AO(for comparison)'], abs=TOL)
    for seq, ious in zip(SEQS, out['ious']):
        expect = GOT['per_seq'][seq['name']]
        assert len(ious) <= expect['length']
        assert ious.mean() == pytest.approx(expect['ao'], abs=TOL)
        assert (ious > 0.5).mean() == pytest.approx(expect['sr'], abs=TOL)


@pytest.mark.parametrize('name', sorted(TRACK['edge_cases']))
def test_got10k_edge_cases(name):
    # every edge-case box lies within 640x360, the toolkit's assumed size
    case = TRACK['edge_cases'][name]
    out = got10k_eval([edge_sequence(case)], [(640, 360)])
    expect = case['got10k_got']
    assert out['ao'] == pytest.approx(expect['AO(pooled over frames)'],
                                      abs=TOL)
    assert out['sr50'] == pytest.approx(expect['SR0.5'], abs=TOL)


@pytest.mark.parametrize('protocol', ['lasot', 'got10k'])
def test_tracking_metric(protocol):
    evaluator = Evaluator(TrackingMetric(protocol=protocol))
    sizes = [ast.literal_eval(GOT['assumed_resolution'][s['name']])
             for s in SEQS]
    evaluator.process([
        dict(pred_track_bboxes=np.array(s['pred']),
             gt_track_bboxes=np.array(s['gt']),
             absent=np.array(s['absent']),
             ori_shape=(h, w)) for s, (w, h) in zip(SEQS, sizes)
    ])
    out = evaluator.evaluate(len(SEQS))
    if protocol == 'lasot':
        summary = MATLAB['summary']
        expect = {
            'tracking/AUC': summary['Success_AUC'],
            'tracking/P@20': summary['Precision@20px'],
            'tracking/P_norm': summary['NormPrecision@0.20']
        }
    else:
        expect = {
            'tracking/AO': GOT['AO(pooled over frames)'],
            'tracking/SR0.5': GOT['SR0.5'],
            'tracking/SR0.75': GOT['SR0.75(succ_curve[75])']
        }
    assert out == pytest.approx({k: v * 100 for k, v in expect.items()},
                                rel=0, abs=1e-4)
