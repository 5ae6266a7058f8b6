"""Checkpoint keys: plain LLM weights into a LoRA model, strict checks and
the keys a checkpoint leaves out."""
import torch

from tests.conftest import tiny_model_cfg
from tpo.registry import MODELS


def test_plain_llm_checkpoint_loads_into_lora_model():
    """A stage trained without LoRA (or released weights) loads into the
    LoRA-wrapped model: no LLM weight is missing or unexpected."""
    torch.manual_seed(0)
    plain = MODELS.build(tiny_model_cfg(lora=None))
    lora_cfg = tiny_model_cfg()
    torch.manual_seed(1)
    wrapped = MODELS.build(lora_cfg)
    result = wrapped.load_state_dict(plain.state_dict(), strict=False)
    assert not result.unexpected_keys
    assert all('lora_' in k or 'trainable_tokens_delta' in k
               for k in result.missing_keys), result.missing_keys
    name = 'llm.model.layers.0.self_attn.q_proj.weight'
    wrapped_name = 'llm.base_model.model.model.layers.0.self_attn.q_proj.' \
        'base_layer.weight'
    assert torch.equal(wrapped.state_dict()[wrapped_name],
                       plain.state_dict()[name])
