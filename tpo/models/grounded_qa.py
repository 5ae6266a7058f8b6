"""Grounded question answering (NExT-GQA): a sample that carries a
``grounding_question`` is also asked that question about the same video, with
the temporal task called, so that its answer comes with a grounding window.
"""
from typing import Dict, List

import torch
from torch import nn
from transformers import LogitsProcessor

from tpo.structures import TPODataSample

GROUNDING_TASK = 'temporal'


class ForceFirstToken(LogitsProcessor):
    """A logits processor (transformers' protocol, as
    :meth:`TPOModel.generate` takes it) that makes the first generated token
    ``token_id``."""

    def __init__(self, token_id: int) -> None:
        self.token_id = token_id

    def __call__(self, input_ids: torch.Tensor,
                 scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[1]:
            return scores
        forced = torch.full_like(scores, float('-inf'))
        forced[:, self.token_id] = 0
        return forced


@torch.no_grad()
def ground_questions(model: nn.Module, visual: Dict[str, torch.Tensor],
                     data_samples: List[TPODataSample]) -> None:
    """Ask each sample's ``grounding_question`` (when it has one) as a new
    conversation about its video, force the temporal task's begin token as
    the first answer token, and let the temporal head write its prediction
    (``pred_windows``, ``pred_saliency``) on the sample. The sample's own
    answer (``pred_text``) is left as it is."""
    asked = [i for i, s in enumerate(data_samples)
             if s.get('grounding_question') and s.get('task') !=
             GROUNDING_TASK]
    if model.heads.head_of(GROUNDING_TASK) is None or not asked:
        return
    modules = model.splice_modules()
    prompts = [
        model.splicer.embed(
            modules,
            model.prompt.encode_prompt(
                model.tokenizer,
                [dict(question=data_samples[i].grounding_question)]),
            visual['visual_embeds'][i], data_samples[i])[0] for i in asked
    ]
    begin = next(t for t, task in model.begin_ids.items()
                 if task == GROUNDING_TASK)
    _, states = model.generate(prompts, max_new_tokens=1,
                               logits_processor=ForceFirstToken(begin))
    model.heads.predict(states, {k: v[asked] for k, v in visual.items()},
                        [data_samples[i] for i in asked],
                        [GROUNDING_TASK] * len(asked))
