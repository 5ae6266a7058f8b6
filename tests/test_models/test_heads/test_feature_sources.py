"""Feature sources of the temporal heads."""

import pytest
import torch
from torch import nn

from tests.test_models.temporal_helpers import (FRAMES, TEXT, TOKENS,
                                                VISION_DIMS, build_head,
                                                cgdetr_cfg, embeddings,
                                                mllm_inputs, temporal_sample)
from tpo.registry import MODELS


def test_sample_sources_read_the_packed_features():
    sample = temporal_sample(vid='vidA', qid=7)
    sample.clip_features = torch.arange(15.).reshape(3, 5) + 1
    sample.query_features = torch.ones(4, 6)
    video = MODELS.build(dict(type='SampleClipFeatures', dims=5,
                              clip_length=2.0))
    (clips, ), (length, ) = video({}, [sample])
    assert torch.equal(clips, sample.clip_features) and length == 2.0
    # normalised and cut like CG-DETR's loader; no clip length: the
    # video's duration split evenly (None)
    cut = MODELS.build(dict(type='SampleClipFeatures', dims=5,
                            normalize=True, max_clips=2))
    (clips, ), (length, ) = cut({}, [sample])
    assert length is None and clips.shape == (2, 5)
    assert torch.allclose(clips.norm(dim=1), torch.ones(2))
    assert torch.allclose(clips[0], sample.clip_features[0] /
                          sample.clip_features[0].norm())
    text = MODELS.build(dict(type='SampleQueryFeatures', dims=6))
    (words, ) = text({}, [sample])
    assert torch.equal(words, sample.query_features)
    # a missing field names the tool and the pipeline step to add
    with pytest.raises(KeyError, match='extract_clip_features.*'
                       'LoadClipFeatures'):
        video({}, [temporal_sample()])
    with pytest.raises(KeyError, match='LoadQueryFeatures'):
        text({}, [temporal_sample()])
    with pytest.raises(ValueError, match=r'\(3, 5\).*expected \(L >= 1, 7\)'):
        MODELS.build(dict(type='SampleClipFeatures', dims=7))({}, [sample])

    # a head reading only precomputed features needs no model input
    head = build_head(
        cgdetr_cfg(
            video_features=dict(type='SampleClipFeatures', dims=5),
            text_features=dict(type='SampleQueryFeatures', dims=6)))
    assert head.extra_inputs == ()
    sample.gt_windows = torch.tensor([[2., 5.]])
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


@MODELS.register_module(force=True)
class _ToyStringEncoder(nn.Module):
    """A text encoder that reads strings: one row per word, its length."""

    def __init__(self, pretrained=None) -> None:
        super().__init__()
        self.out_dims = 1
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, queries):
        return [torch.tensor([[float(len(w))] for w in q.split()]) *
                self.scale for q in queries]


def test_online_encoder_sources():
    video = MODELS.build(
        dict(type='EncoderVideoFeatures',
             encoder=dict(type='VideoViT', img_size=8, patch_size=4,
                          num_frames=FRAMES, embed_dims=12, depth=1,
                          num_heads=2)))
    assert video.extra_inputs == ('frames', ) and video.out_dims == 12
    assert video.frozen_submodules == ('encoder', )
    clips, _ = video(mllm_inputs(2), [None, None])
    assert clips[0].shape == (FRAMES, 12)
    assert not clips[0].requires_grad  # a frozen encoder runs without grad
    text = MODELS.build(
        dict(type='EncoderTextFeatures',
             encoder=dict(type='_ToyTextEncoder'),
             tokenizer=dict(type='SyntheticWorldTokenizer')))
    words = text({}, [temporal_sample(query='red circle'),
                      temporal_sample(query='the red circle moves')])
    assert [w.shape for w in words] == [(2, 6), (4, 6)]
    # an encoder that reads the query strings itself (as the release's
    # InternVideo2CLIPText) needs no tokenizer
    strings = MODELS.build(dict(type='EncoderTextFeatures',
                                encoder=dict(type='_ToyStringEncoder'),
                                normalize=False))
    words = strings({}, [temporal_sample(query='red circle')])
    assert torch.equal(words[0], torch.tensor([[3.], [6.]]))
    assert strings.pretrained_submodules == ()


def test_a_head_declares_the_frozen_encoders_of_its_sources():
    encoder = dict(type='VideoViT', img_size=8, patch_size=4,
                   num_frames=FRAMES, embed_dims=12, depth=1, num_heads=2)
    head = build_head(cgdetr_cfg(video_features=dict(
        type='EncoderVideoFeatures', encoder=encoder)))
    assert head.frozen_submodules == ('video_features.encoder', )
    trained = build_head(cgdetr_cfg(video_features=dict(
        type='EncoderVideoFeatures', encoder=encoder, frozen=False)))
    assert trained.frozen_submodules == ()
    assert build_head(cgdetr_cfg()).frozen_submodules == ()


def test_a_head_declares_the_pretrained_encoders_of_its_sources():
    """A frozen encoder built from its own ``pretrained`` weights is left
    out of the model's checkpoints (``pretrained_submodules``); a trained
    one is not."""
    text = dict(type='EncoderTextFeatures',
                encoder=dict(type='_ToyStringEncoder', pretrained='w.pt'))
    head = build_head(cgdetr_cfg(text_features=text))
    assert head.pretrained_submodules == ('text_features.encoder', )
    assert head.frozen_submodules == ('text_features.encoder', )
    trained = build_head(cgdetr_cfg(text_features=dict(text, frozen=False)))
    assert trained.pretrained_submodules == ()
    assert build_head(cgdetr_cfg()).pretrained_submodules == ()
