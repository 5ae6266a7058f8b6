"""The LM loss of Eq. 1, split into task assignment and the rest."""
import torch
from torch.nn.functional import cross_entropy

from tpo.models.llms.prompt_template import IGNORE_INDEX
from tpo.models.losses import task_assignment_lm_losses

BEGIN = 9


def test_assign_loss_is_the_ce_of_task_begin_tokens():
    labels = torch.full((1, 5), IGNORE_INDEX)
    labels[0, 2], labels[0, 3] = 7, BEGIN
    logits = torch.randn(1, 5, 12)
    mllm, assign = task_assignment_lm_losses(logits, labels, [BEGIN])
    # logits at t predict labels at t + 1
    assert torch.allclose(mllm, cross_entropy(logits[0, 1:2], labels[0, 2:3]))
    assert torch.allclose(assign,
                          cross_entropy(logits[0, 2:3], labels[0, 3:4]))


def test_a_part_without_tokens_is_a_graph_connected_zero():
    logits = torch.randn(2, 4, 12, requires_grad=True)
    labels = torch.full((2, 4), IGNORE_INDEX)
    labels[1, 2] = 5  # one answer token, no task-begin token
    mllm, assign = task_assignment_lm_losses(logits, labels, [BEGIN])
    assert assign.item() == 0 and mllm.item() > 0
    (mllm + assign).backward()
    assert logits.grad is not None
