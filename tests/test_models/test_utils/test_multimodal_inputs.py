"""MultimodalSplicer on a word-level tokenizer and plain modules: where
visual tokens, task tokens and box prompts land, and the labels."""
import pytest
import torch
from torch import nn

from tpo.models.box_prompt_encoder import BoxPromptEncoder
from tpo.models.llms.prompt_template import IGNORE_INDEX, PromptTemplate
from tpo.models.llms.tokenizers import word_level_tokenizer
from tpo.models.task_tokens import TaskTokens
from tpo.models.utils import MultimodalSplicer, SpliceModules
from tpo.structures import TPODataSample

DIMS = 6


@pytest.fixture(scope='module')
def parts():
    tokenizer = word_level_tokenizer(['where', 'is', 'it', 'here', 'track'])
    tokenizer.add_special_tokens({'additional_special_tokens': [
        '<box_begin>', '<boxes>', '<track_box>', '<video>']})
    prompt = PromptTemplate(user='{video} {question}', assistant=' {answer}'
                            '</s>')
    ids = tokenizer.convert_tokens_to_ids
    splicer = MultimodalSplicer(tokenizer, prompt,
                                dict(region=ids('<boxes>')), True)
    torch.manual_seed(0)
    tokens = TaskTokens(['region'], DIMS)
    nn.init.constant_(tokens.tokens['region'], 7.0)
    modules = SpliceModules(nn.Embedding(len(tokenizer), DIMS), tokens,
                            BoxPromptEncoder(out_dims=DIMS))
    return splicer, modules, ids


def sample(question, answer='', boxes=None):
    s = TPODataSample(metainfo=dict(
        conversation=[dict(question=question, answer=answer)],
        ori_shape=(10, 20)))
    if boxes is not None:
        s.prompt_bboxes = torch.tensor(boxes)
    return s


def test_visual_and_task_embeddings_land_at_their_placeholders(parts):
    splicer, modules, ids = parts
    visual = torch.full((3, DIMS), -1.0)
    s = sample('where is it ?', 'it is here <box_begin><boxes>.')
    batch = splicer.training_batch(modules, visual[None], [s])
    token_ids, embeds = batch['token_ids'][0], batch['inputs_embeds'][0]
    # bos, then the video (the template starts with it)
    assert token_ids[:4].tolist() == [splicer.tokenizer.bos_token_id, -1,
                                      -1, -1]
    assert torch.equal(embeds[1:4], visual)
    task = (token_ids == ids('<boxes>')).nonzero().flatten()
    assert len(task) == 1 and torch.equal(embeds[task[0]],
                                          torch.full((DIMS, ), 7.0))
    begin = int((token_ids == ids('<box_begin>')).nonzero()[0])
    assert torch.equal(embeds[begin],
                       modules.embed_tokens.weight[ids('<box_begin>')])
    # only the answer (and its closing token) is learned
    labels = batch['labels'][0]
    learned = labels[labels != IGNORE_INDEX].tolist()
    assert splicer.tokenizer.decode(learned).replace(' ', '') == \
        'itishere<box_begin><boxes>.</s>'


def test_box_prompts_and_placeholder_errors(parts):
    splicer, modules, ids = parts
    visual = torch.zeros(2, DIMS)
    boxed = sample('track <track_box>', boxes=[[0., 0., 20., 10.]])
    embeds, token_ids = splicer.embed(
        modules, splicer.prompt.encode_prompt(splicer.tokenizer,
                                              boxed.conversation),
        visual, boxed)
    where = int((token_ids == ids('<track_box>')).nonzero()[0])
    expected = modules.box_prompt_encoder(torch.tensor([[0., 0., 20., 10.]]),
                                          (10, 20))[0]
    assert torch.allclose(embeds[where], expected)
    with pytest.raises(ValueError, match='1 <track_box> placeholder'):
        splicer.embed(modules, splicer.prompt.encode_prompt(
            splicer.tokenizer, boxed.conversation), visual,
            sample('track <track_box>'))
    with pytest.raises(ValueError, match='exactly one <video>'):
        splicer.embed(modules, [ids('where')], visual)
    with pytest.raises(ValueError, match="padding_side must be"):
        MultimodalSplicer(splicer.tokenizer, splicer.prompt, {}, False,
                          'middle')
