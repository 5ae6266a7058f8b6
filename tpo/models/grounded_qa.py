"""Grounded question answering (NExT-GQA): a sample that carries a
``grounding_question`` is also asked that question about the same video, with
the temporal task called, so that its answer comes with a grounding window.
"""
from typing import Dict, List

import torch
from torch import nn

from tpo.structures import TPODataSample

GROUNDING_TASK = 'temporal'


def force_first_token(token_id: int):
    """A ``logits_processor`` of :meth:`TPOModel.generate` that makes the
    first generated token ``token_id``."""

    def process(step: int, logits: torch.Tensor) -> torch.Tensor:
        if step:
            return logits
        forced = torch.full_like(logits, float('-inf'))
        forced[:, token_id] = 0
        return forced

    return process


@torch.no_grad()
def ground_questions(model: nn.Module, visual: Dict[str, torch.Tensor],
                     data_samples: List[TPODataSample],
                     heads_by_task: Dict[str, nn.Module]) -> None:
    """Ask each sample's ``grounding_question`` (when it has one) as a new
    conversation about its video, force the temporal task's begin token as
    the first answer token, and let the temporal head write its prediction
    (``pred_windows``, ``pred_saliency``) on the sample. The sample's own
    answer (``pred_text``) is left as it is."""
    head = heads_by_task.get(GROUNDING_TASK)
    asked = [i for i, s in enumerate(data_samples)
             if s.get('grounding_question') and s.get('task') !=
             GROUNDING_TASK]
    if head is None or not asked:
        return
    prompts = []
    for i in asked:
        ids = model.prompt.encode_prompt(
            model.tokenizer,
            [dict(question=data_samples[i].grounding_question)])
        prompts.append(model._embed(ids, visual['visual_embeds'][i],
                                    data_samples[i])[0])
    begin = next(t for t, task in model.begin_ids.items()
                 if task == GROUNDING_TASK)
    _, states = model.generate(prompts, max_new_tokens=1,
                               logits_processor=force_first_token(begin))
    for i, state in zip(asked, states):
        embeddings = torch.stack(state[GROUNDING_TASK])
        head_inputs = {key: visual[key][i:i + 1] for key in head.extra_inputs}
        with torch.autocast(embeddings.device.type, enabled=False):
            head.predict([embeddings], head_inputs, [data_samples[i]])
