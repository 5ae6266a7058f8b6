"""Wiring of every task head through the whole model: video -> vision
encoder -> connector -> LLM -> task token -> head.

The region and temporal heads overfit 8 training samples of the tiny world
(real pipelines of ``configs/tpo/tiny_all_heads.py``) to a near-perfect
metric in a bounded number of steps, answering by free generation; their
box / window changes when the video or the question changes. The mask
head's masks change with the video and the question. The miniature's SAM2
is random and frozen: its object-score head calls every frame empty, so
tracking boxes are zero whatever the input (the constant tracking AUC of
``docs/ablations.md``); that test is a strict xfail until a trained
stand-in SAM2 exists, and no mask head overfits here for the same reason.
"""
import copy

import numpy as np
import pytest
import torch

from tests.test_models.test_all_heads_e2e import (collate, model_cfg,
                                                  predict, reader_cfgs)
from tpo.models.heads.sam2_mask_head import SAM2_POSTPROCESSING
from tpo.models.task_modules.coders.span_coder import span_iou
from tpo.registry import DATASETS, MODELS

NUM_SAMPLES = 8
#: A box (pixels) or window (seconds) that moves by more than this changed;
#: the same input gives bit-identical predictions on CPU.
CHANGED = 1e-3
READER = dict(region='RefCOCODataset', temporal='QVHighlightsDataset',
              mask='MeViSDataset', track='LaSOTDataset')
#: SAM2 without its object-score gate: a random SAM2's object head scores
#: every frame below 0.5 whatever the prompt, so the gate empties every mask.
UNGATED_SAM2 = dict(SAM2_POSTPROCESSING, pred_obj_scores=False,
                    pred_obj_scores_mlp=False, fixed_no_obj_ptr=False)


def train_samples(world: str, task: str, count: int = NUM_SAMPLES) -> list:
    """The first ``count`` training samples of a task's reader (the train
    split, then the val split when the train split has fewer)."""
    np.random.seed(0)
    samples = []
    for loader in ('train_dataloader', 'test_dataloader'):
        cfg = reader_cfgs(loader, world)[READER[task]]
        if loader == 'test_dataloader':  # same targets as in training
            cfg['pipeline'] = reader_cfgs('train_dataloader',
                                          world)[READER[task]]['pipeline']
        dataset = DATASETS.build(cfg)
        samples += [dataset[i] for i in range(len(dataset))]
        if len(samples) >= count:
            return samples[:count]
    raise AssertionError(f'the tiny world has {len(samples)} {task} samples')


def one_head_model(task: str, **head_overrides) -> torch.nn.Module:
    """The tiny all-heads model with only ``task``'s head, every loss
    weighted 1."""
    cfg = model_cfg()
    head = dict(cfg['heads'][task], **head_overrides)
    weights = {k: 1.0 for k in cfg['loss_weights']
               if k in ('mllm', 'assign', 'heads')}
    if 'heads' in weights:  # each head weighs its losses itself
        head['loss_weight'] = 1.0
    else:  # the model weighs each task's losses
        weights[task] = 1.0
    cfg.update(heads={task: head}, loss_weights=weights)
    if task != 'mask':
        cfg.pop('box_prompt_encoder')
    torch.manual_seed(0)
    return MODELS.build(cfg)


def overfit(model, samples, steps: int, lr: float) -> list:
    """``steps`` AdamW steps on one batch of ``samples``; the total loss of
    every step."""
    data = model.data_preprocessor(collate(samples), True)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=lr)
    history = []
    model.train()
    for _ in range(steps):
        loss = sum(model(**data, mode='loss').values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    model.eval()
    return history


def predict_task(model, samples) -> list:
    """Free greedy generation and the heads of the tasks it calls (the
    LLM's hidden state at the generated task token is the head's task
    embedding)."""
    data = model.data_preprocessor(
        collate([copy.deepcopy(s) for s in samples]), False)
    with torch.no_grad():
        return model(**data, mode='predict')


def other_sample(samples: list) -> dict:
    """The first sample whose frames and question both differ from those
    of ``samples[0]``."""
    first = samples[0]
    question = first['data_samples'].conversation[0]['question']
    return next(
        s for s in samples[1:]
        if not torch.equal(s['inputs'], first['inputs'])
        and s['data_samples'].conversation[0]['question'] != question)


def with_video_of(sample: dict, other: dict) -> dict:
    """``sample`` with the frames of ``other``."""
    return dict(sample, inputs=other['inputs'].clone())


def with_question_of(sample: dict, other: dict) -> dict:
    """``sample`` with the question (and query) of ``other``."""
    data_sample = copy.deepcopy(sample['data_samples'])
    source = other['data_samples']
    meta = dict(conversation=[
        dict(turn, question=o['question']) for turn, o in zip(
            data_sample.conversation, source.conversation)])
    if 'query' in source:
        meta['query'] = source.query
    data_sample.set_metainfo(meta)
    return dict(sample, data_samples=data_sample)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> float:
    """IoU of two xyxy boxes."""
    lt, rb = torch.maximum(a[:2], b[:2]), torch.minimum(a[2:], b[2:])
    inter = (rb - lt).clamp(min=0).prod()
    union = (a[2:] - a[:2]).prod() + (b[2:] - b[:2]).prod() - inter
    return float(inter / union)


# ---------------------------------------------------------------- region
@pytest.fixture(scope='module')
def region_fit(tiny_world):
    samples = train_samples(tiny_world, 'region')
    model = one_head_model('region')
    history = overfit(model, samples, steps=150, lr=3e-3)
    return model, samples, history


def test_region_head_overfits_8_samples(region_fit):
    model, samples, history = region_fit
    assert history[-1] < 0.1 * history[0]
    preds = predict_task(model, samples)
    ious = [box_iou(p.pred_bboxes[0], p.gt_bboxes[0].float())
            for p in preds]
    assert all(p.pred_task == '<box_begin>' for p in preds)
    assert np.mean(np.array(ious) >= 0.5) >= 7 / 8, ious


def test_region_box_changes_with_video_and_query(region_fit):
    model, samples, _ = region_fit
    a, b = samples[0], other_sample(samples)
    base, video, query = (
        p.pred_bboxes[0] for p in predict_task(
            model, [a, with_video_of(a, b), with_question_of(a, b)]))
    # The 8 questions tell the samples apart, so the overfit model leans on
    # the question more than on the frames (a box moves by hundredths of a
    # pixel with the video): both must reach the head (a head blind to its
    # input gives identical boxes).
    assert (base - video).abs().max() > CHANGED, (base, video)
    assert (base - query).abs().max() > CHANGED, (base, query)


# ---------------------------------------------------------------- temporal
@pytest.fixture(scope='module')
def temporal_fit(tiny_world):
    samples = train_samples(tiny_world, 'temporal')
    head = model_cfg()['heads']['temporal']
    no_dropout = dict(dropout=0.0, input_dropout=0.0)
    if 'transformer' in head:  # CG-DETR built from its own config
        model = one_head_model(
            'temporal', transformer=dict(head['transformer'], **no_dropout))
    else:
        model = one_head_model('temporal', **no_dropout)
    history = overfit(model, samples, steps=200, lr=2e-3)
    return model, samples, history


def top_window_iou(sample) -> float:
    top = sample.pred_windows[:1, :2].float()
    gt = torch.as_tensor(sample.gt_windows, dtype=torch.float32)
    return float(span_iou(top, gt)[0].max())


def test_temporal_head_overfits_8_samples(temporal_fit):
    model, samples, history = temporal_fit
    assert history[-1] < 0.5 * history[0]
    preds = predict_task(model, samples)
    ious = [top_window_iou(p) for p in preds]
    assert np.mean(np.array(ious) >= 0.5) >= 7 / 8, ious


def test_temporal_window_changes_with_video_and_query(temporal_fit):
    model, samples, _ = temporal_fit
    a, b = samples[0], other_sample(samples)
    base, video, query = (
        p.pred_windows[0, :2] for p in predict_task(
            model, [a, with_video_of(a, b), with_question_of(a, b)]))
    assert (base - video).abs().max() > CHANGED, (base, video)
    assert (base - query).abs().max() > CHANGED, (base, query)


# ---------------------------------------------------------------- mask, track
def scripted_predict(model, samples) -> list:
    """Predictions of an untrained model made to generate the mask task's
    begin token."""
    tok = model.tokenizer
    script = [tok.convert_tokens_to_ids('<track_begin>'), tok.eos_token_id]
    model.eval()
    with torch.no_grad():
        return predict(model, [copy.deepcopy(s) for s in samples],
                       [script] * len(samples))


def with_prompt_box_of(sample: dict, other: dict) -> dict:
    """A tracking ``sample`` with the first box of ``other``."""
    data_sample = copy.deepcopy(sample['data_samples'])
    data_sample.prompt_bboxes = other['data_samples'].prompt_bboxes.clone()
    return dict(sample, data_samples=data_sample)


def test_mask_changes_with_video_and_query(tiny_world):
    """Through the whole model to SAM2's masks (random SAM2, ungated)."""
    samples = train_samples(tiny_world, 'mask', count=4)
    model = one_head_model('mask', sam_overrides=UNGATED_SAM2)
    a, b = samples[0], other_sample(samples)
    base, video, query = (p.pred_masks for p in scripted_predict(
        model, [a, with_video_of(a, b), with_question_of(a, b)]))
    assert base.any()
    assert (base ^ video).sum() > 0.01 * base.numel()
    assert (base ^ query).sum() > 0.001 * base.numel()


@pytest.mark.xfail(
    strict=True, raises=AssertionError,
    reason='the random frozen SAM2 of the miniature calls every frame '
    'object-absent for any prompt of the untrained adapter: masks empty, '
    'tracking boxes all zero, whatever the video or the first box (the '
    'constant tracking AUC, docs/miniature.md); needs a trained stand-in '
    'SAM2')
def test_track_boxes_change_with_video_and_first_box(tiny_world):
    samples = train_samples(tiny_world, 'track', count=3)
    model = one_head_model('mask')
    # tracking questions are all alike: the first box is the query
    a = samples[0]
    b = next(s for s in samples[1:]
             if not torch.equal(s['inputs'], a['inputs'])
             and not torch.equal(s['data_samples'].prompt_bboxes,
                                 a['data_samples'].prompt_bboxes))
    base, video, box = (p.pred_track_bboxes for p in scripted_predict(
        model, [a, with_video_of(a, b), with_prompt_box_of(a, b)]))
    assert (base - video).abs().max() > 1, (base, video)
    assert (base - box).abs().max() > 1, (base, box)
