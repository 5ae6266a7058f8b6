"""The assembled model on tiny CPU tensors: losses, gradients, routing."""
import pytest
import torch
from mmengine.registry import init_default_scope

from tests.conftest import tiny_model_cfg
from tpo.models.llms.prompt_template import IGNORE_INDEX
from tpo.registry import MODELS
from tpo.structures import TPODataSample

init_default_scope('tpo')
FRAMES, SIZE = 4, 32


def region_sample(box=(8., 4., 24., 20.)) -> TPODataSample:
    sample = TPODataSample(metainfo=dict(
        task='region',
        ori_shape=(32, 32),
        conversation=[dict(question='where is the red circle?',
                           answer='it is here <box_begin><boxes>.')]))
    sample.gt_bboxes = torch.tensor([box])
    return sample


def chat_sample() -> TPODataSample:
    return TPODataSample(metainfo=dict(
        task='chat', ori_shape=(32, 32),
        conversation=[dict(question='what color is the circle?',
                           answer='it is red.')]))


def batch(samples, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (FRAMES, 3, SIZE, SIZE), generator=gen,
                            dtype=torch.uint8) for _ in samples]
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MODELS.build(tiny_model_cfg())


def test_loss_terms_named_and_finite(model):
    data = model.data_preprocessor(
        batch([region_sample(), chat_sample(), region_sample()]), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_mllm', 'loss_assign', 'region.loss_bbox',
                           'region.loss_iou'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    grads = {n: p.grad for n, p in model.named_parameters()
             if p.requires_grad}
    lora = [g for n, g in grads.items() if 'lora_' in n]
    assert lora and any(g is not None and g.abs().sum() > 0 for g in lora)
    assert grads['task_tokens.tokens.region'].abs().sum() > 0
    assert grads['heads.region.mlp.0.weight'].abs().sum() > 0
    # Trainable rows of the added special tokens (task assignment).
    assert any('trainable_tokens_delta' in n and g is not None
               and g.abs().sum() > 0 for n, g in grads.items())
    # Tasks without samples in the batch still get a (zero) gradient (DDP).
    assert grads['task_tokens.tokens.temporal'] is None or \
        grads['task_tokens.tokens.temporal'].abs().sum() == 0
    model.zero_grad()


def test_task_embeddings_match_single_sample_forward(model):
    """The hidden state routed to a head is the one at that sample's task
    token, whatever else and however much padding shares the batch."""
    samples = [chat_sample(), region_sample(), region_sample()]
    samples[2].conversation[0]['question'] = \
        'can you locate the small red circle at the top?'
    model.eval()
    data = model.data_preprocessor(batch(samples), False)
    visual = model.encode_video(data['inputs'], data['data_samples'])
    full = model.splicer.training_batch(model.splice_modules(),
                                        visual['visual_embeds'], samples)
    hidden = model.llm(inputs_embeds=full['inputs_embeds'],
                       attention_mask=full['attention_mask'],
                       output_hidden_states=True).hidden_states[-1]
    indices, embeddings = model.heads.task_embeddings(
        hidden, full['token_ids'], model.task_token_ids['region'])
    assert indices == [1, 2]
    for i, emb in zip(indices, embeddings):
        one = model.splicer.training_batch(model.splice_modules(),
                                           visual['visual_embeds'][i:i + 1],
                                           samples[i:i + 1])
        alone = model.llm(inputs_embeds=one['inputs_embeds'],
                          output_hidden_states=True).hidden_states[-1][0]
        pos = (one['token_ids'][0] == model.task_token_ids['region'])
        assert emb.shape == (1, alone.shape[-1])
        assert torch.allclose(emb, alone[pos], atol=1e-5)
    model.train()


def test_labels_mask_prompt_and_visual_tokens(model):
    data = model.data_preprocessor(batch([region_sample()]), False)
    visual = model.encode_video(data['inputs'], data['data_samples'])
    full = model.splicer.training_batch(model.splice_modules(),
                                        visual['visual_embeds'],
                                        data['data_samples'])
    labels, ids = full['labels'][0], full['token_ids'][0]
    learned = model.tokenizer.decode(labels[labels != IGNORE_INDEX])
    assert learned.replace(' ', '') == 'itishere<box_begin><boxes>.</s>'
    assert (labels[ids == -1] == IGNORE_INDEX).all()
    assert (ids == -1).sum() == model.connector.num_queries


def test_frozen_modules_get_no_grad_and_stay_in_eval():
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_model_cfg(frozen_modules=['vision_encoder', 'connector']))
    model.train()
    assert not model.vision_encoder.training
    assert all(not p.requires_grad for p in model.connector.parameters())
    data = model.data_preprocessor(batch([region_sample()]), True)
    sum(model(**data, mode='loss').values()).backward()
    assert all(p.grad is None for p in model.vision_encoder.parameters())


def test_runner_init_weights_leaves_the_built_llm_and_fresh_lora():
    """The Runner calls ``init_weights()`` before ``load_from``: Hugging
    Face's own init must not re-draw LoRA (B starts at zero) or the LLM."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    built = {n: p.detach().clone() for n, p in model.named_parameters()}
    lora_b = [p for n, p in model.named_parameters() if 'lora_B' in n]
    assert lora_b and all(not p.any() for p in lora_b)
    model.init_weights()
    for name, param in model.named_parameters():
        assert torch.equal(param, built[name]), name


def test_zero_weighted_heads_are_skipped():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(loss_weights=dict(heads=0.0)))
    data = model.data_preprocessor(batch([region_sample()]), True)
    assert set(model(**data, mode='loss')) == {'loss_mllm', 'loss_assign'}
    cfg = tiny_model_cfg()
    cfg['heads']['region']['loss_weight'] = 0.0
    model = MODELS.build(cfg)
    assert set(model(**data, mode='loss')) == {'loss_mllm', 'loss_assign'}
    with pytest.raises(KeyError, match="loss_weights .*'region'.*: the keys"):
        MODELS.build(tiny_model_cfg(loss_weights=dict(region=0.0)))


def test_training_decreases_every_loss():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    data = model.data_preprocessor(
        batch([region_sample(), chat_sample(),
               region_sample((2., 2., 12., 30.))]), True)
    optim = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=3e-3)
    first = None
    for _ in range(40):
        losses = model(**data, mode='loss')
        first = first or {k: v.item() for k, v in losses.items()}
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
    last = {k: v.item() for k, v in model(**data, mode='loss').items()}
    for key in first:
        assert last[key] < 0.5 * first[key], (key, first[key], last[key])


class SteeredLLM(torch.nn.Module):
    """Wraps the LLM so that greedy decoding emits the given tokens."""

    def __init__(self, llm, script):
        super().__init__()
        self.llm, self.script, self.step = llm, list(script), 0

    def get_input_embeddings(self):
        return self.llm.get_input_embeddings()

    def forward(self, **kwargs):
        out = self.llm(**kwargs)
        if self.step < len(self.script):
            out.logits[..., -1, self.script[self.step]] += 1e4
        self.step += 1
        return out


def test_generation_routes_task_token_to_head(model):
    tok = model.tokenizer
    begin, eos = tok.convert_tokens_to_ids('<box_begin>'), tok.eos_token_id
    model.eval()
    sample = region_sample()
    data = model.data_preprocessor(batch([sample]), False)
    real_llm = model.llm
    model.llm = SteeredLLM(real_llm, [begin, eos])
    try:
        (out, ) = model(**data, mode='predict')
    finally:
        model.llm = real_llm
    assert out.pred_task == '<box_begin>'
    assert out.pred_text.replace(' ', '') == '<box_begin><boxes>'
    assert out.pred_bboxes.shape == (1, 4)
    # The box equals the head applied to the hidden state at the task token
    # of a teacher-forced forward of prompt + begin + task token.
    visual = model.encode_video(data['inputs'], data['data_samples'])
    ids = model.prompt.encode_prompt(
        tok, sample.conversation) + [begin, model.task_token_ids['region']]
    embeds, _ = model.splicer.embed(model.splice_modules(), ids,
                                    visual['visual_embeds'][0])
    hidden = model.llm(inputs_embeds=embeds[None],
                       output_hidden_states=True).hidden_states[-1][0, -1]
    head = model.heads.region
    expected = head.box_coder.decode(head(hidden[None]), (32, 32))
    assert torch.allclose(out.pred_bboxes, expected, atol=1e-4)
    model.train()


def test_no_task_call_gives_empty_prediction(model):
    tok = model.tokenizer
    model.eval()
    data = model.data_preprocessor(batch([region_sample()]), False)
    real_llm = model.llm
    model.llm = SteeredLLM(real_llm, [tok.convert_tokens_to_ids('red'),
                                      tok.eos_token_id])
    try:
        (out, ) = model(**data, mode='predict')
    finally:
        model.llm = real_llm
    assert out.pred_task == 'none'
    assert out.pred_text == 'red'
    assert out.pred_bboxes.shape == (0, 4)
    model.train()


def test_unknown_head_task_is_an_error():
    bad = tiny_model_cfg()
    bad['heads']['region']['task'] = 'regoin'
    with pytest.raises(KeyError, match="serves task 'regoin'"):
        MODELS.build(bad)


def test_a_sample_without_the_heads_targets_is_named(model):
    sample = region_sample()
    del sample.gt_bboxes
    sample.set_metainfo(dict(video_path='refcoco/images/7.jpg'))
    data = model.data_preprocessor(batch([sample]), True)
    with pytest.raises(KeyError, match=r"heads.region \(RegionHead\) needs "
                       r"\['gt_bboxes'\].*refcoco/images/7.jpg"):
        model(**data, mode='loss')


def test_head_width_must_match_the_llm():
    bad = tiny_model_cfg()
    bad['heads']['region']['in_dims'] = 7
    with pytest.raises(ValueError, match='heads.region.in_dims is 7, but '
                       'the task embeddings are 64 wide'):
        MODELS.build(bad)


def test_head_without_samples_keeps_its_params_in_the_graph(model):
    """A batch with no sample of a head's task (DDP: every rank must produce
    gradients for the same parameters)."""
    data = model.data_preprocessor(batch([chat_sample(), chat_sample()]),
                                   True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_mllm', 'loss_assign'}
    sum(losses.values()).backward()
    head_grad = model.heads.region.mlp[0].weight.grad
    assert head_grad is not None and head_grad.abs().sum() == 0
    assert model.task_tokens.tokens.region.grad is not None
    model.zero_grad()
