"""Learnable task tokens v_i whose LLM hidden states feed the task heads."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from tpo.registry import MODELS


@MODELS.register_module()
class TaskTokens(BaseModule):
    """One learnable input embedding per task (``tokens.<task>``).

    Each task token is a separate parameter, so a config gives each its own
    learning rate with ``paramwise_cfg.custom_keys`` (Table 16).

    Args:
        tasks: the task names.
        embed_dims: the LLM's embedding width.
    """

    def __init__(self, tasks: Sequence[str], embed_dims: int,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.tokens = nn.ParameterDict({
            task: nn.Parameter(torch.zeros(embed_dims))
            for task in tasks
        })

    @torch.no_grad()
    def init_from_embeddings(self, embeddings: torch.Tensor) -> None:
        """Start every task token at the mean word embedding plus a little
        noise (a sensible scale for the LLM's first layer)."""
        mean, std = embeddings.float().mean(0), embeddings.float().std()
        for token in self.tokens.values():
            token.copy_(mean + 0.1 * std * torch.randn_like(mean))

    def __getitem__(self, task: str) -> torch.Tensor:
        return self.tokens[task]
