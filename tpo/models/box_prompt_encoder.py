"""Box prompts: a user-given box enters the LLM as one input embedding."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from tpo.registry import MODELS, TASK_UTILS


@MODELS.register_module()
class BoxPromptEncoder(BaseModule):
    """Linear-ReLU-Linear from a normalised box to the LLM width.

    The official TPO code calls it ``loc_encoder``: the embedding replaces the
    ``<track_box>`` placeholder of a tracking prompt ("track the object in
    this box"), so the LLM sees where the object starts.

    Args:
        out_dims: the LLM's embedding width.
        hidden_dims: hidden width (official: half of ``out_dims``).
        box_coder: normalises pixel xyxy boxes (``NormalizedBoxCoder``).
    """

    def __init__(self,
                 out_dims: int,
                 hidden_dims: Optional[int] = None,
                 box_coder: dict = dict(type='NormalizedBoxCoder'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        hidden_dims = hidden_dims or out_dims // 2
        self.mlp = nn.Sequential(
            nn.Linear(4, hidden_dims), nn.ReLU(inplace=True),
            nn.Linear(hidden_dims, out_dims))
        self.box_coder = TASK_UTILS.build(box_coder)

    def forward(self, boxes: torch.Tensor,
                shape: Sequence[int]) -> torch.Tensor:
        """``(K, 4)`` pixel xyxy boxes of an ``(H, W)`` frame -> ``(K, D)``."""
        codes = self.box_coder.encode(boxes.float(), shape)
        return self.mlp(codes.to(self.mlp[0].weight.dtype))
