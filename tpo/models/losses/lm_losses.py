"""The LM loss of TPO's Eq. 1, split into task assignment and the rest."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

from ..llms.prompt_template import IGNORE_INDEX


def task_assignment_lm_losses(logits: torch.Tensor, labels: torch.Tensor,
                              begin_ids: Sequence[int]
                              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Next-token cross-entropy of ``(B, L, V)`` logits against ``(B, L)``
    labels (``IGNORE_INDEX``: not learned), as two means: over the answer
    tokens that are not task-begin tokens (``L_mllm``), and over the
    task-begin tokens (``L_assign``: task assignment). A part without tokens
    is a zero that keeps the graph."""
    logits, labels = logits[:, :-1].float(), labels[:, 1:]
    ce = F.cross_entropy(
        logits.transpose(1, 2), labels, ignore_index=IGNORE_INDEX,
        reduction='none')
    assign = torch.isin(labels, labels.new_tensor(list(begin_ids)))
    other = (labels != IGNORE_INDEX) & ~assign
    zero = logits.sum() * 0
    return tuple(ce[mask].mean() if mask.any() else zero
                 for mask in (other, assign))
