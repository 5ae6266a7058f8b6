"""Clip-level saliency targets and their resampling."""
import numpy as np
import torch

from tests.test_models.temporal_helpers import temporal_sample
from tpo.models.task_modules import clip_targets, saliency_to_clips


def test_clip_targets_qvhighlights_and_window_styles():
    sample = temporal_sample(
        windows=((2., 8.), ), duration=10.,
        relevant_clip_ids=np.array([1, 2, 3]),
        saliency_scores=np.array([[1, 1, 1], [4, 4, 2], [0, 1, 0]]))
    targets = clip_targets(sample, num_clips=5, clip_length=2.)
    assert targets.labels.tolist() == [0., 3., 10., 1., 0.]
    # hard pair (best vs worst relevant clip), then random relevant vs
    # random irrelevant
    assert targets.pos[0] == 2 and targets.neg[0] == 3
    assert targets.pos[1] in (1, 2, 3) and targets.neg[1] in (0, 4)
    # 1-s clips read the 2-s GT clip at their center
    fine = clip_targets(sample, num_clips=10, clip_length=1.)
    assert fine.labels.tolist() == [0, 0, 3, 3, 10, 10, 1, 1, 0, 0]

    charades = temporal_sample(windows=((2.5, 6.2), (0., 1.)), duration=10.)
    targets = clip_targets(charades, num_clips=5, clip_length=2.)
    assert targets.labels.tolist() == [0., 1., 1., 0., 0.]
    assert sorted(targets.pos.tolist()) == [1, 2]
    assert set(targets.neg.tolist()) <= {0, 3, 4}
    assert len(set(targets.neg.tolist())) == 2
    none = clip_targets(temporal_sample(windows=()), 4, 2.)
    assert none.labels.sum() == 0 and none.pos.numel() == 0


def test_saliency_to_clips():
    saliency = torch.tensor([1., 2., 3., 4.])  # 4 clips of 2.5 s
    # 2-s clips centred at 1, 3, 5, 7, 9 s fall in clips 0, 1, 2, 2, 3
    assert saliency_to_clips(saliency, 2.5, 10., 2.).tolist() == [
        1., 2., 3., 3., 4.]
    assert saliency_to_clips(saliency, 2., 8., 2.) is saliency
    assert saliency_to_clips(saliency, 2.5, 10., None) is saliency
