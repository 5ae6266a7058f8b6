"""HeadRouter: building heads with the model's widths, one head per task,
routing the hidden states at task tokens, weighting and the zero anchor."""
from typing import ClassVar, Tuple

import pytest
import torch

from tpo.models.heads import BaseTaskHead, HeadRouter
from tpo.registry import MODELS
from tpo.structures import TPODataSample

WIDTHS = dict(in_dims=4, vision_dims=3)
TASKS = ('region', 'temporal')


@MODELS.register_module(force=True)
class SumHead(BaseTaskHead):
    """A head whose loss is the sum of its embeddings times a weight."""

    gt_fields = ('target', )
    model_widths: ClassVar[Tuple[str, ...]] = ('in_dims', 'vision_dims')

    def __init__(self, in_dims, vision_dims, task='region', **kwargs):
        super().__init__(task=task, in_dims=in_dims,
                         extra_inputs=('frames', ), **kwargs)
        self.vision_dims = vision_dims
        self.scale = torch.nn.Parameter(torch.tensor(2.0))
        self.unused = torch.nn.Parameter(torch.ones(3))

    def loss(self, task_embeddings, inputs, data_samples):
        self.seen = (task_embeddings, inputs, data_samples)
        return dict(loss_sum=self.scale * sum(e.sum() for e in
                                              task_embeddings))

    def predict(self, task_embeddings, inputs, data_samples):
        for emb, sample in zip(task_embeddings, data_samples):
            sample.pred_sum = emb.sum().item()
            sample.frames_seen = inputs['frames'].shape[0]
        return data_samples


def build(**heads):
    return HeadRouter(heads, TASKS, WIDTHS)


def test_widths_declared_by_the_head_are_filled_in():
    router = build(a=dict(type='SumHead'),
                   b=dict(type='RegionHead', task='temporal'))
    assert router.a.in_dims == 4 and router.a.vision_dims == 3
    assert router.b.in_dims == 4  # RegionHead declares in_dims only
    assert router.head_of('region') is router.a
    assert router.head_of('temporal') is router.b
    assert router.head_of('mask') is None
    # None means "fill it in" (a tiny config resetting a full one's width)
    assert build(a=dict(type='SumHead', in_dims=None)).a.in_dims == 4


def test_build_errors_name_the_head():
    with pytest.raises(ValueError, match=r'heads.a and heads.b both serve '
                       r"task 'region'"):
        build(a=dict(type='SumHead'), b=dict(type='RegionHead'))
    with pytest.raises(KeyError, match="heads.a serves task 'mask'"):
        build(a=dict(type='SumHead', task='mask'))
    with pytest.raises(ValueError, match=r'heads.a.in_dims is 5'):
        build(a=dict(type='SumHead', in_dims=5))
    with pytest.raises(KeyError, match="'SumHaed' is not in"):
        build(a=dict(type='SumHaed'))


def test_task_embeddings_are_the_hidden_states_at_the_task_token():
    hidden = torch.arange(2 * 4 * 4, dtype=torch.float).view(2, 4, 4)
    token_ids = torch.tensor([[1, 7, 2, 7], [1, 2, 3, 4]])
    indices, embeddings = HeadRouter.task_embeddings(hidden, token_ids, 7)
    assert indices == [0]
    assert torch.equal(embeddings[0], hidden[0, [1, 3]])


def test_loss_is_weighted_and_anchors_every_trainable_parameter():
    router = build(a=dict(type='SumHead', loss_weight=0.5))
    hidden = torch.ones(3, 2, 4)
    token_ids = torch.tensor([[9, 0], [0, 0], [9, 9]])
    samples = [TPODataSample(metainfo=dict(target=i)) for i in range(3)]
    visual = dict(frames=torch.arange(3.))
    losses, anchor = router.loss(hidden, token_ids, dict(region=9), visual,
                                 samples)
    # samples 0 and 2 hold the token: (4 + 8) * scale 2 * weight 0.5
    assert set(losses) == {'a.loss_sum'}
    assert losses['a.loss_sum'].item() == 12.0
    embeddings, inputs, routed = router.a.seen
    assert [len(e) for e in embeddings] == [1, 2]
    assert torch.equal(inputs['frames'], torch.tensor([0., 2.]))
    assert [s.target for s in routed] == [0, 2]
    assert anchor.item() == 0
    anchor.backward()
    assert router.a.unused.grad is not None  # in the graph, with zeros
    # a sample lacking a declared target field is named
    del samples[2].target
    with pytest.raises(KeyError, match=r"heads.a \(SumHead\) needs "
                       r"\['target'\]"):
        router.loss(hidden, token_ids, dict(region=9), visual, samples)


def test_a_zero_weighted_head_is_skipped():
    router = build(a=dict(type='SumHead', loss_weight=0.0))
    losses, anchor = router.loss(torch.ones(1, 1, 4), torch.tensor([[9]]),
                                 dict(region=9), dict(frames=torch.ones(1)),
                                 [TPODataSample()])
    assert losses == {} and anchor.item() == 0
    assert not hasattr(router.a, 'seen')


def test_predict_runs_the_called_heads_and_the_samples_own():
    router = build(a=dict(type='SumHead'))
    samples = [TPODataSample() for _ in range(3)]
    states = [dict(region=[torch.ones(4), torch.ones(4)]), {},
              dict(temporal=[torch.ones(4)])]
    visual = dict(frames=torch.zeros(3, 5),
                  visual_embeds=torch.zeros(3, 2, 4))
    router.predict(states, visual, samples, ['mcq', 'region', 'temporal'])
    assert samples[0].pred_sum == 8.0  # called: two task tokens
    assert samples[1].pred_sum == 0.0  # a region sample that did not call
    assert 'pred_sum' not in samples[2]  # no head serves temporal
    assert samples[0].frames_seen == 1  # its own inputs only


def test_frozen_and_pretrained_paths_come_from_the_heads():
    router = build(a=dict(type='SumHead'))
    assert router.frozen_paths() == () and router.pretrained_paths() == ()
    head = router.a
    assert head.pretrained_submodules == () and head.frozen_submodules == ()
