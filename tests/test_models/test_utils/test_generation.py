"""TaskRoutingDecoder on a tiny random Llama: KV-cache decoding equals
decoding without a cache, task tokens are fed after their begin tokens and
their hidden states kept, and the transformers processor / stopping
protocols apply."""
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, StoppingCriteria

from tpo.models.utils import TaskRoutingDecoder, stack_embeddings

BEGIN, TOKEN, EOS = 40, 41, 2


@pytest.fixture(scope='module')
def llm():
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(config).eval()


TASK_TOKEN = torch.full((32, ), 0.3)


def decoder(max_new_tokens=6):
    return TaskRoutingDecoder(EOS, {BEGIN: 'region'}, dict(region=TOKEN),
                              max_new_tokens)


def force_begin_at(step):
    def force(chosen, scores):
        if chosen.shape[1] == step:
            scores = torch.full_like(scores, -1e9)
            scores[:, BEGIN] = 0
        return scores
    return force


def reference(llm, prompt, steps, forced_step):
    """Greedy decoding of one prompt without a cache: every step runs the
    whole sequence (the task token embedding fed after the begin token)."""
    embeds, generated, states = prompt, [], []
    table = llm.get_input_embeddings()
    for step in range(steps):
        out = llm(inputs_embeds=embeds[None], output_hidden_states=True)
        logits = out.logits[0, -1]
        if step == forced_step:
            logits = torch.full_like(logits, -1e9)
            logits[BEGIN] = 0
        token = int(logits.argmax())
        generated.append(token)
        embeds = torch.cat([embeds, table(torch.tensor([token]))])
        if token == EOS:
            break
        if token == BEGIN:
            generated.append(TOKEN)
            embeds = torch.cat([embeds, TASK_TOKEN[None]])
            states.append(llm(inputs_embeds=embeds[None],
                              output_hidden_states=True).hidden_states[-1][
                                  0, -1])
    return generated, states


@torch.no_grad()
def test_batched_cached_decoding_equals_uncached_decoding(llm):
    gen = torch.Generator().manual_seed(1)
    prompts = [torch.randn(n, 32, generator=gen) for n in (5, 9, 2)]
    ids, states = decoder().generate(llm, lambda task: TASK_TOKEN, prompts,
                                     logits_processor=force_begin_at(1))
    for prompt, got, got_states in zip(prompts, ids, states):
        want, want_states = reference(llm, prompt, 6, forced_step=1)
        assert got == want
        assert got[1:3] == [BEGIN, TOKEN]  # the call and its task token
        assert len(got_states['region']) == len(want_states) >= 1
        for a, b in zip(got_states['region'], want_states):
            assert torch.allclose(a, b, atol=1e-5)


@torch.no_grad()
def test_stopping_criteria_and_budget(llm):
    class AfterTwo(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.tensor([input_ids.shape[1] >= 2, False])

    prompts = [torch.randn(3, 32), torch.randn(4, 32)]
    ids, _ = decoder(5).generate(llm, lambda task: TASK_TOKEN, prompts,
                                 stopping_criteria=[AfterTwo()])
    # 2 steps, and the whole budget of 5 (a task token is no step)
    assert len(ids[0]) == 2
    assert len([t for t in ids[1] if t != TOKEN]) == 5
    with pytest.raises(ValueError, match='max_new_tokens must be >= 1'):
        decoder().generate(llm, lambda task: TASK_TOKEN, prompts,
                           max_new_tokens=0)
    with pytest.raises(ValueError, match='temperature > 0'):
        decoder().generate(llm, lambda task: TASK_TOKEN, prompts,
                           do_sample=True, temperature=0.0)


@torch.no_grad()
def test_sampling_is_reproducible_with_a_generator(llm):
    prompts = [torch.randn(3, 32)]

    def sample(seed):
        return decoder().generate(
            llm, lambda task: TASK_TOKEN, prompts, do_sample=True,
            temperature=2.0, generator=torch.Generator().manual_seed(seed))[0]

    assert sample(0) == sample(0)
    assert any(sample(0) != sample(s) for s in (1, 2, 3))


def test_stack_embeddings_counts_positions_over_real_tokens():
    rows = [torch.ones(2, 3), torch.full((4, 3), 2.)]
    left = stack_embeddings(rows, 'left')
    assert left['attention_mask'].tolist() == [[0, 0, 1, 1], [1, 1, 1, 1]]
    assert left['position_ids'].tolist() == [[0, 0, 0, 1], [0, 1, 2, 3]]
    assert torch.equal(left['inputs_embeds'][0, :2], torch.zeros(2, 3))
    right = stack_embeddings(rows, 'right')
    assert right['position_ids'].tolist() == [[0, 1, 1, 1], [0, 1, 2, 3]]
