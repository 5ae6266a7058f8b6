"""The CG-DETR network (Moon et al., "Correlation-guided query-dependency
calibration for video temporal grounding"), as TPO's temporal head uses it.

A re-implementation of the official model with the official module names,
so that a released ``cg_model.*`` state dict loads by prefix (see
:class:`CGDETR`). Sequences inside the transformer are ``(L, B, D)``, as in
the official code.

Pipeline (one query with ``k`` task embeddings appended to its words):

1. input projections of clips (features + TEF) and words, token-type
   embeddings, sine positions of the clips;
2. the dummy encoder turns learnable dummy tokens into query-conditioned
   dummies that are prepended to the words;
3. the text-to-video (T2V) encoder: each clip attends to ``[dummies,
   words]`` with projection-free attention whose output sums over the
   words only ("adaptive cross-attention": the dummies absorb the attention
   of clips unrelated to the query);
4. a saliency token (the mean clip plus the best-matching of
   ``total_prompts`` learnable prompt tokens, weighted by the clips' T2V
   attention) is prepended to the clips and the encoder runs over them;
5. a DAB-style decoder refines ``num_queries`` anchor spans
   ``(center, width)`` layer by layer; every layer's output is decoded
   (auxiliary outputs);
6. saliency per clip from the encoder memory and the saliency token.

In training, a moment encoder also encodes the GT clips (and the other
clips) with a moment token, and a sentence encoder encodes the words (and
the dummies) with a sentence token, for the alignment and distillation
losses.
"""
import copy
import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from tpo.registry import MODELS
from ..layers import (MLP, InputProjectionLayer, LearnedPositionalEncoding,
                      ProjectionFreeAttention, TransformerEncoder,
                      TransformerEncoderLayer, add_post_norm_ffn,
                      normalized_sine_positions, span_sine_embedding)


def inverse_sigmoid(x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    x = x.clamp(0, 1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


class T2VEncoderLayer(nn.Module):
    """Clips (the first ``video_length`` tokens) attend to the text tokens
    that follow them (``[dummies, words]``); text tokens pass unchanged."""

    def __init__(self, dims: int, num_heads: int, ffn_dims: int,
                 dropout: float = 0.1, activation: str = 'prelu',
                 num_dummies: int = 45) -> None:
        super().__init__()
        self.num_dummies = num_dummies
        self.self_attn = ProjectionFreeAttention(dims, num_heads, dropout)
        add_post_norm_ffn(self, dims, ffn_dims, dropout, activation)

    def forward(self, src: torch.Tensor, key_padding_mask: torch.Tensor,
                pos: torch.Tensor, video_length: int,
                dummy: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
        pos_src = src + pos
        out, weights = self.self_attn(
            pos_src[:video_length], pos_src[video_length:],
            src[video_length:], key_padding_mask[:, video_length:],
            skip_keys=self.num_dummies if dummy else 0)
        # As the official layer, the FFN reads the normed sum but its
        # residual is the sum before norm1.
        clips = src[:video_length] + self.dropout1(out)
        out = self.linear2(
            self.dropout(self.activation(self.linear1(self.norm1(clips)))))
        clips = self.norm2(clips + self.dropout2(out))
        return torch.cat([clips, src[video_length:]]), weights


class T2VEncoder(nn.Module):
    """Stacked T2V layers; returns the attention averaged over layers."""

    def __init__(self, layer: nn.Module, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            copy.deepcopy(layer) for _ in range(num_layers))

    def forward(self, src, key_padding_mask, pos, video_length, dummy=True):
        total = None
        for layer in self.layers:
            src, weights = layer(src, key_padding_mask, pos, video_length,
                                 dummy)
            total = weights if total is None else total + weights
        return src, total / len(self.layers)


class TransformerDecoderLayer(nn.Module):
    """Conditional-DETR / DAB-DETR decoder layer in 1-D: content and
    positional parts of queries and keys are projected separately; in the
    cross-attention each head sees ``[content, sine(anchor)]`` queries and
    ``[content, position]`` keys."""

    def __init__(self, dims: int, num_heads: int, ffn_dims: int,
                 dropout: float = 0.1, activation: str = 'prelu',
                 with_query_pos_proj: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.sa_qcontent_proj = nn.Linear(dims, dims)
        self.sa_qpos_proj = nn.Linear(dims, dims)
        self.sa_kcontent_proj = nn.Linear(dims, dims)
        self.sa_kpos_proj = nn.Linear(dims, dims)
        self.sa_v_proj = nn.Linear(dims, dims)
        self.self_attn = ProjectionFreeAttention(dims, num_heads, dropout,
                                                 dims)

        self.ca_qcontent_proj = nn.Linear(dims, dims)
        # official: only the first layer (keep_query_pos=False) has it
        self.ca_qpos_proj = nn.Linear(dims, dims) \
            if with_query_pos_proj else None
        self.ca_kcontent_proj = nn.Linear(dims, dims)
        self.ca_kpos_proj = nn.Linear(dims, dims)
        self.ca_v_proj = nn.Linear(dims, dims)
        self.ca_qpos_sine_proj = nn.Linear(dims, dims)
        self.cross_attn = ProjectionFreeAttention(dims * 2, num_heads,
                                                  dropout, dims)

        # norm1 / dropout1 after self-attention, 2 after cross-attention,
        # 3 after the feed-forward block
        add_post_norm_ffn(self, dims, ffn_dims, dropout, activation,
                          residuals=3)

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor,
                memory_key_padding_mask: torch.Tensor, pos: torch.Tensor,
                query_pos: torch.Tensor,
                query_sine_embed: torch.Tensor) -> torch.Tensor:
        # self-attention among the queries
        q = self.sa_qcontent_proj(tgt) + self.sa_qpos_proj(query_pos)
        k = self.sa_kcontent_proj(tgt) + self.sa_kpos_proj(query_pos)
        out = self.self_attn(q, k, self.sa_v_proj(tgt))[0]
        tgt = self.norm1(tgt + self.dropout1(out))

        # cross-attention to the clips
        nq, bsz, dims = tgt.shape
        lk = memory.shape[0]
        h = self.num_heads
        q = self.ca_qcontent_proj(tgt)
        k = self.ca_kcontent_proj(memory)
        k_pos = self.ca_kpos_proj(pos)
        if self.ca_qpos_proj is not None:
            q = q + self.ca_qpos_proj(query_pos)
            k = k + k_pos
        sine = self.ca_qpos_sine_proj(query_sine_embed)
        q = torch.cat([q.view(nq, bsz, h, -1), sine.view(nq, bsz, h, -1)],
                      3).view(nq, bsz, dims * 2)
        k = torch.cat([k.view(lk, bsz, h, -1), k_pos.view(lk, bsz, h, -1)],
                      3).view(lk, bsz, dims * 2)
        out = self.cross_attn(q, k, self.ca_v_proj(memory),
                              memory_key_padding_mask)[0]
        tgt = self.norm2(tgt + self.dropout2(out))
        out = self.linear2(self.dropout(self.activation(self.linear1(tgt))))
        return self.norm3(tgt + self.dropout3(out))


class TransformerDecoder(nn.Module):
    """DAB-style decoder: anchors ``(center, width)`` are refined by
    ``bbox_embed`` after every layer; the width modulates the positional
    query (``ref_anchor_head``)."""

    def __init__(self, layer_cfg: dict, num_layers: int, dims: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            TransformerDecoderLayer(**layer_cfg, with_query_pos_proj=i == 0)
            for i in range(num_layers))
        self.norm = nn.LayerNorm(dims)
        self.dims = dims
        self.query_scale = MLP(dims, dims, dims, 2)
        self.ref_point_head = MLP(dims, dims, dims, 2)
        self.bbox_embed = MLP(dims, dims, 2, 3)
        nn.init.constant_(self.bbox_embed.layers[-1].weight, 0)
        nn.init.constant_(self.bbox_embed.layers[-1].bias, 0)
        self.ref_anchor_head = MLP(dims, dims, 1, 2)

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor,
                memory_key_padding_mask: torch.Tensor, pos: torch.Tensor,
                refpoints_unsigmoid: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(num_layers, B, nq, D)`` normed outputs and the
        ``(num_layers, B, nq, 2)`` anchors each layer started from."""
        output = tgt
        reference = refpoints_unsigmoid.sigmoid()
        references, intermediate = [reference], []
        for i, layer in enumerate(self.layers):
            sine = span_sine_embedding(reference, self.dims)
            query_pos = self.ref_point_head(sine)
            if i > 0:
                sine = sine * self.query_scale(output)
            width_cond = self.ref_anchor_head(output).sigmoid()
            sine = sine * (width_cond[..., 0] / reference[..., 1])[..., None]
            output = layer(output, memory, memory_key_padding_mask, pos,
                           query_pos, sine)
            new_reference = (self.bbox_embed(output) +
                             inverse_sigmoid(reference)).sigmoid()
            if i != len(self.layers) - 1:
                references.append(new_reference)
            reference = new_reference.detach()
            intermediate.append(self.norm(output))
        return (torch.stack(intermediate).transpose(1, 2),
                torch.stack(references).transpose(1, 2))


class CGDETRTransformer(nn.Module):
    """Moment encoder, T2V encoder, clip encoder and decoder of CG-DETR."""

    def __init__(self,
                 dims: int = 256,
                 num_heads: int = 8,
                 ffn_dims: int = 1024,
                 dropout: float = 0.1,
                 activation: str = 'prelu',
                 enc_layers: int = 3,
                 dec_layers: int = 3,
                 t2v_layers: int = 2,
                 moment_layers: int = 1,
                 num_dummies: int = 45,
                 num_prompts: int = 1) -> None:
        super().__init__()
        layer = dict(dims=dims, num_heads=num_heads, ffn_dims=ffn_dims,
                     dropout=dropout, activation=activation)
        self.mcls_encoder = TransformerEncoder(
            TransformerEncoderLayer(**layer), moment_layers)
        self.t2v_encoder = T2VEncoder(
            T2VEncoderLayer(**layer, num_dummies=num_dummies), t2v_layers)
        self.encoder = TransformerEncoder(TransformerEncoderLayer(**layer),
                                          enc_layers)
        self.decoder = TransformerDecoder(layer, dec_layers, dims)
        self.dims = dims
        self.num_dummies = num_dummies
        self.num_prompts = num_prompts
        # official: xavier on every matrix of the transformer (this also
        # overrides the zero init of the last bbox_embed weight)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def encode_moment(self, src: torch.Tensor, pos: torch.Tensor,
                      mask: torch.Tensor
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(B, 1 + L, D)`` moment token + clips, ``mask`` 1 = attend.
        Returns the ``(B, D)`` token and the ``(L, B, D)`` clips."""
        memory = self.mcls_encoder(src.transpose(0, 1), ~mask.bool(),
                                   pos.transpose(0, 1))
        return memory[0], memory[1:]

    def forward(self,
                src: torch.Tensor,
                padding_mask: torch.Tensor,
                query_embed: torch.Tensor,
                pos: torch.Tensor,
                video_length: int,
                ctx_token: torch.Tensor,
                global_tokens: torch.Tensor,
                global_pos: torch.Tensor,
                video_lengths: torch.Tensor,
                decode: bool = True) -> Dict[str, torch.Tensor]:
        """Args:
            src: ``(B, Lv + Lt, D)`` clips then ``[dummies, words]``.
            padding_mask: ``(B, Lv + Lt)`` True at padding.
            query_embed: ``(nq, 2)`` unsigmoided anchors.
            pos: ``(B, Lv + Lt, D)`` positions.
            video_length: ``Lv``.
            ctx_token: ``(B, 1, D)`` mean clip of each video.
            global_tokens: ``(P, D)`` prompt tokens; ``global_pos``
                ``(1, D)``.
            video_lengths: ``(B,)`` valid clips per video.
            decode: run the decoder (not needed for negative pairs).
        """
        bsz = src.shape[0]
        src = src.transpose(0, 1)
        pos = pos.transpose(0, 1)
        t2v_src, attn = self.t2v_encoder(src, padding_mask, pos,
                                         video_length)

        # saliency token: context (mean clip) + the prompt token closest to
        # the clips, weighted by how much each clip attends to the words
        ctx = ctx_token.transpose(0, 1)  # (1, B, D)
        clip_sim = torch.softmax(
            F.normalize((src[:video_length] - ctx).transpose(0, 1), dim=2) @
            F.normalize(global_tokens, dim=1).T, -1)  # (B, Lv, P)
        importance = attn[:, :, self.num_dummies:].sum(2).detach()
        valid = torch.arange(video_length, device=src.device)[None] < \
            video_lengths[:, None]
        importance = importance * valid
        importance = importance / importance.sum(1, keepdim=True) * \
            importance.shape[1]
        clip_sim = (clip_sim * importance[..., None]).mean(1)  # (B, P)
        top_val, top_idx = clip_sim.topk(self.num_prompts, dim=1)
        token = (top_val[..., None] * global_tokens[top_idx]).sum(1)
        token = token[None] + ctx  # (1, B, D)
        token_pos = global_pos.reshape(1, 1, -1).expand(1, bsz, -1)
        token_mask = padding_mask.new_zeros(bsz, 1)
        # As the official code: the single token is its own "clip" with no
        # keys left, so attention only adds the out_proj bias.
        token, _ = self.t2v_encoder(token, token_mask, token_pos,
                                    video_length, dummy=False)

        src = torch.cat([token, t2v_src])[:video_length + 1]
        mask = torch.cat([token_mask, padding_mask], 1)[:, :video_length + 1]
        pos = torch.cat([token_pos, pos])[:video_length + 1]
        memory = self.encoder(src, mask, pos)
        memory_global = memory[0]
        memory_local = memory[1:] + memory_global[None]
        out = dict(memory_local=memory_local.transpose(0, 1),
                   memory_global=memory_global, attn_weights=attn)
        if decode:
            tgt = src.new_zeros(query_embed.shape[0], bsz, self.dims)
            refs = query_embed[:, None].expand(-1, bsz, -1)
            out['hs'], out['references'] = self.decoder(
                tgt, memory_local, mask[:, 1:], pos[1:], refs)
        return out


@MODELS.register_module()
class CGDETR(nn.Module):
    """CG-DETR with TPO's task embeddings appended to the query words.

    Attribute names follow the official ``CGDETR`` (TPO's ``cg_model``), so
    a released state dict loads by prefix, except:

    * ``txt_proj_linear`` (defined but never used by the official forward)
      is not built;
    * ``txt_position_embed`` is built only with ``use_txt_pos=True`` (the
      only case in which the official forward uses it).

    Args:
        txt_dims: width of the word features (and of the task embeddings
            appended to them).
        vid_dims: width of the clip features, TEF included.
        dims: transformer width (``hidden_dim``).
        num_heads, ffn_dims, dropout: transformer settings.
        input_dropout: dropout of the input projections.
        enc_layers, dec_layers, t2v_layers, sent_layers, moment_layers,
        dummy_layers: depths of the clip encoder, decoder, T2V encoder,
            sentence encoder, moment encoder and dummy encoder.
        num_queries: moment queries (anchors).
        num_dummies: dummy tokens.
        total_prompts, num_prompts: prompt tokens of the saliency token and
            how many of them are mixed in.
        n_input_proj: layers of the input projections (1-3).
        use_txt_pos: learned positions on words.
        max_q_l: positions of ``txt_position_embed``.
        aux_loss: return the outputs of every decoder layer.
    """

    def __init__(self,
                 txt_dims: int,
                 vid_dims: int,
                 dims: int = 256,
                 num_heads: int = 8,
                 ffn_dims: int = 1024,
                 dropout: float = 0.1,
                 input_dropout: float = 0.5,
                 enc_layers: int = 3,
                 dec_layers: int = 3,
                 t2v_layers: int = 2,
                 sent_layers: int = 1,
                 moment_layers: int = 1,
                 dummy_layers: int = 2,
                 num_queries: int = 10,
                 num_dummies: int = 45,
                 total_prompts: int = 10,
                 num_prompts: int = 1,
                 n_input_proj: int = 2,
                 use_txt_pos: bool = False,
                 max_q_l: int = 100,
                 aux_loss: bool = True,
                 activation: str = 'prelu') -> None:
        super().__init__()
        if not 1 <= n_input_proj <= 3:
            raise ValueError('n_input_proj must be 1, 2 or 3')
        if num_prompts > total_prompts:
            raise ValueError('num_prompts must be <= total_prompts')
        self.dims = dims
        self.num_queries = num_queries
        self.num_dummies = num_dummies
        self.aux_loss = aux_loss
        self.transformer = CGDETRTransformer(
            dims, num_heads, ffn_dims, dropout, activation, enc_layers,
            dec_layers, t2v_layers, moment_layers, num_dummies, num_prompts)
        self.use_txt_pos = use_txt_pos
        if use_txt_pos:
            self.txt_position_embed = LearnedPositionalEncoding(
                max_q_l, dims, input_dropout)
        self.span_embed = MLP(dims, dims, 2, 3)
        self.class_embed = nn.Linear(dims, 2)  # 0: foreground, 1: background
        self.token_type_embeddings = nn.Embedding(2, dims)
        nn.init.normal_(self.token_type_embeddings.weight, std=0.02)
        self.query_embed = nn.Embedding(num_queries, 2)
        relu = [True] * 3
        relu[n_input_proj - 1] = False

        def projection(in_dims):
            return nn.Sequential(*[
                InputProjectionLayer(in_dims if i == 0 else dims, dims,
                            dropout=input_dropout, relu=relu[i])
                for i in range(n_input_proj)
            ])

        self.input_txt_proj = projection(txt_dims)
        self.input_vid_proj = projection(vid_dims)
        self.saliency_proj1 = nn.Linear(dims, dims)
        self.saliency_proj2 = nn.Linear(dims, dims)
        self.global_rep_token = nn.Parameter(torch.randn(total_prompts, dims))
        self.global_rep_pos = nn.Parameter(torch.randn(1, dims))
        self.moment_rep_token = nn.Parameter(torch.randn(dims))
        self.moment_rep_pos = nn.Parameter(torch.randn(dims))
        self.dummy_rep_token = nn.Parameter(torch.randn(num_dummies, dims))
        self.dummy_rep_pos = nn.Parameter(torch.randn(num_dummies, dims))
        self.sent_rep_token = nn.Parameter(torch.randn(dims))
        self.sent_rep_pos = nn.Parameter(torch.randn(dims))
        self.txtproj_encoder = TransformerEncoder(
            TransformerEncoderLayer(dims, num_heads, ffn_dims, dropout,
                                    activation), dummy_layers)
        self.scls_encoder = TransformerEncoder(
            TransformerEncoderLayer(dims, num_heads, ffn_dims, dropout,
                                    activation), sent_layers)

    @staticmethod
    def append_prompts(src_txt: torch.Tensor, txt_mask: torch.Tensor,
                       prompts: List[torch.Tensor]
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Put each sample's task embeddings right after its valid words
        (before the padding), as TPO's ``cg_model`` does."""
        rows, lengths = [], []
        for words, mask, prompt in zip(src_txt, txt_mask, prompts):
            row = torch.cat([words[mask.bool()], prompt.to(words)])
            rows.append(row)
            lengths.append(len(row))
        length = max(lengths)
        out = src_txt.new_zeros(len(rows), length, src_txt.shape[-1])
        mask = txt_mask.new_zeros(len(rows), length, dtype=torch.bool)
        for i, row in enumerate(rows):
            out[i, :len(row)] = row
            mask[i, :len(row)] = True
        return out, mask

    def _tokens(self, param: torch.Tensor, bsz: int) -> torch.Tensor:
        return param.reshape(1, -1, self.dims).expand(bsz, -1, -1)

    def forward(self,
                src_txt: torch.Tensor,
                src_txt_mask: torch.Tensor,
                src_vid: torch.Tensor,
                src_vid_mask: torch.Tensor,
                prompts: Optional[List[torch.Tensor]] = None,
                relevant_clips: Optional[torch.Tensor] = None,
                vids: Optional[List[str]] = None) -> Dict[str, object]:
        """Args:
            src_txt: ``(B, Lt, txt_dims)`` word features, ``src_txt_mask``
                ``(B, Lt)`` 1 at valid words.
            src_vid: ``(B, Lv, vid_dims)`` clip features (TEF included),
                ``src_vid_mask`` ``(B, Lv)`` 1 at valid clips.
            prompts: per sample ``(k, txt_dims)`` task embeddings appended
                after the words.
            relevant_clips: ``(B, Lv)`` GT saliency (> 0 at GT clips): the
                training branch (moment and sentence tokens) runs when given.
            vids: video ids; with them (training), each video is also paired
                with the next sample's query when that shows another video
                (negative pairs for the saliency loss).

        Returns:
            dict with ``pred_logits`` ``(B, nq, 2)``, ``pred_spans``
            ``(B, nq, 2)`` (sigmoid ``(center, width)``), ``aux_outputs``,
            ``saliency_scores`` ``(B, Lv)``, ``t2vattnvalues`` ``(B, Lv)``
            and the tensors of the training losses.
        """
        if prompts is not None:
            src_txt, src_txt_mask = self.append_prompts(
                src_txt, src_txt_mask, prompts)
        txt_mask = src_txt_mask.bool()
        vid_mask = src_vid_mask.bool()
        bsz, video_length = src_vid.shape[:2]
        nd = self.num_dummies

        src_vid = self.input_vid_proj(src_vid)
        src_txt = self.input_txt_proj(src_txt)
        src_vid = src_vid + self.token_type_embeddings.weight[1]
        src_txt = src_txt + self.token_type_embeddings.weight[0]
        pos_vid = normalized_sine_positions(vid_mask, self.dims).to(src_vid)
        pos_txt = self.txt_position_embed(src_txt) if self.use_txt_pos \
            else torch.zeros_like(src_txt)

        # query-conditioned dummies
        dummy_mask = txt_mask.new_ones(bsz, nd)
        pos_dummy = self._tokens(self.dummy_rep_pos, bsz)
        memory = self.txtproj_encoder(
            torch.cat([self._tokens(self.dummy_rep_token, bsz), src_txt],
                      1).transpose(0, 1),
            ~torch.cat([dummy_mask, txt_mask], 1),
            torch.cat([pos_dummy, pos_txt], 1).transpose(0, 1))
        dummy_tokens = memory[:nd].transpose(0, 1)  # (B, nd, D)
        src_txt_dummy = torch.cat([dummy_tokens, src_txt], 1)
        txt_mask_dummy = torch.cat([dummy_mask, txt_mask], 1)
        pos_txt_dummy = torch.cat([pos_dummy, pos_txt], 1)

        src = torch.cat([src_vid, src_txt_dummy], 1)
        mask = torch.cat([vid_mask, txt_mask_dummy], 1)
        pos = torch.cat([pos_vid, pos_txt_dummy], 1)

        video_lengths = vid_mask.sum(1)
        ctx_token = torch.stack([
            src_vid[i, :int(n)].mean(0) for i, n in enumerate(video_lengths)
        ])[:, None].detach()
        transformer_args = dict(
            query_embed=self.query_embed.weight, video_length=video_length,
            global_tokens=self.global_rep_token,
            global_pos=self.global_rep_pos)
        enc = self.transformer(src, ~mask, pos=pos, ctx_token=ctx_token,
                               video_lengths=video_lengths,
                               **transformer_args)

        out: Dict[str, object] = {}
        hs, reference = enc['hs'], enc['references']
        outputs_class = self.class_embed(hs)
        outputs_coord = (self.span_embed(hs) +
                         inverse_sigmoid(reference)).sigmoid()
        out['pred_logits'] = outputs_class[-1]
        out['pred_spans'] = outputs_coord[-1]
        if self.aux_loss:
            out['aux_outputs'] = [
                dict(pred_logits=a, pred_spans=b)
                for a, b in zip(outputs_class[:-1], outputs_coord[:-1])
            ]
        vid_mem, memory_global = enc['memory_local'], enc['memory_global']
        out['saliency_scores'] = self._saliency(vid_mem, memory_global)
        attn = enc['attn_weights']  # (B, Lv, nd + Lt)
        out['t2vattnvalues'] = (attn[:, :, nd:] *
                                txt_mask[:, None]).sum(2).clamp(0, 1)
        out['cate_attn_weights'] = attn
        out['txt_mask'] = txt_mask_dummy
        out['video_mask'] = vid_mask
        out['dummy_tokens'] = dummy_tokens
        out['global_rep_tokens'] = self.global_rep_token

        if relevant_clips is not None:
            out.update(
                self._training_branch(src_txt, txt_mask, pos_txt,
                                      dummy_tokens, pos_dummy, src_vid,
                                      pos_vid, vid_mask, relevant_clips))
        out['saliency_scores_neg'] = out['t2vattnvalues_neg'] = None
        out['real_neg_mask'] = None
        if vids is not None and bsz > 1:
            real_neg = torch.tensor(
                [a != b for a, b in zip(vids, vids[1:] + vids[:1])],
                device=src.device)
            out['real_neg_mask'] = real_neg
            if real_neg.any():
                out.update(
                    self._negative_pairs(src_vid, src_txt_dummy,
                                         txt_mask_dummy, vid_mask, pos,
                                         ctx_token, video_lengths, real_neg,
                                         transformer_args))
        return out

    def _saliency(self, vid_mem: torch.Tensor,
                  memory_global: torch.Tensor) -> torch.Tensor:
        return (self.saliency_proj1(vid_mem) *
                self.saliency_proj2(memory_global)[:, None]).sum(-1) / \
            math.sqrt(self.dims)

    def _training_branch(self, src_txt, txt_mask, pos_txt, dummy_tokens,
                         pos_dummy, src_vid, pos_vid, vid_mask,
                         relevant_clips) -> dict:
        """Sentence tokens (words / dummies) and moment tokens (GT clips /
        other clips) for ``loss_ms_align`` and ``loss_distill``."""
        bsz = len(src_txt)
        one = txt_mask.new_ones(bsz, 1)
        sent = self._tokens(self.sent_rep_token, bsz)
        sent_pos = self._tokens(self.sent_rep_pos, bsz)
        memory = self.scls_encoder(
            torch.cat([sent, src_txt], 1).transpose(0, 1),
            ~torch.cat([one, txt_mask], 1),
            torch.cat([sent_pos, pos_txt], 1).transpose(0, 1))
        sentence_txt, words = memory[0], memory[1:]
        memory = self.scls_encoder(
            torch.cat([sent, dummy_tokens], 1).transpose(0, 1),
            ~one.new_ones(bsz, 1 + dummy_tokens.shape[1]),
            torch.cat([sent_pos, pos_dummy], 1).transpose(0, 1))
        sentence_dummy, dummy_words = memory[0], memory[1:]
        txt_dummy_proj = torch.cat([dummy_words, words])  # (nd + Lt, B, D)

        moment = relevant_clips.clamp(0, 1).bool() & vid_mask
        msrc = torch.cat([self._tokens(self.moment_rep_token, bsz), src_vid],
                         1)
        mpos = torch.cat([self._tokens(self.moment_rep_pos, bsz), pos_vid],
                         1)
        memory_moment, moment_frames = self.transformer.encode_moment(
            msrc, mpos, torch.cat([one, moment], 1))
        nmemory_moment, nmoment_frames = self.transformer.encode_moment(
            msrc, mpos, torch.cat([one, vid_mask & ~moment], 1))
        similarity = moment_frames.transpose(0, 1) @ \
            txt_dummy_proj.permute(1, 2, 0)  # (B, Lv, nd + Lt)
        moment_f = moment[..., None].to(src_vid)
        return dict(
            sentence_txt=sentence_txt,
            sentence_dummy=sentence_dummy,
            memory_moment=memory_moment,
            nmmemory_moment=nmemory_moment,
            moment2txt_similarity=similarity,
            moment_mask=moment,
            src_vid=moment_frames.transpose(0, 1) * moment_f +
            nmoment_frames.transpose(0, 1) * (1 - moment_f))

    def _negative_pairs(self, src_vid, src_txt_dummy, txt_mask_dummy,
                        vid_mask, pos, ctx_token, video_lengths, real_neg,
                        transformer_args) -> dict:
        """Each video with the next sample's query (and task embedding)."""
        nd = self.num_dummies
        txt_neg = src_txt_dummy.roll(-1, 0)
        txt_mask_neg = txt_mask_dummy.roll(-1, 0)
        src = torch.cat([src_vid, txt_neg], 1)[real_neg]
        mask = torch.cat([vid_mask, txt_mask_neg], 1)[real_neg]
        enc = self.transformer(
            src, ~mask, pos=pos[real_neg], ctx_token=ctx_token[real_neg],
            video_lengths=video_lengths[real_neg], decode=False,
            **transformer_args)
        attn = enc['attn_weights']
        words = txt_mask_neg[real_neg][:, nd:]
        return dict(
            saliency_scores_neg=self._saliency(enc['memory_local'],
                                               enc['memory_global']),
            t2vattnvalues_neg=(attn[:, :, nd:] *
                               words[:, None]).sum(2).clamp(0, 1))
