"""The tokens a TPO model adds to its LLM's vocabulary, and embedding rows
for them."""
from typing import Dict, List, Mapping, Tuple

import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from tpo.tasks import BOX_PROMPT_TOKEN, OFFICIAL_TOKEN_ORDER, TaskSpec


def special_tokens(tasks: Mapping[str, TaskSpec], box_prompts: bool,
                   video_token: str) -> List[str]:
    """Task tokens in the official release's order, then the others (a
    plugin's), then the video placeholder."""
    names = [t for spec in tasks.values() for t in (spec.begin, spec.token)]
    if box_prompts:
        names.append(BOX_PROMPT_TOKEN)
    ordered = [t for t in OFFICIAL_TOKEN_ORDER if t in names]
    ordered += [t for t in names if t not in ordered]
    return ordered + [video_token]


def add_special_tokens(tokenizer: PreTrainedTokenizerBase,
                       tokens: List[str]) -> int:
    """Add ``tokens`` to the tokenizer; returns its length before."""
    num_known = len(tokenizer)
    tokenizer.add_special_tokens({'additional_special_tokens': tokens})
    return num_known


def add_task_tokens(tokenizer: PreTrainedTokenizerBase,
                    tasks: Mapping[str, TaskSpec], box_prompts: bool,
                    video_token: str
                    ) -> Tuple[int, Dict[str, int], Dict[int, str]]:
    """Add the :func:`special_tokens` to the tokenizer. Returns its length
    before, task -> task token id, and task-begin token id -> task."""
    num_known = add_special_tokens(
        tokenizer, special_tokens(tasks, box_prompts, video_token))
    ids = tokenizer.convert_tokens_to_ids
    return (num_known, {t: ids(s.token) for t, s in tasks.items()},
            {ids(s.begin): t for t, s in tasks.items()})


@torch.no_grad()
def fit_vocabulary(language_model: nn.Module, vocab_size: int,
                   num_known: int) -> None:
    """Give every token of a tokenizer of ``vocab_size`` tokens an
    embedding row.

    The tables grow (new rows drawn around the mean row) when the tokenizer
    outgrows them; they never shrink: a vocabulary padded beyond the
    tokenizer (Qwen2: 152064 rows) keeps its size and the added tokens take
    padding rows, set to the mean of the ``num_known`` rows before them.
    """
    weight = language_model.get_input_embeddings().weight
    if vocab_size > weight.shape[0]:
        # Mean resizing draws from the rows' covariance: impossible on the
        # meta device (a model built to count its parameters).
        language_model.resize_token_embeddings(
            vocab_size, mean_resizing=not weight.is_meta)
        return
    for table in (language_model.get_input_embeddings(),
                  language_model.get_output_embeddings()):
        if table is not None:
            table.weight[num_known:vocab_size] = \
                table.weight[:num_known].mean(0)
