"""Query-dependency losses of CG-DETR:

* :class:`MomentSentenceAlignLoss` (``loss_ms_align``),
* :class:`MomentTextDistillLoss` (``loss_distill``),
* :class:`OrthogonalDummyLoss` (``loss_orthogonal_dummy``).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from tpo.registry import MODELS
from .utils import graph_zero


@MODELS.register_module()
class MomentSentenceAlignLoss(nn.Module):
    """CG-DETR's moment-sentence alignment (``loss_ms_align``).

    The moment token (encoded with the GT clips) of video ``i`` should match
    the sentence token of query ``i`` rather than the other queries or any
    non-moment token; against the dummy sentence tokens (encoded from the
    dummies only) the official label choice is kept: the first column that
    is not ``i``. Plus a BCE that tells GT clips from the others by their
    dot product with the moment token.

    Args:
        loss_weight: multiplier (``lw_ms_align``: 1).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                moment: torch.Tensor,
                non_moment: torch.Tensor,
                sentence: torch.Tensor,
                dummy_sentence: torch.Tensor,
                moment_frames: Optional[torch.Tensor] = None,
                moment_mask: Optional[torch.Tensor] = None,
                video_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args:
            moment, non_moment, sentence, dummy_sentence: ``(B, D)`` tokens.
            moment_frames: ``(B, L, D)`` clip features after the moment
                encoder (GT clips) / non-moment encoder (other clips).
            moment_mask: ``(B, L)`` 1 at GT clips.
            video_mask: ``(B, L)`` 1 at valid clips.
        """
        m, nm = F.normalize(moment, dim=1), F.normalize(non_moment, dim=1)
        s = F.normalize(sentence, dim=1)
        d = F.normalize(dummy_sentence, dim=1)
        num = len(m)
        eye = torch.eye(num, device=m.device, dtype=torch.bool)
        sim = torch.cat([m @ s.T, nm @ s.T], 1)
        loss = F.cross_entropy(sim, torch.arange(num, device=m.device))
        dummy_sim = torch.cat([m @ d.T, nm @ d.T], 1)
        dummy_labels = torch.cat([~eye, torch.ones_like(eye)],
                                 1).float().argmax(1)
        loss = loss + F.cross_entropy(dummy_sim, dummy_labels)
        if moment_frames is not None:
            logits = (moment[:, None] @ moment_frames.transpose(1, 2))
            bce = F.binary_cross_entropy(
                logits.sigmoid().reshape(-1),
                moment_mask.reshape(-1).to(logits),
                reduction='none')
            loss = loss + (bce * video_mask.reshape(-1).to(bce)).mean()
        return self.loss_weight * loss


@MODELS.register_module()
class MomentTextDistillLoss(nn.Module):
    """CG-DETR's ``loss_distill``: at GT clips, the text-to-video attention
    over ``[dummies, words]`` is pulled (KL divergence, mean over keys)
    towards the softmax of the clip-word similarity after the moment
    encoder (detached).

    Args:
        eps: added to the attention before the log.
        loss_weight: multiplier (``lw_distill``: 1).
    """

    def __init__(self, eps: float = 1e-6, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.eps = eps
        self.loss_weight = loss_weight

    def forward(self, attn: torch.Tensor, similarity: torch.Tensor,
                moment_mask: torch.Tensor) -> torch.Tensor:
        """``(B, L, S)`` attention and similarity, ``(B, L)`` GT-clip mask;
        zero when no clip is a GT clip."""
        weight = moment_mask.to(attn)
        if weight.sum() == 0:
            return graph_zero(attn, similarity)
        target = similarity.softmax(-1).detach()
        kl = F.kl_div(torch.log(attn + self.eps), target,
                      reduction='none').mean(-1)
        return self.loss_weight * (kl * weight).sum() / weight.sum()


@MODELS.register_module()
class OrthogonalDummyLoss(nn.Module):
    """CG-DETR's ``loss_orthogonal_dummy``: mean absolute cosine similarity
    between different dummy tokens of a sample (skipped with one dummy),
    plus the same between the global prompt tokens (the second factor of
    each similarity is detached, as in the official code).

    Args:
        loss_weight: multiplier (official: ``lw_distill``, 1).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def _off_diagonal_abs_mean(tokens: torch.Tensor) -> torch.Tensor:
        normed = F.normalize(tokens, dim=-1)
        sim = normed @ normed.detach().transpose(-1, -2)
        eye = torch.eye(sim.shape[-1], device=sim.device, dtype=sim.dtype)
        return (sim * (1 - eye)).abs().mean()

    def forward(self, dummy_tokens: torch.Tensor,
                global_tokens: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """``(B, num_dummies, D)`` dummies, ``(P, D)`` global tokens."""
        loss = graph_zero(dummy_tokens)
        if dummy_tokens.shape[1] != 1:
            loss = loss + self._off_diagonal_abs_mean(dummy_tokens)
        if global_tokens is not None:
            loss = loss + self._off_diagonal_abs_mean(global_tokens)
        return self.loss_weight * loss
