"""Decoding with task routing: when the LLM emits a task-begin token, its
task token is fed right after it and the hidden state there is kept for
the task's head."""
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from transformers import (LogitsProcessorList, StoppingCriteria,
                          StoppingCriteriaList, TemperatureLogitsWarper,
                          TopPLogitsWarper)

from .multimodal_inputs import stack_embeddings

#: ``(input_ids (B, t), scores (B, V)) -> scores``: a transformers logits
#: processor; ``input_ids`` holds the token chosen at each step so far.
LogitsProcessor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class TaskRoutingDecoder:
    """Batched KV-cache decoding of a causal LM from input embeddings,
    greedy by default, with transformers' logits processors, sampling
    warpers and stopping criteria.

    The LLM's own ``generate`` feeds one vocabulary token per step; here a
    sample that emits a task-begin token is fed, in the same step, the
    begin token's embedding and then its *learned* task-token embedding
    (not a vocabulary row), so a task call costs no extra step and no
    extra forward pass. The other samples pad that step. Prompts are
    left-padded; the prompt pass computes the logits of the last position
    only.

    Args:
        eos_token_id: the end-of-sequence token.
        task_of_begin: task-begin token id -> task.
        task_token_ids: task -> task token id (recorded in the output).
        max_new_tokens: default decoding budget (steps).
        task_token_in_context: feed a called task's token right after its
            begin token and keep both in the answer (the training layout
            ``<time_begin><temp>``); False runs the task token on a side
            branch *before* the begin token is fed and drops it from the
            cache afterwards, as the released VideoChat-TPO's ``app.py``
            does (one extra forward pass per step that calls a task).
        last_task_only: return only the hidden state of the last task call
            of each answer (the release keeps one ``prompt_token``,
            overwritten by each call); False returns every call's.
    """

    def __init__(self, eos_token_id: int, task_of_begin: Mapping[int, str],
                 task_token_ids: Mapping[str, int], max_new_tokens: int,
                 task_token_in_context: bool = True,
                 last_task_only: bool = False) -> None:
        self.eos_token_id = eos_token_id
        self.task_of_begin = dict(task_of_begin)
        self.task_token_ids = dict(task_token_ids)
        self.max_new_tokens = max_new_tokens
        self.task_token_in_context = task_token_in_context
        self.last_task_only = last_task_only

    def _logits_processors(self, do_sample: bool, temperature: float,
                           top_p: float,
                           logits_processor: Optional[LogitsProcessor]
                           ) -> LogitsProcessorList:
        processors = LogitsProcessorList()
        if logits_processor is not None:
            processors.append(logits_processor)
        if do_sample:
            if not (temperature > 0 and 0 < top_p <= 1):
                raise ValueError(
                    'sampling needs temperature > 0 and 0 < top_p <= 1, got '
                    f'temperature={temperature}, top_p={top_p}')
            processors.append(TemperatureLogitsWarper(temperature))
            if top_p < 1:
                processors.append(TopPLogitsWarper(top_p))
        return processors

    @torch.no_grad()
    def generate(self,
                 llm: nn.Module,
                 task_tokens: Callable[[str], torch.Tensor],
                 prompts: List[torch.Tensor],
                 max_new_tokens: Optional[int] = None,
                 do_sample: bool = False,
                 temperature: float = 1.0,
                 top_p: float = 1.0,
                 generator: Optional[torch.Generator] = None,
                 logits_processor: Optional[LogitsProcessor] = None,
                 stopping_criteria: Optional[Sequence[StoppingCriteria]] = None
                 ) -> Tuple[List[List[int]], List[Dict[str, list]]]:
        """Decode from ``prompts``.

        Args:
            llm: the causal LM (``inputs_embeds``, ``cache``, ``logits``).
            task_tokens: task -> its ``(C,)`` learned task-token embedding.
            prompts: one ``(L_i, C)`` embedding row per sample.
            max_new_tokens: decoding steps (default: the decoder's).
            do_sample: draw each token from the softmax of the logits over
                ``temperature``, restricted to the smallest set of tokens
                whose probability reaches ``top_p`` (nucleus); else take
                the argmax.
            generator: random generator of the draws (reproducible
                sampling).
            logits_processor: applied before each choice (e.g. to force
                tokens; transformers' processors work as they are).
            stopping_criteria: transformers' stopping criteria; a sample
                they flag stops (as at EOS).

        Returns, per sample, the generated ids (task tokens included, up to
        EOS) and ``{task: [hidden states at its task tokens]}``.
        """
        max_new_tokens = self.max_new_tokens if max_new_tokens is None \
            else max_new_tokens
        if max_new_tokens < 1:
            raise ValueError(
                f'max_new_tokens must be >= 1, got {max_new_tokens}')
        processors = self._logits_processors(do_sample, temperature, top_p,
                                             logits_processor)
        stopping = StoppingCriteriaList(stopping_criteria or [])
        num = len(prompts)
        embed_layer = llm.get_input_embeddings()
        batch = stack_embeddings(prompts, 'left')
        mask, positions = batch['attention_mask'], batch['position_ids'][:, -1]
        out = llm(**batch, use_cache=True, logits_to_keep=1)
        cache, logits = out.cache, out.logits[:, -1]
        chosen = torch.zeros(num, 0, dtype=torch.long, device=mask.device)
        generated: List[List[int]] = [[] for _ in range(num)]
        states: List[Dict[str, list]] = [{} for _ in range(num)]
        done = [False] * num
        last_call: List[Optional[str]] = [None] * num
        for _ in range(max_new_tokens):
            scores = processors(chosen, logits)
            if do_sample:
                probs = torch.softmax(scores.float(), -1)
                tokens = torch.multinomial(probs, 1,
                                           generator=generator).squeeze(-1)
            else:
                tokens = scores.argmax(-1)
            tokens = tokens.masked_fill(
                torch.tensor(done, device=tokens.device), self.eos_token_id)
            chosen = torch.cat([chosen, tokens[:, None]], 1)
            stopped = stopping(chosen, scores).tolist() if stopping \
                else [False] * num
            steps, routed = [], []
            for i, token in enumerate(tokens.tolist()):
                if done[i]:
                    steps.append(None)
                    routed.append(None)
                    continue
                generated[i].append(token)
                done[i] = token == self.eos_token_id or bool(stopped[i])
                task = self.task_of_begin.get(token)
                step = embed_layer(logits.new_tensor([token],
                                                     dtype=torch.long))
                if task is not None and not done[i] and \
                        self.task_token_in_context:
                    generated[i].append(self.task_token_ids[task])
                    step = torch.cat([step, task_tokens(task)[None].to(step)])
                steps.append(step)
                routed.append(task)
            if not self.task_token_in_context and any(routed):
                for i, hidden in _task_token_branch(
                        llm, task_tokens, routed, cache, mask,
                        positions).items():
                    states[i].setdefault(routed[i], []).append(hidden)
                    last_call[i] = routed[i]
                routed = [None] * num
            if all(done):
                break
            live = [s for s in steps if s is not None]
            width = max(len(s) for s in live)
            step_mask = torch.zeros(num, width, dtype=torch.long,
                                    device=mask.device)
            rows = []
            for i, step in enumerate(steps):
                if step is None:
                    step = live[0].new_zeros(1, live[0].shape[-1])
                else:
                    step_mask[i, :len(step)] = 1
                rows.append(F.pad(step, (0, 0, 0, width - len(step))))
            step_pos = positions[:, None] + step_mask.cumsum(1)
            positions = step_pos[:, -1]
            mask = torch.cat([mask, step_mask], 1)
            out = llm(
                inputs_embeds=torch.stack(rows),
                attention_mask=mask,
                position_ids=step_pos,
                cache=cache,
                use_cache=True,
                output_hidden_states=any(routed))
            cache = out.cache
            last = (step_mask.sum(1) - 1).clamp(min=0)
            rows_idx = torch.arange(num, device=last.device)
            logits = out.logits[rows_idx, last]
            for i, task in enumerate(routed):
                if task is not None:
                    states[i].setdefault(task, []).append(
                        out.hidden_states[-1][i, last[i]].float())
                    last_call[i] = task
        if self.last_task_only:
            states = [{task: called[task][-1:]} if task else {}
                      for task, called in zip(last_call, states)]
        return generated, states


def _task_token_branch(llm: nn.Module,
                       task_tokens: Callable[[str], torch.Tensor],
                       routed: List[Optional[str]], cache,
                       mask: torch.Tensor, positions: torch.Tensor
                       ) -> Dict[int, torch.Tensor]:
    """The release's way of calling a head (``app.py`` ``generate``): the
    task token alone is run right after the context, *before* its
    task-begin token is fed, and the cache is cut back afterwards, so that
    neither the task token nor its id enter the answer. Returns the last
    hidden state at the task token of each routed sample."""
    pad = task_tokens(next(task for task in routed if task))[None] * 0
    rows = [task_tokens(task)[None] if task is not None else pad
            for task in routed]
    live = torch.tensor([[task is not None] for task in routed],
                        dtype=mask.dtype, device=mask.device)
    length = cache.get_seq_length()
    dtype = llm.get_input_embeddings().weight.dtype
    out = llm(
        inputs_embeds=torch.stack(rows).to(mask.device, dtype),
        attention_mask=torch.cat([mask, live], 1),
        position_ids=positions[:, None] + 1,
        cache=cache,
        use_cache=True,
        output_hidden_states=True)
    cache.crop(length - cache.get_seq_length())  # drop the task token
    return {
        i: out.hidden_states[-1][i, 0].float()
        for i, task in enumerate(routed) if task is not None
    }
