"""Temporal heads (CG-DETR and the MLP ablation), their span coder, matcher,
losses and feature sources, on tiny CPU tensors."""
import math

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from torch import nn

from tests.conftest import tiny_model_cfg
from tpo.models.heads.temporal_features import (clip_targets,
                                                saliency_to_clips)
from tpo.models.losses import (CGDETRSaliencyLoss, MomentSentenceAlignLoss,
                               MomentTextDistillLoss, NegativePairLoss,
                               OrthogonalDummyLoss, RankContrastiveLoss,
                               SaliencyMarginLoss, SpanClassificationLoss,
                               SpanGIoULoss, SpanL1Loss, negative_pair,
                               rank_contrastive, saliency_margin)
from tpo.models.task_modules import (HungarianSpanMatcher, SpanCoder,
                                     generalized_span_iou)
from tpo.registry import MODELS, TASK_UTILS
from tpo.structures import TPODataSample

init_default_scope('tpo')

IN_DIMS, VISION_DIMS, FRAMES, TOKENS = 16, 12, 4, 5
# A CG-DETR small enough for CPU tests; every other argument is official.
TINY = dict(
    hidden_dims=32, num_heads=4, ffn_dims=64, enc_layers=1, dec_layers=2,
    t2v_layers=1, num_queries=5, num_dummies=3, total_prompts=4,
    input_dropout=0.0, dropout=0.0)
TEXT = dict(type='QueryHashEmbedding', embed_dims=8, num_buckets=64)


def temporal_sample(windows=((2., 5.), ), duration=8.0, vid='v0', qid=0,
                    query='when does the red circle move', **meta):
    sample = TPODataSample(metainfo=dict(
        task='temporal', duration=duration, query=query, vid=vid, qid=qid,
        **meta))
    sample.gt_windows = torch.tensor(windows,
                                     dtype=torch.float32).reshape(-1, 2)
    return sample


def mllm_inputs(batch_size, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(
        frames=torch.randn(batch_size, FRAMES, 3, 8, 8, generator=gen),
        visual_tokens=torch.randn(batch_size, FRAMES * TOKENS, VISION_DIMS,
                                  generator=gen))


def embeddings(batch_size, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(1, IN_DIMS, generator=gen).requires_grad_()
            for _ in range(batch_size)]


def cgdetr_cfg(**kwargs):
    cfg = dict(type='CGDETRHead', vision_dims=VISION_DIMS, text_features=TEXT,
               **TINY)
    cfg.update(kwargs)
    return cfg


def build_head(cfg):
    torch.manual_seed(0)
    return MODELS.build(dict(cfg, in_dims=IN_DIMS))


# ---------------------------------------------------------------- coder
def test_span_coder_encode_decode():
    coder = SpanCoder('cxw')
    windows = torch.tensor([[2., 6.], [0., 8.]])
    codes = coder.encode(windows, 8.0)
    assert torch.allclose(codes, torch.tensor([[0.5, 0.5], [0.5, 1.0]]))
    assert torch.allclose(coder.decode(codes, 8.0), windows)
    # (0.05, 0.3) -> (-0.1, 0.2): clipped to the video
    assert torch.allclose(coder.decode(torch.tensor([[0.05, 0.3]]), 10.),
                          torch.tensor([[0., 2.]]))
    xx = SpanCoder('xx')
    assert torch.allclose(xx.encode(windows, 8.0),
                          torch.tensor([[0.25, 0.75], [0., 1.]]))
    assert torch.allclose(xx.decode(torch.tensor([[0.7, 0.2]]), 10.),
                          torch.tensor([[2., 7.]]))  # start <= end
    with pytest.raises(ValueError):
        SpanCoder('xyxy')


def test_generalized_span_iou_values():
    a = torch.tensor([[0., 0.2], [0.5, 1.0]])
    b = torch.tensor([[0., 0.3], [0., 1.0]])
    expected = torch.tensor([[2 / 3, 0.2], [-0.2, 0.5]])
    assert torch.allclose(generalized_span_iou(a, b), expected, atol=1e-6)


# ---------------------------------------------------------------- matcher
def test_matcher_cost_matrix_and_assignment_by_hand():
    matcher = TASK_UTILS.build(
        dict(type='HungarianSpanMatcher', cost_class=4, cost_span=10,
             cost_giou=1))
    # xx: q0 [0.1, 0.3], q1 [0.6, 0.8]; g0 [0.6, 0.8], g1 [0.2, 0.3]
    pred = torch.tensor([[0.2, 0.2], [0.7, 0.2]])
    gt = torch.tensor([[0.7, 0.2], [0.25, 0.1]])
    logits = torch.tensor([[0., 0.], [math.log(3), 0.]])  # p_fg .5, .75
    cost = matcher.cost_matrix(pred, gt, logits)
    # 10 * L1 - GIoU - 4 * p_fg
    expected = torch.tensor([[5 + 3 / 7 - 2, 1.5 - 0.5 - 2],
                             [0 - 1 - 3, 5.5 + 0.5 - 3]])
    assert torch.allclose(cost, expected, atol=1e-5)
    rows, cols = matcher(pred, gt, logits)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_matcher_is_globally_optimal_and_handles_no_gt():
    matcher = HungarianSpanMatcher(cost_class=0, cost_span=1, cost_giou=0)
    # L1 costs: q0 [.05, .15], q1 [.02, .08], q2 [.4, .3]; the greedy
    # choice q1->g0 (.02) then q0->g1 (.15) costs .17, the optimum .13
    pred = torch.tensor([[0.45, 0.1], [0.52, 0.1], [0.9, 0.1]])
    gt = torch.tensor([[0.5, 0.1], [0.6, 0.1]])
    rows, cols = matcher(pred, gt)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    rows, cols = matcher(pred, torch.zeros(0, 2))
    assert rows.numel() == 0 and cols.numel() == 0
    with pytest.raises(ValueError):
        HungarianSpanMatcher(cost_class=0, cost_span=0, cost_giou=0)


# ---------------------------------------------------------------- losses
def test_span_losses_by_hand():
    l1 = SpanL1Loss(loss_weight=10.)
    assert torch.allclose(
        l1(torch.tensor([[0.5, 0.2]]), torch.tensor([[0.4, 0.4]])),
        torch.tensor(1.5))
    giou = SpanGIoULoss(loss_weight=1.)
    pred = torch.tensor([[0.1, 0.3], [0.1, 0.3]])
    target = torch.tensor([[0.2, 0.3], [0.6, 0.8]])
    # 1 - GIoU: 1 - 0.5 and 1 + 3/7
    assert torch.allclose(giou(pred, target),
                          torch.tensor((0.5 + 1 + 3 / 7) / 2))
    empty = torch.zeros(0, 2, requires_grad=True)
    for loss in (l1, giou):
        value = loss(empty, torch.zeros(0, 2))
        assert value == 0 and not torch.isnan(value)
        value.backward()


def test_classification_loss_weights_background_by_eos_coef():
    loss = SpanClassificationLoss(eos_coef=0.1, loss_weight=4.)
    logits = torch.tensor([[[0., 0.], [math.log(3), 0.]]])
    foreground = torch.tensor([[True, False]])
    # fg: -log .5; bg: 0.1 * -log .25; plain mean over the 2 queries
    expected = 4 * (math.log(2) + 0.1 * math.log(4)) / 2
    assert torch.allclose(loss(logits, foreground), torch.tensor(expected))


def test_saliency_margin_by_hand():
    scores = torch.tensor([[1.0, 0.5, 0.0, 0.6]])
    pos, neg = torch.tensor([[0, 1]]), torch.tensor([[2, 3]])
    # max(0, .2 + 0 - 1) + max(0, .2 + .6 - .5) = .3; / (1 * 2) * 2
    assert math.isclose(saliency_margin(scores, pos, neg, 0.2).item(), 0.3,
                        rel_tol=1e-6)
    assert math.isclose(
        SaliencyMarginLoss(0.2, loss_weight=2.)(scores, pos, neg).item(),
        0.6, rel_tol=1e-6)
    assert saliency_margin(scores, torch.zeros(0, 2, dtype=torch.long),
                           torch.zeros(0, 2, dtype=torch.long), 0.2) == 0


def test_rank_contrastive_by_hand():
    # a padded clip (mask 0) with a high score must not count
    scores = torch.tensor([[0.5, 0.0, -0.5, 5.0]])
    labels = torch.tensor([[2., 1., 0., 0.]])
    mask = torch.tensor([[1., 1., 1., 0.]])
    logits = [0., -1., -2.]  # scores / 0.5 minus the max
    lse = math.log(sum(math.exp(x) for x in logits) + 1e-6)
    level1 = -((0 - lse) + (-1 - lse)) / (2 + 1e-6)
    level2 = -(0 - lse) / (1 + 1e-6)
    expected = (level1 + level2) / 12
    assert math.isclose(
        rank_contrastive(scores, labels, mask).item(), expected,
        rel_tol=1e-5)
    assert math.isclose(
        RankContrastiveLoss(loss_weight=3.)(scores, labels, mask).item(),
        3 * expected, rel_tol=1e-5)
    # no positive clip: zero
    assert rank_contrastive(scores, torch.zeros_like(labels), mask) == 0


def test_negative_pair_by_hand():
    # -log(1 - sigmoid(0)) - log(1 - sigmoid(ln 3)) = ln 2 + ln 4
    logits = torch.tensor([[0., math.log(3)]])
    assert math.isclose(negative_pair(logits, torch.ones(1, 2)).item(),
                        math.log(8), rel_tol=1e-6)
    assert math.isclose(
        negative_pair(logits, torch.tensor([[1., 0.]])).item(), math.log(2),
        rel_tol=1e-6)
    probs = torch.tensor([[0.5, 0.75]])
    assert math.isclose(
        NegativePairLoss(use_sigmoid=False)(probs, torch.ones(1, 2)).item(),
        math.log(8), rel_tol=1e-5)


def test_cgdetr_saliency_loss_composes_its_terms():
    torch.manual_seed(0)
    scores, attn = torch.randn(3, 5), torch.rand(3, 5)
    labels = torch.tensor([[0., 3, 5, 0, 0], [1, 1, 0, 0, 0],
                           [0, 0, 0, 0, 0]])
    mask = torch.tensor([[1., 1, 1, 1, 1], [1, 1, 1, 1, 0],
                         [1, 1, 1, 0, 0]])
    pos, neg = torch.tensor([[2, 1], [0, 1]]), torch.tensor([[1, 4],
                                                             [3, 2]])
    paired = torch.tensor([True, True, False])
    loss = CGDETRSaliencyLoss(margin=0.2, attn_weight=0.5, loss_weight=4.)
    head_terms = saliency_margin(scores[:2], pos, neg, 0.2) + \
        rank_contrastive(scores, labels, mask)
    assert torch.allclose(
        loss(scores, labels, mask, pos, neg, pair_mask=paired),
        4 * head_terms)
    attn_terms = saliency_margin(attn[:2], pos, neg, 0.2) + \
        rank_contrastive(attn, labels, mask) + \
        nn.functional.binary_cross_entropy(attn, labels.clamp(0, 1))
    assert torch.allclose(
        loss(scores, labels, mask, pos, neg, pair_mask=paired,
             attn_scores=attn), 4 * (head_terms + 0.5 * attn_terms))
    # negative pairs for rows 0 and 1 (row 2 pairs with a clip of its video)
    real = torch.tensor([True, True, False])
    neg_scores, neg_attn = torch.randn(2, 5), torch.rand(2, 5)
    zeros = torch.zeros(2, 5)
    head_terms = saliency_margin(scores[:2], pos, neg, 0.2) + \
        rank_contrastive(torch.cat([scores[:2], neg_scores], 1),
                         torch.cat([labels[:2], zeros], 1),
                         mask[:2].repeat(1, 2)) + \
        rank_contrastive(scores[2:], labels[2:], mask[2:]) + \
        negative_pair(neg_scores, mask[:2])
    attn_terms = saliency_margin(attn[:2], pos, neg, 0.2) + \
        rank_contrastive(torch.cat([attn[:2], neg_attn], 1),
                         torch.cat([labels[:2], zeros], 1),
                         mask[:2].repeat(1, 2)) + \
        negative_pair(neg_attn, mask[:2], use_sigmoid=False) + \
        nn.functional.binary_cross_entropy(attn, labels.clamp(0, 1))
    assert torch.allclose(
        loss(scores, labels, mask, pos, neg, pair_mask=paired,
             attn_scores=attn, neg_scores=neg_scores,
             neg_attn_scores=neg_attn, real_neg=real),
        4 * (head_terms + 0.5 * attn_terms), atol=1e-6)


def test_moment_sentence_align_by_hand():
    moment = torch.tensor([[1., 0.], [0., 1.]])
    non_moment = torch.tensor([[1., 0.], [1., 0.]])
    sentence = torch.tensor([[1., 0.], [0., 1.]])
    dummy = torch.tensor([[0., 1.], [1., 0.]])
    # every row of both similarity matrices has two 1s and two 0s, and the
    # label points at a 1: CE = log(2e + 2) - 1 for each of the two terms
    expected = 2 * (math.log(2 * math.e + 2) - 1)
    loss = MomentSentenceAlignLoss()
    assert math.isclose(
        loss(moment, non_moment, sentence, dummy).item(), expected,
        rel_tol=1e-6)
    frames = torch.tensor([[[2., 0.]], [[0., 0.]]])  # logits 2 and 0
    bce = (-math.log(torch.sigmoid(torch.tensor(2.)).item()) +
           math.log(2)) / 2
    assert math.isclose(
        loss(moment, non_moment, sentence, dummy, frames,
             torch.tensor([[1.], [0.]]), torch.ones(2, 1)).item(),
        expected + bce, rel_tol=1e-5)


def test_distill_loss_by_hand():
    attn = torch.tensor([[[0.8, 0.2], [0.9, 0.1]]])
    similarity = torch.tensor([[[0., 0.], [3., 0.]]])
    moment = torch.tensor([[1., 0.]])  # only clip 0 counts
    kl = sum(0.5 * (math.log(0.5) - math.log(p + 1e-6)) for p in (0.8, 0.2))
    assert math.isclose(
        MomentTextDistillLoss()(attn, similarity, moment).item(), kl / 2,
        rel_tol=1e-5)
    value = MomentTextDistillLoss()(attn, similarity, torch.zeros(1, 2))
    assert value == 0 and not torch.isnan(value)


def test_orthogonal_dummy_by_hand():
    dummies = torch.tensor([[[1., 0.], [1., 1.]]])
    # off-diagonal |cos| = 1/sqrt(2) twice over a 2x2 matrix
    off = 2 * (1 / math.sqrt(2)) / 4
    loss = OrthogonalDummyLoss()
    assert math.isclose(
        loss(dummies, torch.eye(2)).item(), off, rel_tol=1e-6)
    assert math.isclose(
        loss(dummies, torch.tensor([[1., 0.], [2., 0.]])).item(), off + 0.5,
        rel_tol=1e-6)
    # a single dummy: only the global tokens count
    assert loss(torch.ones(1, 1, 2), torch.eye(2)) == 0


# ---------------------------------------------------------------- targets
def test_clip_targets_qvhighlights_and_window_styles():
    sample = temporal_sample(
        windows=((2., 8.), ), duration=10.,
        relevant_clip_ids=np.array([1, 2, 3]),
        saliency_scores=np.array([[1, 1, 1], [4, 4, 2], [0, 1, 0]]))
    targets = clip_targets(sample, num_clips=5, clip_length=2.)
    assert targets.labels.tolist() == [0., 3., 10., 1., 0.]
    # hard pair (best vs worst relevant clip), then random relevant vs
    # random irrelevant
    assert targets.pos[0] == 2 and targets.neg[0] == 3
    assert targets.pos[1] in (1, 2, 3) and targets.neg[1] in (0, 4)
    # 1-s clips read the 2-s GT clip at their center
    fine = clip_targets(sample, num_clips=10, clip_length=1.)
    assert fine.labels.tolist() == [0, 0, 3, 3, 10, 10, 1, 1, 0, 0]

    charades = temporal_sample(windows=((2.5, 6.2), (0., 1.)), duration=10.)
    targets = clip_targets(charades, num_clips=5, clip_length=2.)
    assert targets.labels.tolist() == [0., 1., 1., 0., 0.]
    assert sorted(targets.pos.tolist()) == [1, 2]
    assert set(targets.neg.tolist()) <= {0, 3, 4}
    assert len(set(targets.neg.tolist())) == 2
    none = clip_targets(temporal_sample(windows=()), 4, 2.)
    assert none.labels.sum() == 0 and none.pos.numel() == 0


def test_saliency_to_clips():
    saliency = torch.tensor([1., 2., 3., 4.])  # 4 clips of 2.5 s
    # 2-s clips centred at 1, 3, 5, 7, 9 s fall in clips 0, 1, 2, 2, 3
    assert saliency_to_clips(saliency, 2.5, 10., 2.).tolist() == [
        1., 2., 3., 3., 4.]
    assert saliency_to_clips(saliency, 2., 8., 2.) is saliency
    assert saliency_to_clips(saliency, 2.5, 10., None) is saliency


# ---------------------------------------------------------------- sources
def test_npz_feature_sources_read_release_layout(tmp_path):
    for name, dims in (('slowfast', 3), ('clip', 2)):
        (tmp_path / name).mkdir()
        feats = np.arange(4 * dims, dtype=np.float32).reshape(4, dims) + 1
        np.savez(tmp_path / name / 'vidA.npz', features=feats)
    (tmp_path / 'text').mkdir()
    np.savez(tmp_path / 'text' / 'qid7.npz',
             last_hidden_state=np.ones((40, 6), np.float32),
             pooler_output=np.ones(6, np.float32))
    sample = temporal_sample(vid='vidA', qid=7)
    video = MODELS.build(
        dict(type='NpzVideoFeatures',
             roots=[str(tmp_path / 'slowfast'), str(tmp_path / 'clip')],
             dims=5, max_clips=3))
    (clips, ), (length, ) = video({}, [sample])
    assert clips.shape == (3, 5) and length == 2.0
    # each root L2-normalised, then concatenated
    assert torch.allclose(clips[:, :3].norm(dim=1), torch.ones(3))
    assert torch.allclose(clips[0, 3:],
                          torch.tensor([1., 2.]) / math.sqrt(5))
    text = MODELS.build(
        dict(type='NpzTextFeatures', root=str(tmp_path / 'text'), dims=6))
    (words, ) = text({}, [sample])
    assert words.shape == (32, 6)  # max_len 32 (CG-DETR QVHighlights)
    assert torch.allclose(words.norm(dim=1), torch.ones(32))
    # the video id falls back to the file name of video_path
    other = TPODataSample(metainfo=dict(video_path='/x/vidA.mp4'))
    assert video({}, [other])[0][0].shape == (3, 5)
    with pytest.raises(FileNotFoundError):
        video({}, [temporal_sample(vid='missing')])
    with pytest.raises(ValueError):
        MODELS.build(dict(type='NpzVideoFeatures',
                          roots=str(tmp_path / 'clip'), dims=7))(
                              {}, [sample])

    # a head reading only files needs no model input
    head = build_head(
        cgdetr_cfg(
            video_features=dict(
                type='NpzVideoFeatures',
                roots=[str(tmp_path / 'slowfast'),
                       str(tmp_path / 'clip')], dims=5),
            text_features=dict(type='NpzTextFeatures',
                               root=str(tmp_path / 'text'), dims=6)))
    assert head.extra_inputs == ()
    losses = head.loss(embeddings(1), {}, [sample])
    assert all(torch.isfinite(v) for v in losses.values())


def test_mllm_and_hash_sources():
    inputs = mllm_inputs(2)
    source = MODELS.build(dict(type='MLLMVideoFeatures', normalize=False))
    assert source.extra_inputs == ('visual_tokens', 'frames')
    clips, lengths = source(inputs, [None, None])
    expected = inputs['visual_tokens'].reshape(2, FRAMES, TOKENS,
                                               VISION_DIMS).mean(2)
    assert torch.allclose(torch.stack(clips), expected)
    assert lengths == [None, None]
    hashed = MODELS.build(TEXT)
    ids = hashed.word_ids('The red circle, the RED circle!')
    assert len(ids) == 6 and ids[:3] == ids[3:]
    feats, = hashed({}, [temporal_sample(query='red circle')])
    assert feats.shape == (2, 8)
    empty, = hashed({}, [temporal_sample(query='')])
    assert empty.shape == (0, 8)
    llm = MODELS.build(dict(type='MLLMTextFeatures'))
    assert llm.extra_inputs == ('visual_embeds', )


@MODELS.register_module(force=True)
class _ToyTextEncoder(nn.Module):
    """A registered text encoder for the online-source test."""

    def __init__(self, vocab_size: int = 2048, embed_dims: int = 6) -> None:
        super().__init__()
        self.embed_dims = embed_dims
        self.embed = nn.Embedding(vocab_size, embed_dims)

    def forward(self, input_ids, attention_mask):
        return self.embed(input_ids)


def test_online_encoder_sources():
    video = MODELS.build(
        dict(type='EncoderVideoFeatures',
             encoder=dict(type='VideoViT', img_size=8, patch_size=4,
                          num_frames=FRAMES, embed_dims=12, depth=1,
                          num_heads=2)))
    assert video.extra_inputs == ('frames', ) and video.out_dims == 12
    assert not any(p.requires_grad for p in video.parameters())
    clips, _ = video(mllm_inputs(2), [None, None])
    assert clips[0].shape == (FRAMES, 12)
    text = MODELS.build(
        dict(type='EncoderTextFeatures',
             encoder=dict(type='_ToyTextEncoder'),
             tokenizer=dict(type='SyntheticWorldTokenizer')))
    words = text({}, [temporal_sample(query='red circle'),
                      temporal_sample(query='the red circle moves')])
    assert [w.shape for w in words] == [(2, 6), (4, 6)]


# ---------------------------------------------------------------- CG-DETR
def test_cgdetr_keys_follow_the_official_names():
    head = build_head(cgdetr_cfg())
    keys = set(head.state_dict())
    for key in ('cg_model.input_vid_proj.0.LayerNorm.weight',
                'cg_model.input_txt_proj.1.net.1.weight',
                'cg_model.transformer.t2v_encoder.layers.0.self_attn.'
                'out_proj.weight',
                'cg_model.transformer.decoder.layers.0.ca_qpos_proj.weight',
                'cg_model.transformer.decoder.layers.1.sa_qpos_proj.weight',
                'cg_model.transformer.encoder.layers.0.activation.weight',
                'cg_model.transformer.mcls_encoder.layers.0.self_attn.'
                'in_proj_weight', 'cg_model.txtproj_encoder.layers.0.'
                'linear1.weight', 'cg_model.scls_encoder.layers.0.norm2.bias',
                'cg_model.dummy_rep_token', 'cg_model.global_rep_pos',
                'cg_model.span_embed.layers.2.bias', 'project_down.weight'):
        assert key in keys
    # as the release: only the first decoder layer has ca_qpos_proj, the
    # T2V attention has no input projection
    assert 'cg_model.transformer.decoder.layers.1.ca_qpos_proj.weight' \
        not in keys
    assert not any('t2v_encoder.layers.0.self_attn.in_proj' in k
                   for k in keys)
    # TEF: 2 extra clip channels
    assert head.cg_model.input_vid_proj[0].LayerNorm.weight.shape == (
        VISION_DIMS + 2, )


def test_cgdetr_head_defaults_are_official():
    head = MODELS.build(
        dict(type='CGDETRHead', in_dims=IN_DIMS, vision_dims=VISION_DIMS))
    net = head.cg_model
    assert net.dims == 256 and net.num_queries == 10
    assert net.num_dummies == 45 and len(net.global_rep_token) == 10
    assert len(net.transformer.encoder.layers) == 3
    assert len(net.transformer.decoder.layers) == 3
    assert len(net.transformer.t2v_encoder.layers) == 2
    assert len(net.txtproj_encoder.layers) == 2
    assert len(net.scls_encoder.layers) == 1
    assert len(net.transformer.mcls_encoder.layers) == 1
    assert head.loss_span.loss_weight == 10 and head.loss_giou.loss_weight == 1
    assert head.loss_label.loss_weight == 4
    assert head.loss_saliency.loss_weight == 4
    with pytest.raises(ValueError, match='vision_dims'):
        MODELS.build(dict(type='CGDETRHead', in_dims=IN_DIMS))


def test_cgdetr_without_gt_span_losses_are_zero():
    head = build_head(cgdetr_cfg())
    samples = [temporal_sample(windows=(), vid='a'),
               temporal_sample(windows=(), vid='b')]
    losses = head.loss(embeddings(2), mllm_inputs(2), samples)
    for key, value in losses.items():
        assert torch.isfinite(value), key
        if key.endswith(('loss_span', 'loss_giou')):
            assert value == 0, key
    assert 'd0.loss_span' in losses


def test_cgdetr_with_one_gt_every_loss_is_positive_and_grads_flow():
    head = build_head(cgdetr_cfg())
    samples = [temporal_sample(windows=((2., 5.), ), vid='a'),
               temporal_sample(windows=((0., 3.), ), vid='b')]
    emb = embeddings(2)
    losses = head.loss(emb, mllm_inputs(2), samples)
    assert set(losses) == {
        'loss_span', 'loss_giou', 'loss_label', 'd0.loss_span',
        'd0.loss_giou', 'd0.loss_label', 'loss_saliency', 'loss_ms_align',
        'loss_distill', 'loss_orthogonal_dummy'
    }
    for key, value in losses.items():
        assert value > 0, key
    sum(losses.values()).backward()
    assert all(e.grad is not None and e.grad.abs().sum() > 0 for e in emb)
    assert head.cg_model.query_embed.weight.grad.abs().sum() > 0


def test_cgdetr_predict_windows_and_saliency():
    head = build_head(cgdetr_cfg(window_round=None)).eval()
    samples = [temporal_sample(duration=8.), temporal_sample(duration=10.),
               temporal_sample(duration=8.)]
    emb = [e.detach() for e in embeddings(2)] + [torch.zeros(0, IN_DIMS)]
    head.predict(emb, mllm_inputs(3), samples)
    for sample in samples[:2]:
        windows, duration = sample.pred_windows, sample.duration
        assert windows.shape == (TINY['num_queries'], 3)
        assert (windows[:, 0] >= 0).all()
        assert (windows[:, 1] <= duration).all()
        assert (windows[:, 0] <= windows[:, 1]).all()
        assert (windows[:, 2] >= 0).all() and (windows[:, 2] <= 1).all()
        assert (windows[:-1, 2] >= windows[1:, 2]).all()  # best first
    # 4 clips of 2 s -> 4 scores; 4 clips of 2.5 s -> 5 scores of 2 s
    assert samples[0].pred_saliency.shape == (4, )
    assert samples[1].pred_saliency.shape == (5, )
    # no task token called: no window, zero saliency
    assert samples[2].pred_windows.shape == (0, 3)
    assert (samples[2].pred_saliency == 0).all()
    # the same sample alone gives the same windows (padding-independent)
    alone = temporal_sample(duration=8.)
    inputs = {k: v[:1] for k, v in mllm_inputs(3).items()}
    head.predict(emb[:1], inputs, [alone])
    assert torch.allclose(alone.pred_windows, samples[0].pred_windows,
                          atol=1e-5)
    # rounding to clip multiples (CG-DETR's round_multiple)
    head.window_round = 2.0
    head.predict(emb[:1], inputs, [alone])
    assert torch.equal(alone.pred_windows[:, :2] % 2,
                       torch.zeros_like(alone.pred_windows[:, :2]))


# ---------------------------------------------------------------- MLP head
def test_mlp_head_swaps_in_by_one_config_line():
    cfg = cgdetr_cfg()
    mlp_cfg = dict(cfg, type='MLPTemporalHead')
    head = build_head(mlp_cfg)
    assert type(head).__name__ == 'MLPTemporalHead'
    assert head.with_saliency  # vision_dims known: per-clip saliency
    assert head.extra_inputs == ('visual_tokens', 'frames')
    samples = [temporal_sample(windows=((2., 5.), (6., 8.))),
               temporal_sample(windows=((0., 3.), ))]
    emb = embeddings(2)
    losses = head.loss(emb, mllm_inputs(2), samples)
    assert set(losses) == {'loss_span', 'loss_giou', 'loss_saliency'}
    assert all(v > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert all(e.grad.abs().sum() > 0 for e in emb)
    head.eval().predict([e.detach() for e in emb], mllm_inputs(2), samples)
    windows = samples[0].pred_windows
    assert windows.shape == (1, 3)
    assert 0 <= windows[0, 0] <= windows[0, 1] <= 8.
    assert samples[0].pred_saliency.shape == (4, )
    # the type alone also works (no saliency without vision_dims)
    plain = build_head(dict(type='MLPTemporalHead'))
    assert not plain.with_saliency and plain.extra_inputs == ()
    zero = plain.loss(embeddings(1), {}, [temporal_sample(windows=())])
    assert all(v == 0 and not torch.isnan(v) for v in zero.values())
    with pytest.raises(TypeError, match='unexpected'):
        build_head(dict(type='MLPTemporalHead', hidden_dim=3))


def test_mlp_head_start_end_mode_by_hand():
    head = build_head(
        dict(type='MLPTemporalHead', hidden_dims=4, dropout=0.,
             span_coder=dict(type='SpanCoder', mode='xx'),
             loss_span=dict(type='SpanL1Loss', loss_weight=1.),
             loss_giou=dict(type='SpanGIoULoss', loss_weight=1.)))
    last = head.temporal_embed[-1]
    nn.init.zeros_(last.weight)
    with torch.no_grad():
        last.bias.copy_(torch.tensor([0., math.log(3)]))  # (0.5, 0.75)
    losses = head.loss(embeddings(1), {},
                       [temporal_sample(windows=((0., 4.), ), duration=8.)])
    # target (0, 0.5): L1 = (.5 + .25) / 2; GIoU of [.5,.75] vs [0,.5]:
    # IoU 0, hull .75, union .75 -> 0
    assert math.isclose(losses['loss_span'].item(), 0.375, rel_tol=1e-6)
    assert math.isclose(losses['loss_giou'].item(), 1.0, rel_tol=1e-6)


# ---------------------------------------------------------------- TPOModel
def _model_sample(windows=((2., 5.), ), vid='v0'):
    sample = temporal_sample(windows=windows, vid=vid, ori_shape=(32, 32),
                             conversation=[dict(
                                 question='when does the red circle move?',
                                 answer='it moves here <time_begin><temp>.')])
    return sample


def _model_batch(samples):
    gen = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (4, 3, 32, 32), generator=gen,
                            dtype=torch.uint8) for _ in samples]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('head_type', ['CGDETRHead', 'MLPTemporalHead'])
def test_tpo_model_trains_lora_through_the_temporal_head(head_type):
    torch.manual_seed(0)
    # the tiny vision encoder has embed_dims 48
    temporal = cgdetr_cfg(type=head_type, vision_dims=48)
    model = MODELS.build(tiny_model_cfg(heads=dict(
        region=dict(type='RegionHead', hidden_dims=32),
        temporal=temporal)))
    samples = [_model_sample(vid='a'), _model_sample(((0., 3.), ), 'b')]
    data = model.data_preprocessor(_model_batch(samples), True)
    losses = model(**data, mode='loss')
    temporal_losses = {k: v for k, v in losses.items()
                       if k.startswith('temporal.')}
    assert 'temporal.loss_span' in temporal_losses
    assert all(torch.isfinite(v) for v in losses.values())
    # the head's losses alone reach the LoRA weights and the task token
    sum(temporal_losses.values()).backward()
    grads = {n: p.grad for n, p in model.named_parameters()
             if p.requires_grad}
    lora = [g for n, g in grads.items() if 'lora_' in n]
    assert lora and any(g is not None and g.abs().sum() > 0 for g in lora)
    assert grads['task_tokens.tokens.temporal'].abs().sum() > 0
