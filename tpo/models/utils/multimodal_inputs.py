"""Multimodal input splicing: a conversation's token embeddings with the
visual tokens at the video placeholder, the learned task-token embeddings
at task tokens and box-prompt embeddings at ``<track_box>`` placeholders."""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedTokenizerBase

from tpo.structures import TPODataSample
from tpo.tasks import BOX_PROMPT_TOKEN
from ..llms.prompt_template import IGNORE_INDEX, PromptTemplate


def pad_rows(rows: Sequence[torch.Tensor], value,
             side: str) -> torch.Tensor:
    """Stack rows of different lengths, padded with ``value`` on the
    ``'left'`` or ``'right'``."""
    length = max(len(r) for r in rows)
    pads = [(0, 0) * (r.dim() - 1) + ((length - len(r), 0) if side ==
                                       'left' else (0, length - len(r)))
            for r in rows]
    return torch.stack(
        [F.pad(r, pad, value=value) for r, pad in zip(rows, pads)])


def stack_embeddings(embeds: Sequence[torch.Tensor],
                     side: str) -> Dict[str, torch.Tensor]:
    """Pad ``(L_i, C)`` embedding rows into a batch with its attention mask
    and positions counted over real tokens."""
    mask = pad_rows([
        torch.ones(len(e), dtype=torch.long, device=e.device) for e in embeds
    ], 0, side)
    return dict(
        inputs_embeds=pad_rows(embeds, 0.0, side),
        attention_mask=mask,
        position_ids=(mask.cumsum(1) - 1).clamp(min=0))


class SpliceModules(NamedTuple):
    """The modules whose outputs are spliced in (passed at call time, so
    that wrapped modules, e.g. FSDP units, are the ones called)."""
    embed_tokens: nn.Module
    task_tokens: nn.Module
    box_prompt_encoder: Optional[nn.Module] = None


class MultimodalSplicer:
    """Lay out samples as LLM input embeddings.

    Args:
        tokenizer: the LLM's tokenizer (task and placeholder tokens added).
        prompt: the conversation template.
        task_token_ids: task -> the id of its task token.
        box_prompts: whether ``<track_box>`` placeholders take box-prompt
            embeddings.
        padding_side: where a training batch is padded (positions are
            counted over real tokens either way).
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase,
                 prompt: PromptTemplate, task_token_ids: Dict[str, int],
                 box_prompts: bool, padding_side: str = 'right') -> None:
        if padding_side not in ('left', 'right'):
            raise ValueError("padding_side must be 'left' or 'right', got "
                             f'{padding_side!r}')
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.task_token_ids = dict(task_token_ids)
        self.video_id = tokenizer.convert_tokens_to_ids(prompt.video_token)
        self.box_prompt_id = tokenizer.convert_tokens_to_ids(
            BOX_PROMPT_TOKEN) if box_prompts else None
        self.padding_side = padding_side

    def embed(self, modules: SpliceModules, ids: List[int],
              visual: torch.Tensor,
              sample: Optional[TPODataSample] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Input embeddings of ``ids`` with ``visual`` ``(N, C)`` at the
        video placeholder, task-token embeddings at task tokens and
        box-prompt embeddings at ``<track_box>`` placeholders.

        Returns the embeddings and the token id at every position (-1 at the
        visual positions).
        """
        ids_t = torch.tensor(ids, device=visual.device)
        where = (ids_t == self.video_id).nonzero().flatten()
        if len(where) != 1:
            raise ValueError(
                f'a prompt must hold exactly one {self.prompt.video_token} '
                f'placeholder, found {len(where)}')
        pos = int(where[0])
        embeds = modules.embed_tokens(ids_t)
        for task, token_id in self.task_token_ids.items():
            mask = (ids_t == token_id)[:, None]
            embeds = torch.where(mask, modules.task_tokens[task].to(embeds),
                                 embeds)
        if self.box_prompt_id is not None:
            embeds = self._embed_box_prompts(ids_t, embeds,
                                             modules.box_prompt_encoder,
                                             sample)
        embeds = torch.cat(
            [embeds[:pos], visual.to(embeds), embeds[pos + 1:]])
        token_ids = torch.cat(
            [ids_t[:pos],
             ids_t.new_full((len(visual), ), -1), ids_t[pos + 1:]])
        return embeds, token_ids

    def _embed_box_prompts(self, ids: torch.Tensor, embeds: torch.Tensor,
                           encoder: nn.Module,
                           sample: Optional[TPODataSample]) -> torch.Tensor:
        """The i-th ``<track_box>`` of a prompt takes the encoding of the
        i-th row of the sample's ``prompt_bboxes``."""
        where = (ids == self.box_prompt_id).nonzero().flatten()
        if len(where) == 0:
            if sample is None:
                return embeds
            # The encoder runs for every training sample (on no boxes
            # here), so that every rank runs the same modules and has
            # gradients for its weights (zero ones): DDP and ZeRO-3 need it.
            boxes, shape = embeds.new_zeros(0, 4), (1, 1)
        else:
            boxes = None if sample is None else sample.get('prompt_bboxes')
            if boxes is None or len(boxes) != len(where):
                raise ValueError(
                    f'the prompt holds {len(where)} {BOX_PROMPT_TOKEN} '
                    f'placeholder(s) but the sample has '
                    f'{0 if boxes is None else len(boxes)} prompt_bboxes')
            shape = sample.ori_shape
        codes = encoder(torch.as_tensor(boxes, device=embeds.device), shape)
        embeds = embeds.clone()
        embeds[where] = codes.to(embeds)
        return embeds

    def training_batch(self, modules: SpliceModules,
                       visual_embeds: torch.Tensor,
                       data_samples: List[TPODataSample]
                       ) -> Dict[str, torch.Tensor]:
        """Padded embeddings, mask, positions, LM ``labels`` (answers only)
        and ``token_ids`` (-1 at visual positions) of whole
        conversations."""
        rows, all_labels, all_ids = [], [], []
        for visual, sample in zip(visual_embeds, data_samples):
            ids, labels = self.prompt.encode(
                self.tokenizer, sample.conversation,
                sample.get('answer_prefix', ''),
                sample.get('instruction', ''))
            embeds, token_ids = self.embed(modules, ids, visual, sample)
            labels = torch.tensor(labels, device=embeds.device)
            labels = labels[torch.tensor(ids) != self.video_id]
            full_labels = torch.full_like(token_ids, IGNORE_INDEX)
            full_labels[token_ids != -1] = labels
            rows.append(embeds)
            all_labels.append(full_labels)
            all_ids.append(token_ids)
        batch = stack_embeddings(rows, self.padding_side)
        batch['labels'] = pad_rows(all_labels, IGNORE_INDEX,
                                   self.padding_side)
        batch['token_ids'] = pad_rows(all_ids, -1, self.padding_side)
        return batch

    def prompts(self, modules: SpliceModules, visual_embeds: torch.Tensor,
                data_samples: List[TPODataSample]) -> List[torch.Tensor]:
        """Per sample, the embeddings that end where the model must answer
        the last turn (generation)."""
        prompts = []
        for visual, sample in zip(visual_embeds, data_samples):
            ids = self.prompt.encode_prompt(self.tokenizer,
                                            sample.conversation,
                                            sample.get('answer_prefix', ''),
                                            sample.get('instruction', ''))
            prompts.append(self.embed(modules, ids, visual, sample)[0])
        return prompts


def instruction_tokens(tokenizer: PreTrainedTokenizerBase,
                       data_samples: List[TPODataSample], own: bool,
                       device: torch.device) -> Dict[str, torch.Tensor]:
    """Token ids and mask of each sample's first question (with its
    instruction), for an instruction-aware connector. ``own``: the
    connector has its own (BERT) tokenizer: ``[CLS] ... [SEP]``, cut to
    BERT's length (from the left when the tokenizer says so), as VideoChat2
    does."""
    texts = [
        f"{s.get('instruction', '')} {s.conversation[0]['question']}".strip()
        for s in data_samples
    ]
    options = dict(add_special_tokens=True, truncation=True,
                   max_length=512) if own else dict(add_special_tokens=False)
    tokens = tokenizer(texts, padding=True, return_tensors='pt',
                       **options).to(device)
    return dict(instruction_ids=tokens['input_ids'],
                instruction_mask=tokens['attention_mask'])
