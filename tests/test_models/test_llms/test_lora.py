"""LoRA wrapping with trainable task-begin rows, and plain LLM weights
routed into the wrapped LLM."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from tpo.models.llms.lora import add_lora, adapt_plain_llm_keys, plain_name


def tiny_llm():
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=20, hidden_size=8, intermediate_size=16,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
        tie_word_embeddings=False))


def test_task_begin_rows_train_in_embeddings_and_lm_head():
    wrapped = add_lora(tiny_llm(), dict(r=2, lora_alpha=4,
                                        target_modules=['q_proj']), [17, 18])
    trainable = {n for n, p in wrapped.named_parameters() if p.requires_grad}
    assert any('q_proj.lora_A' in n for n in trainable)
    assert any('embed_tokens.token_adapter.trainable_tokens_delta' in n
               for n in trainable)
    assert any('lm_head.token_adapter.trainable_tokens_delta' in n
               for n in trainable)
    assert not any(n.endswith('embed_tokens.token_adapter.base_layer.weight')
                   for n in trainable)
    # a module saved whole keeps all of its rows trainable instead
    whole = add_lora(tiny_llm(), dict(r=2, target_modules=['q_proj'],
                                      modules_to_save=['lm_head']), [17])
    names = {n for n, p in whole.named_parameters() if p.requires_grad}
    assert any('lm_head.modules_to_save' in n for n in names)
    assert not any('lm_head.token_adapter' in n for n in names)


def test_plain_keys_go_to_every_parameter_peft_derived_from_them():
    wrapped = add_lora(tiny_llm(), dict(r=2, target_modules=['q_proj']),
                       [17])
    own = ['llm.' + k for k in wrapped.state_dict()]
    key = 'llm.model.layers.0.self_attn.q_proj.weight'
    target = 'llm.base_model.model.model.layers.0.self_attn.q_proj.' \
        'base_layer.weight'
    assert plain_name(target) == key
    value = torch.ones(8, 8)
    state = {'x.' + key: value, 'x.other': torch.zeros(1)}
    adapt_plain_llm_keys(state, 'x.', own)
    assert set(state) == {'x.' + target, 'x.other'}
    assert state['x.' + target] is value
