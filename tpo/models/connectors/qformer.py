"""Q-Former connector: learnable queries cross-attend to visual tokens."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn
from transformers import InstructBlipQFormerConfig, InstructBlipQFormerModel

from tpo.registry import MODELS


@MODELS.register_module()
class QFormerConnector(BaseModule):
    """BERT-style Q-Former (transformers' InstructBLIP implementation).

    Visual tokens are layer-normed, ``num_queries`` learnable queries attend
    to them (and, optionally, to instruction text tokens), and the query
    outputs are projected to the LLM width.

    Args:
        vision_dims: width of the encoder's tokens.
        llm_dims: width of the LLM's input embeddings.
        num_queries: number of learnable queries (VideoChat2: 32 + 64).
        qformer: keyword arguments of ``InstructBlipQFormerConfig``
            (hidden_size, num_hidden_layers, cross_attention_frequency, ...).
    """

    def __init__(self,
                 vision_dims: int,
                 llm_dims: int,
                 num_queries: int = 32,
                 qformer: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        config = InstructBlipQFormerConfig(
            encoder_hidden_size=vision_dims, **(qformer or {}))
        self.vision_norm = nn.LayerNorm(vision_dims)
        self.qformer = InstructBlipQFormerModel(config)
        self.query_tokens = nn.Parameter(
            torch.zeros(1, num_queries, config.hidden_size))
        nn.init.normal_(self.query_tokens, std=config.initializer_range)
        self.proj = nn.Linear(config.hidden_size, llm_dims)
        self.num_queries = num_queries

    def forward(self,
                visual_tokens: torch.Tensor,
                instruction_ids: Optional[torch.Tensor] = None,
                instruction_mask: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """(B, N, vision_dims) -> (B, num_queries, llm_dims)."""
        visual_tokens = self.vision_norm(visual_tokens)
        queries = self.query_tokens.expand(visual_tokens.shape[0], -1, -1)
        attention_mask = None
        if instruction_ids is not None:
            query_mask = queries.new_ones(queries.shape[:2], dtype=torch.long)
            attention_mask = torch.cat([query_mask, instruction_mask], dim=1)
        out = self.qformer(
            input_ids=instruction_ids,
            attention_mask=attention_mask,
            query_embeds=queries,
            encoder_hidden_states=visual_tokens)
        return self.proj(out.last_hidden_state[:, :self.num_queries])
