"""CG-DETR's saliency losses, by hand."""
import math

import torch
from torch import nn

from tpo.models.losses import (CGDETRSaliencyLoss, NegativePairLoss,
                               RankContrastiveLoss, SaliencyMarginLoss,
                               negative_pair, rank_contrastive,
                               saliency_margin)


def test_saliency_margin_by_hand():
    scores = torch.tensor([[1.0, 0.5, 0.0, 0.6]])
    pos, neg = torch.tensor([[0, 1]]), torch.tensor([[2, 3]])
    # max(0, .2 + 0 - 1) + max(0, .2 + .6 - .5) = .3; / (1 * 2) * 2
    assert math.isclose(saliency_margin(scores, pos, neg, 0.2).item(), 0.3,
                        rel_tol=1e-6)
    assert math.isclose(
        SaliencyMarginLoss(0.2, loss_weight=2.)(scores, pos, neg).item(),
        0.6, rel_tol=1e-6)
    assert saliency_margin(scores, torch.zeros(0, 2, dtype=torch.long),
                           torch.zeros(0, 2, dtype=torch.long), 0.2) == 0


def test_rank_contrastive_by_hand():
    # a padded clip (mask 0) with a high score must not count
    scores = torch.tensor([[0.5, 0.0, -0.5, 5.0]])
    labels = torch.tensor([[2., 1., 0., 0.]])
    mask = torch.tensor([[1., 1., 1., 0.]])
    logits = [0., -1., -2.]  # scores / 0.5 minus the max
    lse = math.log(sum(math.exp(x) for x in logits) + 1e-6)
    level1 = -((0 - lse) + (-1 - lse)) / (2 + 1e-6)
    level2 = -(0 - lse) / (1 + 1e-6)
    expected = (level1 + level2) / 12
    assert math.isclose(
        rank_contrastive(scores, labels, mask).item(), expected,
        rel_tol=1e-5)
    assert math.isclose(
        RankContrastiveLoss(loss_weight=3.)(scores, labels, mask).item(),
        3 * expected, rel_tol=1e-5)
    # no positive clip: zero
    assert rank_contrastive(scores, torch.zeros_like(labels), mask) == 0


def test_negative_pair_by_hand():
    # -log(1 - sigmoid(0)) - log(1 - sigmoid(ln 3)) = ln 2 + ln 4
    logits = torch.tensor([[0., math.log(3)]])
    assert math.isclose(negative_pair(logits, torch.ones(1, 2)).item(),
                        math.log(8), rel_tol=1e-6)
    assert math.isclose(
        negative_pair(logits, torch.tensor([[1., 0.]])).item(), math.log(2),
        rel_tol=1e-6)
    probs = torch.tensor([[0.5, 0.75]])
    assert math.isclose(
        NegativePairLoss(use_sigmoid=False)(probs, torch.ones(1, 2)).item(),
        math.log(8), rel_tol=1e-5)


def test_cgdetr_saliency_loss_composes_its_terms():
    torch.manual_seed(0)
    scores, attn = torch.randn(3, 5), torch.rand(3, 5)
    labels = torch.tensor([[0., 3, 5, 0, 0], [1, 1, 0, 0, 0],
                           [0, 0, 0, 0, 0]])
    mask = torch.tensor([[1., 1, 1, 1, 1], [1, 1, 1, 1, 0],
                         [1, 1, 1, 0, 0]])
    pos, neg = torch.tensor([[2, 1], [0, 1]]), torch.tensor([[1, 4],
                                                             [3, 2]])
    paired = torch.tensor([True, True, False])
    loss = CGDETRSaliencyLoss(margin=0.2, attn_weight=0.5, loss_weight=4.)
    head_terms = saliency_margin(scores[:2], pos, neg, 0.2) + \
        rank_contrastive(scores, labels, mask)
    assert torch.allclose(
        loss(scores, labels, mask, pos, neg, pair_mask=paired),
        4 * head_terms)
    attn_terms = saliency_margin(attn[:2], pos, neg, 0.2) + \
        rank_contrastive(attn, labels, mask) + \
        nn.functional.binary_cross_entropy(attn, labels.clamp(0, 1))
    assert torch.allclose(
        loss(scores, labels, mask, pos, neg, pair_mask=paired,
             attn_scores=attn), 4 * (head_terms + 0.5 * attn_terms))
    # negative pairs for rows 0 and 1 (row 2 pairs with a clip of its video)
    real = torch.tensor([True, True, False])
    neg_scores, neg_attn = torch.randn(2, 5), torch.rand(2, 5)
    zeros = torch.zeros(2, 5)
    head_terms = saliency_margin(scores[:2], pos, neg, 0.2) + \
        rank_contrastive(torch.cat([scores[:2], neg_scores], 1),
                         torch.cat([labels[:2], zeros], 1),
                         mask[:2].repeat(1, 2)) + \
        rank_contrastive(scores[2:], labels[2:], mask[2:]) + \
        negative_pair(neg_scores, mask[:2])
    attn_terms = saliency_margin(attn[:2], pos, neg, 0.2) + \
        rank_contrastive(torch.cat([attn[:2], neg_attn], 1),
                         torch.cat([labels[:2], zeros], 1),
                         mask[:2].repeat(1, 2)) + \
        negative_pair(neg_attn, mask[:2], use_sigmoid=False) + \
        nn.functional.binary_cross_entropy(attn, labels.clamp(0, 1))
    assert torch.allclose(
        loss(scores, labels, mask, pos, neg, pair_mask=paired,
             attn_scores=attn, neg_scores=neg_scores,
             neg_attn_scores=neg_attn, real_neg=real),
        4 * (head_terms + 0.5 * attn_terms), atol=1e-6)
