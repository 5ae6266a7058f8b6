"""Q-Former connector: learnable queries cross-attend to visual tokens."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn
from transformers import InstructBlipQFormerConfig, InstructBlipQFormerModel

from tpo.registry import MODELS
from ..utils.pretrained import load_pretrained


@MODELS.register_module()
class QFormerConnector(BaseModule):
    """BERT-style Q-Former (transformers' InstructBLIP implementation).

    Visual tokens are (optionally) layer-normed, learnable queries attend to
    them (and, optionally, to instruction text tokens), and the query outputs
    are projected to the LLM width.

    VideoChat2 / VideoChat-TPO geometry: ``qformer=dict(vocab_size=30523)``
    on top of the BERT-base defaults of ``InstructBlipQFormerConfig`` (12
    layers, width 768, cross-attention in every 2nd layer starting at layer
    0, LayerNorm eps 1e-12), ``num_queries=32, num_extra_queries=64`` and
    ``vision_norm=False`` (the encoder's final norm is VideoChat2's
    ``vision_layernorm``, so norming again here would norm twice). The
    instruction is fed as BERT token ids after the queries, exactly as
    LAVIS's ``qformer.bert(input_ids, query_embeds=...)``.

    The queries are two parameters, ``query_tokens`` (the 32 queries of the
    BLIP-2 / stage-2 Q-Former) and ``extra_query_tokens`` (the 64 added in
    VideoChat2's stage 3), concatenated in that order: checkpoint keys then
    map one-to-one, and a stage-2 checkpoint (no extra queries yet) loads
    with only ``extra_query_tokens`` missing instead of a half-filled
    tensor.

    Args:
        vision_dims: width of the encoder's tokens.
        llm_dims: width of the LLM's input embeddings.
        num_queries: number of learnable queries in ``query_tokens``.
        num_extra_queries: number of learnable queries in
            ``extra_query_tokens`` (0: no such parameter).
        qformer: keyword arguments of ``InstructBlipQFormerConfig``
            (hidden_size, num_hidden_layers, cross_attention_frequency, ...).
        vision_norm: apply this connector's own LayerNorm (``vision_norm``)
            to the visual tokens; False when the encoder already normalises
            them.
        pretrained: a local checkpoint in TPOModel keys, loaded when the
            module is built (:func:`~tpo.models.utils.load_pretrained`): a
            VideoChat2 / VideoChat-TPO release converted by
            ``tools/model_converters``, or a TPO checkpoint.
        pretrained_prefix: the connector's keys in ``pretrained``.

    Attributes:
        num_queries: the number of output tokens (``query_tokens`` plus
            ``extra_query_tokens``).
    """

    def __init__(self,
                 vision_dims: int,
                 llm_dims: int,
                 num_queries: int = 32,
                 num_extra_queries: int = 0,
                 qformer: Optional[dict] = None,
                 vision_norm: bool = True,
                 pretrained: Optional[str] = None,
                 pretrained_prefix: str = 'connector.',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained
        config = InstructBlipQFormerConfig(
            encoder_hidden_size=vision_dims, **(qformer or {}))
        self.vision_norm = nn.LayerNorm(vision_dims) if vision_norm \
            else nn.Identity()
        self.qformer = InstructBlipQFormerModel(config)
        self.query_tokens = nn.Parameter(
            torch.zeros(1, num_queries, config.hidden_size))
        nn.init.normal_(self.query_tokens, std=config.initializer_range)
        if num_extra_queries > 0:
            self.extra_query_tokens = nn.Parameter(
                torch.zeros(1, num_extra_queries, config.hidden_size))
            nn.init.normal_(
                self.extra_query_tokens, std=config.initializer_range)
        else:
            self.extra_query_tokens = None
        self.proj = nn.Linear(config.hidden_size, llm_dims)
        self.num_queries = num_queries + max(num_extra_queries, 0)
        if pretrained is not None:
            # Loaded at build time, like a Hugging Face model: test and
            # inference runs never call init_weights.
            load_pretrained(self, pretrained, pretrained_prefix,
                            'QFormerConnector')

    def queries(self) -> torch.Tensor:
        """All learnable queries, ``(1, num_queries, hidden)``."""
        if self.extra_query_tokens is None:
            return self.query_tokens
        return torch.cat([self.query_tokens, self.extra_query_tokens], dim=1)

    def forward(self,
                visual_tokens: torch.Tensor,
                instruction_ids: Optional[torch.Tensor] = None,
                instruction_mask: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """(B, N, vision_dims) -> (B, num_queries, llm_dims)."""
        visual_tokens = self.vision_norm(visual_tokens)
        queries = self.queries().expand(visual_tokens.shape[0], -1, -1)
        attention_mask = None
        if instruction_ids is not None:
            if instruction_mask is None:
                instruction_mask = torch.ones_like(instruction_ids)
            query_mask = queries.new_ones(queries.shape[:2], dtype=torch.long)
            attention_mask = torch.cat(
                [query_mask, instruction_mask.to(query_mask)], dim=1)
        out = self.qformer(
            input_ids=instruction_ids,
            attention_mask=attention_mask,
            query_embeds=queries,
            encoder_hidden_states=visual_tokens)
        return self.proj(out.last_hidden_state[:, :self.num_queries])
