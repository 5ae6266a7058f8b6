"""TPOModel at scale: batched routing with either padding side, batched
generation, box prompts, precision switches and checkpoint contents."""
import pytest
import torch
from mmengine.registry import init_default_scope

from tests.conftest import tiny_model_cfg
from tests.test_models.test_tpo_model import (SteeredLLM, batch, chat_sample,
                                              region_sample)
from tpo.registry import MODELS
from tpo.structures import TPODataSample
from tpo.tasks import OFFICIAL_TOKEN_ORDER

init_default_scope('tpo')


def build(**overrides):
    torch.manual_seed(0)
    return MODELS.build(tiny_model_cfg(**overrides))


def mixed_samples():
    """Different lengths, tasks and numbers of task tokens per sample."""
    long_q = region_sample((2., 2., 12., 30.))
    long_q.conversation[0]['question'] = \
        'can you locate the small red circle at the top of the frame?'
    two = region_sample()
    two.conversation[0]['answer'] = \
        'here <box_begin><boxes> and here <box_begin><boxes>.'
    two.gt_bboxes = torch.tensor([[8., 4., 24., 20.], [0., 0., 10., 10.]])
    return [chat_sample(), long_q, two]


def test_left_and_right_padding_give_the_same_losses():
    right, left = build(), build(padding_side='left')
    left.load_state_dict(right.state_dict())
    data = right.data_preprocessor(batch(mixed_samples()), True)
    a = right(**data, mode='loss')
    b = left(**data, mode='loss')
    assert set(a) == set(b)
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key
    with pytest.raises(ValueError, match="padding_side must be 'left'"):
        build(padding_side='middle')


def test_every_task_token_of_a_sample_is_routed():
    model = build(padding_side='left')
    samples = mixed_samples()
    data = model.data_preprocessor(batch(samples), False)
    visual = model.encode_video(data['inputs'], data['data_samples'])
    full = model.splicer.training_batch(model.splice_modules(),
                                        visual['visual_embeds'], samples)
    hidden = model._llm_forward(full,
                                output_hidden_states=True).hidden_states[-1]
    indices, embeddings = model.heads.task_embeddings(
        hidden, full['token_ids'], model.task_token_ids['region'])
    assert indices == [1, 2]
    assert [len(e) for e in embeddings] == [1, 2]
    # The same states as each sample alone, unpadded.
    for i, emb in zip(indices, embeddings):
        one = model.splicer.training_batch(model.splice_modules(),
                                           visual['visual_embeds'][i:i + 1],
                                           samples[i:i + 1])
        alone = model._llm_forward(one, output_hidden_states=True
                                   ).hidden_states[-1][0]
        pos = one['token_ids'][0] == model.task_token_ids['region']
        assert torch.allclose(emb, alone[pos], atol=1e-5)


def test_batched_generation_equals_one_by_one():
    """Left-padded batched decoding (with a task call in one sample) gives
    each sample exactly what decoding it alone gives."""
    model = build()
    model.eval()
    tok = model.tokenizer
    begin, eos = tok.convert_tokens_to_ids('<box_begin>'), tok.eos_token_id
    samples = mixed_samples()[:2]
    data = model.data_preprocessor(batch(samples), False)
    visual = model.encode_video(data['inputs'], data['data_samples'])
    prompts = [
        model.splicer.embed(
            model.splice_modules(),
            model.prompt.encode_prompt(tok, s.conversation),
            visual['visual_embeds'][i], s)[0] for i, s in enumerate(samples)
    ]
    assert len(prompts[0]) != len(prompts[1])
    model.decoder.max_new_tokens = 6
    real = model.llm
    # Step 0 forces every sample to call the region task, then free decoding.
    model.llm = SteeredLLM(real, [begin])
    ids, states = model.generate(prompts)
    for i, prompt in enumerate(prompts):
        model.llm = SteeredLLM(real, [begin])
        one_ids, one_states = model.generate([prompt])
        assert ids[i] == one_ids[0]
        assert ids[i][:2] == [begin, model.task_token_ids['region']]
        assert torch.allclose(states[i]['region'][0],
                              one_states[0]['region'][0], atol=1e-4)
    model.llm = real
    assert all(len(g) <= 2 * model.decoder.max_new_tokens for g in ids)
    assert eos not in ids[0][:-1]


def tracking_sample(boxes):
    sample = TPODataSample(metainfo=dict(
        task='chat', ori_shape=(32, 32),
        conversation=[dict(question='track the object in <track_box> .',
                           answer='ok.')]))
    if boxes is not None:
        sample.prompt_bboxes = torch.tensor(boxes)
    return sample


def test_box_prompt_is_encoded_at_its_placeholder():
    model = build(box_prompt_encoder=dict(type='BoxPromptEncoder'))
    tok = model.tokenizer
    box_id = tok.convert_tokens_to_ids('<track_box>')
    sample = tracking_sample([[8., 4., 24., 20.]])
    ids = model.prompt.encode_prompt(tok, sample.conversation)
    visual = torch.zeros(model.connector.num_queries, 64)
    embeds, token_ids = model.splicer.embed(model.splice_modules(), ids,
                                            visual, sample)
    expected = model.box_prompt_encoder.mlp(
        torch.tensor([16 / 32, 12 / 32, 16 / 32, 16 / 32]))
    assert torch.allclose(embeds[token_ids == box_id][0], expected)
    # Gradients reach the encoder through the LM loss.
    data = model.data_preprocessor(batch([sample]), True)
    sum(model(**data, mode='loss').values()).backward()
    assert model.box_prompt_encoder.mlp[0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='1 <track_box> placeholder'):
        model.splicer.embed(model.splice_modules(), ids, visual,
                            tracking_sample(None))


def test_tokens_are_added_in_the_official_order():
    model = build(box_prompt_encoder=dict(type='BoxPromptEncoder'))
    ids = model.tokenizer.convert_tokens_to_ids(list(OFFICIAL_TOKEN_ORDER))
    first = ids[0]
    assert ids == list(range(first, first + len(OFFICIAL_TOKEN_ORDER)))
    assert model.tokenizer.convert_tokens_to_ids('<video>') == first + 7


def test_bos_enters_as_its_embedding_row():
    """The upstream bug wrote the BOS id itself into the embeddings."""
    model = build()
    sample = chat_sample()
    ids = model.prompt.encode_prompt(model.tokenizer, sample.conversation)
    assert ids[0] == model.tokenizer.bos_token_id
    embeds, _ = model.splicer.embed(model.splice_modules(), ids,
                                    torch.zeros(4, 64))
    table = model.llm.get_input_embeddings().weight
    assert torch.equal(embeds[0], table[model.tokenizer.bos_token_id])


def test_bf16_autocast_on_cpu():
    model = build(amp_dtype='bfloat16')
    dtypes = []
    layer = model.llm.base_model.model.model.layers[0].mlp.down_proj
    handle = layer.register_forward_hook(
        lambda m, i, o: dtypes.append(o.dtype))
    data = model.data_preprocessor(batch([region_sample(), chat_sample()]),
                                   True)
    losses = model(**data, mode='loss')
    handle.remove()
    assert dtypes == [torch.bfloat16]
    assert all(v.dtype == torch.float32 and torch.isfinite(v)
               for v in losses.values())
    fp32 = build()
    ref = fp32(**data, mode='loss')
    assert torch.allclose(losses['loss_mllm'], ref['loss_mllm'], rtol=0.05)


def test_gradient_checkpointing_gives_the_same_gradients():
    plain, ckpt = build(), build(gradient_checkpointing=True)
    assert ckpt.llm.base_model.model.model.gradient_checkpointing
    assert ckpt.vision_encoder.with_cp and not plain.vision_encoder.with_cp
    data = plain.data_preprocessor(batch([region_sample(), chat_sample()]),
                                   True)
    for model in (plain, ckpt):
        model.train()
        sum(model(**data, mode='loss').values()).backward()
    grads = dict(plain.named_parameters())
    for name, param in ckpt.named_parameters():
        if param.grad is not None:
            assert torch.allclose(param.grad, grads[name].grad, atol=1e-6), \
                name


@pytest.fixture(scope='module')
def pretrained_llm_dir(tmp_path_factory):
    """A tiny LLM saved like a downloaded model folder."""
    cfg = tiny_model_cfg()['llm']['config']
    torch.manual_seed(3)
    llm = MODELS.build(dict(type='HFCausalLM', config=cfg))
    path = tmp_path_factory.mktemp('llm')
    llm.save_pretrained(str(path))
    return str(path)


def test_checkpoint_leaves_out_frozen_pretrained_weights(pretrained_llm_dir):
    model = build(llm=dict(type='HFCausalLM', pretrained=pretrained_llm_dir))
    keys = set(model.state_dict())
    base = 'llm.base_model.model.model.layers.0.self_attn.q_proj'
    assert f'{base}.base_layer.weight' not in keys
    assert f'{base}.lora_A.default.weight' in keys
    assert 'connector.proj.weight' in keys and 'heads.region.mlp.0.weight' \
        in keys and 'task_tokens.tokens.region' in keys
    # ... which the next model rebuilds from the same folder: loading the
    # checkpoint strictly gives identical outputs.
    other = build(llm=dict(type='HFCausalLM', pretrained=pretrained_llm_dir))
    other.load_state_dict(model.state_dict())
    data = model.data_preprocessor(batch([region_sample()]), True)
    a, b = model(**data, mode='loss'), other(**data, mode='loss')
    assert all(torch.equal(a[k], b[k]) for k in a)
    # Weights that were loaded from a checkpoint are carried forward.
    full = build(llm=dict(type='HFCausalLM', pretrained=pretrained_llm_dir))
    state = dict(model.state_dict())
    state[f'{base}.base_layer.weight'] = torch.zeros(64, 64)
    full.load_state_dict(state)
    assert f'{base}.base_layer.weight' in full.state_dict()


def test_strict_loading_lists_the_offending_keys():
    model = build()
    state = dict(model.state_dict())
    state['heads.region.extra.weight'] = torch.zeros(1)
    state['connector.proj.weight'] = torch.zeros(3, 3)
    del state['task_tokens.tokens.region']
    torch.manual_seed(1)
    target = MODELS.build(tiny_model_cfg())
    before = target.heads.region.mlp[0].weight.clone()
    with pytest.raises(RuntimeError) as err:
        target.load_state_dict(state)
    message = str(err.value)
    assert 'unexpected keys (1): heads.region.extra.weight' in message
    assert 'connector.proj.weight (3, 3) vs (64, 32)' in message
    assert 'missing keys (1): task_tokens.tokens.region' in message
    # Nothing was copied before the error.
    assert torch.equal(target.heads.region.mlp[0].weight, before)
    assert not torch.equal(before, model.heads.region.mlp[0].weight)


def test_non_strict_loading_skips_and_logs(caplog):
    model = build()
    state = dict(model.state_dict())
    state['connector.proj.weight'] = torch.zeros(3, 3)
    target = build(strict_load=False)
    before = target.connector.proj.weight.clone()
    target.load_state_dict(state, strict=False)
    assert torch.equal(target.connector.proj.weight, before)
    assert torch.equal(target.heads.region.mlp[0].weight,
                       model.heads.region.mlp[0].weight)


def test_vocabulary_mismatch_names_the_tokenizer():
    model = build()
    state = dict(model.state_dict())
    key = next(k for k in state if 'embed_tokens' in k and 'weight' in k)
    state[key] = torch.zeros(state[key].shape[0] - 3, state[key].shape[1])
    with pytest.raises(RuntimeError, match='tokenizer without the task '
                       'tokens'):
        build().load_state_dict(state)


def test_padded_vocabulary_is_kept_and_added_rows_start_at_the_mean():
    """Like Qwen2, whose embedding table is larger than its tokenizer."""
    cfg = tiny_model_cfg()
    cfg['llm']['config']['vocab_size'] = 1024
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    table = model.llm.get_input_embeddings().weight
    assert table.shape[0] == 1024 > len(model.tokenizer)
    added = model.tokenizer.convert_tokens_to_ids('<box_begin>')
    known = model.tokenizer.convert_tokens_to_ids('<pad>')
    mean = table[:added].mean(0)
    assert torch.allclose(table[added], mean, atol=1e-6)
    assert not torch.allclose(table[known], mean)


def test_widths_the_model_knows_are_filled_into_heads():
    """`heads.temporal=dict(type='CGDETRHead')` alone builds: the LLM width
    and the vision encoder's width come from the model."""
    cfg = tiny_model_cfg()
    cfg['heads']['temporal'] = dict(type='CGDETRHead')
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    head = model.heads.temporal
    assert head.in_dims == model.llm.config.hidden_size
    # MLLM clip features: encoder width + the 2 temporal endpoint features
    assert head.vid_dims == model.vision_encoder.embed_dims + 2
