"""The tokens a TPO model adds, and the embedding rows they get."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from tpo.models.llms.tokenizers import word_level_tokenizer
from tpo.models.llms.vocabulary import (add_special_tokens, fit_vocabulary,
                                        special_tokens)
from tpo.tasks import OFFICIAL_TOKEN_ORDER, TaskSpec, task_table


class CountTask(TaskSpec):
    name, begin, token = 'count', '<count_begin>', '<count>'


def test_official_order_then_plugin_tokens_then_the_placeholder():
    tasks = task_table(('mask', 'region', 'temporal'))
    assert special_tokens(tasks, True, '<video>') == \
        list(OFFICIAL_TOKEN_ORDER) + ['<video>']
    assert special_tokens(tasks, False, '<v>')[-2:] == ['<tracking>', '<v>']
    tasks['count'] = CountTask()
    assert special_tokens(tasks, False, '<video>')[-3:] == [
        '<count_begin>', '<count>', '<video>']


def tiny_llm(vocab_size):
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=vocab_size, hidden_size=8, intermediate_size=16,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
        tie_word_embeddings=False))


@torch.no_grad()
def test_tables_grow_to_the_tokenizer_or_keep_their_padding_rows():
    tokenizer = word_level_tokenizer(['a', 'b'])
    known = add_special_tokens(tokenizer, ['<x>', '<y>'])
    assert len(tokenizer) == known + 2
    small = tiny_llm(known)
    fit_vocabulary(small, len(tokenizer), known)
    assert small.get_input_embeddings().weight.shape[0] == len(tokenizer)
    padded = tiny_llm(len(tokenizer) + 5)
    before = padded.get_input_embeddings().weight.clone()
    fit_vocabulary(padded, len(tokenizer), known)
    table = padded.get_input_embeddings().weight
    assert table.shape[0] == len(tokenizer) + 5  # never shrinks
    mean = before[:known].mean(0)
    assert torch.allclose(table[known], mean)
    assert torch.allclose(table[known + 1], mean)
    assert torch.equal(table[:known], before[:known])
    assert torch.equal(table[len(tokenizer):], before[len(tokenizer):])
