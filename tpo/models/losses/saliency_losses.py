"""Clip-level (saliency) losses of CG-DETR (highlight detection), on
per-clip scores ``(B, L)``:

* :class:`SaliencyMarginLoss`: hinge between sampled positive and negative
  clips (Moment-DETR).
* :class:`RankContrastiveLoss`: for each saliency level ``t``, clips scored
  ``>= t`` are positives of a softmax over the clips (CG-DETR / UniVTG).
* :class:`NegativePairLoss`: a video paired with another sample's query
  should score no clip as salient.
* :class:`CGDETRSaliencyLoss`: the complete ``loss_saliency`` of CG-DETR,
  on the saliency head and on the text-to-video attention.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from tpo.registry import MODELS
from .utils import graph_zero

# Score given to padded clips before a softmax over clips.
MASKED_SCORE = -1e3


#: CG-DETR's saliency loss (margin 0.2, attention term weight 1, weight 4).
CGDETR_SALIENCY = dict(type='CGDETRSaliencyLoss', margin=0.2,
                       attn_weight=1.0, loss_weight=4.0)


def saliency_margin(scores: torch.Tensor, pos_inds: torch.Tensor,
                    neg_inds: torch.Tensor, margin: float) -> torch.Tensor:
    """``sum(max(0, margin + s[neg] - s[pos])) / (B * P) * 2`` over ``P``
    index pairs per row."""
    if pos_inds.numel() == 0:
        return graph_zero(scores)
    pos = scores.gather(1, pos_inds.long())
    neg = scores.gather(1, neg_inds.long())
    return (margin + neg - pos).clamp(min=0).sum() / pos.numel() * 2


def rank_contrastive(scores: torch.Tensor, labels: torch.Tensor,
                     mask: torch.Tensor, tau: float = 0.5,
                     max_level: int = 12) -> torch.Tensor:
    """CG-DETR's rank-contrastive loss.

    For each level ``t`` in ``1 .. max_level - 1`` with any clip labelled
    ``>= t``: a softmax over the valid clips of a row (temperature ``tau``)
    and the mean negative log-probability of the clips labelled ``>= t``,
    averaged over the rows (rows without positives count 0). The level
    losses are summed and divided by ``max_level``.

    Args:
        scores: ``(B, L)`` clip scores.
        labels: ``(B, L)`` saliency levels (0 = not relevant).
        mask: ``(B, L)`` 1 at valid clips.
    """
    mask = mask.to(scores)
    scores = mask * scores + (1 - mask) * MASKED_SCORE
    # CG-DETR "drops" clips labelled above 100 (never in practice).
    keep = labels <= 100
    total = graph_zero(scores)
    for level in range(1, max_level):
        pos = labels >= level
        if not pos.any():
            continue
        has_pos = pos.any(1).to(scores)
        logits = torch.where(keep, scores / tau,
                             scores.new_tensor(MASKED_SCORE))
        logits = logits - logits.max(1, keepdim=True).values
        log_prob = logits - torch.log(logits.exp().sum(1, keepdim=True) +
                                      1e-6)
        pos = pos.to(scores)
        mean_pos = (pos * log_prob * mask).sum(1) / (pos.sum(1) + 1e-6)
        total = total + (-mean_pos * has_pos).mean()
    return total / max_level


def negative_pair(scores: torch.Tensor, mask: torch.Tensor,
                  use_sigmoid: bool = True, eps: float = 1e-6
                  ) -> torch.Tensor:
    """``mean_b sum_l -log(1 - p_bl) * mask_bl`` with ``p = sigmoid(s)``
    (scores are logits) or ``p = s`` (scores are probabilities)."""
    if scores.numel() == 0:
        return graph_zero(scores)
    if use_sigmoid:
        nll = F.softplus(scores)  # = -log(1 - sigmoid(s)), stable
    else:
        nll = -torch.log((1 - scores).clamp(min=eps))
    return (nll * mask.to(scores)).sum(1).mean()


@MODELS.register_module()
class SaliencyMarginLoss(nn.Module):
    """Hinge loss between positive and negative clips of each video.

    Args:
        margin: the margin (CG-DETR ``saliency_margin``: 0.2).
        loss_weight: multiplier.
    """

    def __init__(self, margin: float = 0.2, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.margin = margin
        self.loss_weight = loss_weight

    def forward(self, scores: torch.Tensor, pos_inds: torch.Tensor,
                neg_inds: torch.Tensor) -> torch.Tensor:
        """``(B, L)`` scores, ``(B, P)`` positive and negative clip indices."""
        return self.loss_weight * saliency_margin(scores, pos_inds, neg_inds,
                                                  self.margin)


@MODELS.register_module()
class RankContrastiveLoss(nn.Module):
    """See :func:`rank_contrastive`.

    Args:
        tau: softmax temperature (CG-DETR: 0.5).
        max_level: levels ``1 .. max_level - 1`` are used and the sum is
            divided by ``max_level`` (CG-DETR: 12, QVHighlights clip scores
            summed over 3 annotators are 0-12).
        loss_weight: multiplier.
    """

    def __init__(self, tau: float = 0.5, max_level: int = 12,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.tau = tau
        self.max_level = max_level
        self.loss_weight = loss_weight

    def forward(self, scores: torch.Tensor, labels: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * rank_contrastive(scores, labels, mask,
                                                   self.tau, self.max_level)


@MODELS.register_module()
class NegativePairLoss(nn.Module):
    """See :func:`negative_pair`.

    Args:
        use_sigmoid: the scores are logits (True) or probabilities.
        loss_weight: multiplier.
    """

    def __init__(self, use_sigmoid: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.use_sigmoid = use_sigmoid
        self.loss_weight = loss_weight

    def forward(self, scores: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * negative_pair(scores, mask,
                                                self.use_sigmoid)


@MODELS.register_module()
class CGDETRSaliencyLoss(nn.Module):
    """CG-DETR's ``loss_saliency``.

    On the saliency head's scores ``s``::

        margin(s) + rank_contrastive(s) [+ negative_pair(s_neg)]

    and, when the text-to-video attention mass per clip ``a`` is given,
    ``attn_weight`` times::

        margin(a) + rank_contrastive(a) + BCE(a, labels > 0)
            [+ negative_pair(a_neg)]

    With negative pairs (each video with the next sample's query, for the
    samples whose next sample shows another video), the rank-contrastive
    softmax of those samples spans their clips and the negative-pair clips
    (labelled 0); the other samples use their own clips only. As in the
    official code, that own-clips term is added for the head's scores but
    not for the attention (the official code adds it to a variable that is
    never used again).

    Args:
        margin: hinge margin (0.2).
        tau: rank-contrastive temperature (0.5).
        max_level: rank-contrastive levels (12).
        attn_weight: weight of the attention terms (``lw_wattn``: 1).
        loss_weight: multiplier (TPO's CG-DETR ``lw_saliency``: 4).
    """

    def __init__(self,
                 margin: float = 0.2,
                 tau: float = 0.5,
                 max_level: int = 12,
                 attn_weight: float = 1.0,
                 loss_weight: float = 4.0) -> None:
        super().__init__()
        self.margin = margin
        self.tau = tau
        self.max_level = max_level
        self.attn_weight = attn_weight
        self.loss_weight = loss_weight

    def _rank(self, scores, labels, mask):
        return rank_contrastive(scores, labels, mask, self.tau,
                                self.max_level)

    def _terms(self, scores: torch.Tensor, labels: torch.Tensor,
               mask: torch.Tensor, pos_inds: torch.Tensor,
               neg_inds: torch.Tensor, pair_mask: Optional[torch.Tensor],
               neg_scores: Optional[torch.Tensor],
               real_neg: Optional[torch.Tensor], use_sigmoid: bool,
               false_neg_term: bool) -> torch.Tensor:
        paired = scores if pair_mask is None else scores[pair_mask.bool()]
        loss = saliency_margin(paired, pos_inds, neg_inds, self.margin)
        if neg_scores is None:
            return loss + self._rank(scores, labels, mask)
        real = real_neg.bool()
        loss = loss + self._rank(
            torch.cat([scores[real], neg_scores], 1),
            torch.cat([labels[real], torch.zeros_like(labels[real])], 1),
            mask[real].repeat(1, 2))
        if false_neg_term and (~real).any():
            loss = loss + self._rank(scores[~real], labels[~real],
                                     mask[~real])
        return loss + negative_pair(neg_scores, mask[real], use_sigmoid)

    def forward(self,
                scores: torch.Tensor,
                labels: torch.Tensor,
                mask: torch.Tensor,
                pos_inds: torch.Tensor,
                neg_inds: torch.Tensor,
                pair_mask: Optional[torch.Tensor] = None,
                attn_scores: Optional[torch.Tensor] = None,
                neg_scores: Optional[torch.Tensor] = None,
                neg_attn_scores: Optional[torch.Tensor] = None,
                real_neg: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The weighted saliency loss.

        Args:
            scores: ``(B, L)`` saliency logits of the head.
            labels: ``(B, L)`` saliency levels, 0 at irrelevant and padded
                clips.
            mask: ``(B, L)`` 1 at valid clips.
            pos_inds, neg_inds: ``(B', P)`` clip indices of the hinge pairs
                of the ``B'`` rows selected by ``pair_mask``.
            pair_mask: ``(B,)`` bool, the rows that have hinge pairs (a
                sample without GT has none); None: all rows.
            attn_scores: ``(B, L)`` text-to-video attention mass per clip
                (probabilities), or None to skip the attention terms.
            neg_scores, neg_attn_scores: ``(N, L)`` the same for the videos
                of the ``N`` negative pairs, or None without negatives.
            real_neg: ``(B,)`` bool, the ``N`` rows that have a negative
                pair.
        """
        mask = mask.to(scores)
        loss = self._terms(scores, labels, mask, pos_inds, neg_inds,
                           pair_mask, neg_scores, real_neg, True, True)
        if attn_scores is not None:
            attn_loss = self._terms(attn_scores, labels, mask, pos_inds,
                                    neg_inds, pair_mask, neg_attn_scores,
                                    real_neg, False, False)
            attn_loss = attn_loss + F.binary_cross_entropy(
                attn_scores.reshape(-1).clamp(0, 1),
                labels.clamp(0, 1).reshape(-1).to(attn_scores))
            loss = loss + self.attn_weight * attn_loss
        return self.loss_weight * loss
