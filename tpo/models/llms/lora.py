"""LoRA on the LLM (peft), and plain LLM weights loaded into it."""
from typing import Dict, Iterable, List, Sequence

from torch import nn

#: Parameters that peft adds to a plain LLM (fresh when a checkpoint has
#: none).
ADAPTER_KEYS = ('lora_', 'trainable_tokens_delta')
# Parts of parameter names that peft inserts when it wraps the LLM.
PEFT_NAME_PARTS = ('base_model.model.', '.token_adapter', '.base_layer',
                   '.original_module', '.modules_to_save.default')


def add_lora(language_model: nn.Module, lora: dict,
             trainable_token_ids: Sequence[int]) -> nn.Module:
    """Wrap the LLM with LoRA (``lora``: keyword arguments of
    ``peft.LoraConfig``). The rows of ``trainable_token_ids`` (the
    task-begin tokens) stay trainable in the input embeddings and the LM
    head (unless the whole module is in ``modules_to_save``), so that task
    assignment can be learned."""
    from peft import LoraConfig, get_peft_model
    lora = dict(lora)
    lora.setdefault('task_type', 'CAUSAL_LM')
    paths = {id(m): n for n, m in language_model.named_modules()}
    names = [
        paths[id(m)].split('.')[-1]
        for m in (language_model.get_input_embeddings(),
                  language_model.get_output_embeddings())
    ]
    saved = set(lora.get('modules_to_save') or ())
    lora.setdefault('trainable_token_indices',
                    {name: sorted(trainable_token_ids)
                     for name in names if name not in saved})
    return get_peft_model(language_model, LoraConfig(**lora))


def plain_name(key: str) -> str:
    """A parameter name without the parts peft inserted."""
    for part in PEFT_NAME_PARTS:
        key = key.replace(part, '')
    return key


def adapt_plain_llm_keys(state_dict: dict, prefix: str,
                         own_keys: Iterable[str]) -> None:
    """Let a checkpoint of the LLM without LoRA (a previous stage, or
    released weights) load into the LoRA-wrapped LLM, in place: each plain
    ``<prefix>llm.*`` weight goes to every parameter that peft derived from
    it."""
    own: Dict[str, List[str]] = {}
    for key in own_keys:
        own.setdefault(plain_name(key), []).append(key)
    for key in [k for k in state_dict if k.startswith(prefix + 'llm.')]:
        name = key[len(prefix):]
        targets = own.get(plain_name(name), [])
        if name in targets or not targets:
            continue
        value = state_dict.pop(key)
        for target in targets:
            state_dict[prefix + target] = value
