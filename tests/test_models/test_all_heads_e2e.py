"""All three heads end to end: the real data pipelines of
``configs/tpo/tiny_stage3.py`` on the tiny synthetic world, through
TPOModel (loss and predict) to the metrics. Tracking (LaSOT) is routed to the
SAM2 mask head with the mask task's tokens and a ``<track_box>`` prompt."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

pytest.importorskip('sam2')

from tests.conftest import CONFIGS, tiny_model_cfg  # noqa: E402
from tpo.datasets.mevis import decode_masks  # noqa: E402
from tpo.datasets.transforms import (FormatTaskConversation,  # noqa: E402
                                     ListFramePaths, SelectTrackTargets)
from tpo.registry import DATASETS, METRICS, MODELS  # noqa: E402
from tpo.structures.masks import rle_to_mask  # noqa: E402
from tpo.tasks import BOX_PROMPT_TOKEN, OFFICIAL_TOKEN_ORDER  # noqa: E402

init_default_scope('tpo')
CFG = Config.fromfile(str(CONFIGS / 'tpo/tiny_stage3.py'))
SIZE = 32  # the frames of tiny_model_cfg's vision encoder
NUM_FRAMES = CFG.num_frames
READERS = ('RefCOCODataset', 'QVHighlightsDataset', 'MeViSDataset',
           'LaSOTDataset')
TASK_OF = dict(RefCOCODataset='region', QVHighlightsDataset='temporal',
               MeViSDataset='mask', LaSOTDataset='track',
               VideoChat2ITDataset='chat')


# ---------------------------------------------------------------- helpers
def reader_cfgs(loader: str, world: str) -> dict:
    """The configured readers of a dataloader (wrappers removed), pointed at
    the tiny world, frames resized for the tiny encoder."""
    out = {}
    for source in CFG[loader].dataset.datasets:
        if source.type == 'RepeatDataset':
            source = source.dataset
        cfg = copy.deepcopy(source.dataset.to_dict())
        cfg['data_root'] = cfg['data_root'].replace(CFG.data_root,
                                                    world.rstrip('/') + '/')
        for transform in cfg['pipeline']:
            if transform['type'] == 'ResizeFrames':
                transform['size'] = (SIZE, SIZE)
        out[cfg['type']] = cfg
    return out


def load_samples(loader: str, world: str, readers) -> list:
    """Sample 0 of each reader through its real pipeline."""
    np.random.seed(0)
    cfgs = reader_cfgs(loader, world)
    datasets = [DATASETS.build(cfgs[name]) for name in readers]
    return [dataset[0] for dataset in datasets], datasets


def collate(packed: list) -> dict:
    return dict(inputs=[p['inputs'] for p in packed],
                data_samples=[p['data_samples'] for p in packed])


def model_cfg() -> dict:
    """The tiny-all-heads model, shrunk like ``tiny_model_cfg``."""
    heads = CFG.model.heads.to_dict()
    heads['region'] = tiny_model_cfg()['heads']['region']
    return tiny_model_cfg(
        heads=heads,
        box_prompt_encoder=CFG.model.box_prompt_encoder.to_dict(),
        loss_weights=CFG.model.loss_weights.to_dict(),
        frozen_modules=tuple(CFG.model.frozen_modules))


class ScriptedLLM(torch.nn.Module):
    """Greedy decoding emits, per sample, the tokens of its script."""

    def __init__(self, llm, scripts):
        super().__init__()
        self.llm, self.scripts, self.step = llm, scripts, 0

    def get_input_embeddings(self):
        return self.llm.get_input_embeddings()

    def forward(self, **kwargs):
        out = self.llm(**kwargs)
        for i, script in enumerate(self.scripts):
            if self.step < len(script):
                out.logits[i, :, script[self.step]] += 1e4
        self.step += 1
        return out


def predict(model, samples, scripts):
    data = model.data_preprocessor(collate(samples), False)
    real = model.llm
    model.llm = ScriptedLLM(real, scripts)
    try:
        return model(**data, mode='predict')
    finally:
        model.llm = real


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MODELS.build(model_cfg())


@pytest.fixture(scope='module')
def train_data(tiny_world):
    return load_samples('train_dataloader', tiny_world,
                        READERS + ('VideoChat2ITDataset', ))


@pytest.fixture(scope='module')
def test_data(tiny_world):
    return load_samples('test_dataloader', tiny_world, READERS)


# ---------------------------------------------------------------- units
def test_track_sample_takes_the_mask_tokens_and_a_box_placeholder():
    results = FormatTaskConversation(train=False)(
        dict(task='track', sample_idx=2))
    turn = results['conversation'][0]
    assert BOX_PROMPT_TOKEN in turn['question']
    assert turn['answer'] == 'The trajectory is <track_begin><tracking>.'
    assert results['gt_task'] == '<track_begin>'
    # a model without the mask task does not serve tracking
    model = MODELS.build(tiny_model_cfg(tasks=('region', )))
    assert model.head_task('track') == 'track'
    assert model.head_task('region') == 'region'
    assert set(model.tasks) == {'region'}


def test_select_track_targets_keeps_the_sampled_rows():
    xywh = np.array([[1, 1, 2, 2], [3, 4, 5, 6], [7, 8, 9, 10],
                     [0, 0, 0, 0]], np.float32)
    xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)
    results = SelectTrackTargets()(dict(
        frame_inds=np.array([1, 3]), gt_track_bboxes=xywh,
        gt_bboxes_xyxy=xyxy, absent=np.array([0, 0, 0, 1], np.uint8)))
    np.testing.assert_array_equal(results['gt_track_bboxes'], xywh[[1, 3]])
    np.testing.assert_array_equal(results['absent'], [0, 1])
    np.testing.assert_array_equal(results['prompt_bboxes'], [[3, 4, 8, 10]])
    assert results['track_box'] == BOX_PROMPT_TOKEN
    with pytest.raises(ValueError, match='inside its 4 annotated'):
        SelectTrackTargets()(dict(frame_inds=np.array([4]),
                                  gt_bboxes_xyxy=xyxy))
    with pytest.raises(ValueError, match='starts at frame 2'):
        SelectTrackTargets()(dict(frame_inds=np.array([2]),
                                  gt_bboxes_xyxy=xyxy[:1],
                                  first_box_only=True))


def test_frame_paths_of_a_sequence_follow_its_gt_rows():
    results = ListFramePaths()(dict(frame_dir='/s/img', num_frames=3))
    assert results['image_paths'] == [
        '/s/img/00000001.jpg', '/s/img/00000002.jpg', '/s/img/00000003.jpg']


def test_model_aliases_and_token_order(model):
    assert model.head_task('track') == 'mask'
    assert model.head_task('mcq') == 'mcq'
    ids = model.tokenizer.convert_tokens_to_ids(list(OFFICIAL_TOKEN_ORDER))
    assert ids == list(range(ids[0], ids[0] + len(OFFICIAL_TOKEN_ORDER)))
    with pytest.raises(KeyError, match="'tracking' is not in the tpo::task"):
        MODELS.build(tiny_model_cfg(tasks=('region', 'tracking')))


# ---------------------------------------------------------------- pipeline
def test_pipelines_pack_what_heads_and_metrics_read(train_data, test_data):
    for packed, datasets in (train_data, test_data):
        samples = [p['data_samples'] for p in packed]
        for sample, dataset, inputs in zip(samples, datasets,
                                           [p['inputs'] for p in packed]):
            assert sample.task == TASK_OF[type(dataset).__name__]
            assert inputs.shape == (NUM_FRAMES, 3, SIZE, SIZE)
        mevis, lasot = samples[2], samples[3]
        # MeViS: the RLEs of every video frame and the sampled frames
        assert len(mevis.frame_inds) == NUM_FRAMES
        assert len(mevis.mask_rles[0]) == len(
            datasets[2].get_data_info(0)['frame_names'])
        assert mevis.conversation[0]['answer'].endswith(
            '<track_begin><tracking>.')
        # LaSOT: the GT rows of the sampled frames and the first one's box
        item = datasets[3].get_data_info(0)
        inds = np.asarray(lasot.frame_inds)
        assert len(inds) == NUM_FRAMES and item['num_frames'] > NUM_FRAMES
        assert torch.equal(lasot.gt_track_bboxes,
                           torch.from_numpy(item['gt_track_bboxes'][inds]))
        np.testing.assert_array_equal(lasot.absent, item['absent'][inds])
        assert lasot.prompt_bboxes.shape == (1, 4)
        assert torch.equal(lasot.prompt_bboxes[0], torch.from_numpy(
            item['gt_bboxes_xyxy'][inds[0]]))
        assert tuple(lasot.ori_shape) != (SIZE, SIZE)  # original pixels
        turn = lasot.conversation[0]
        assert turn['question'].count(BOX_PROMPT_TOKEN) == 1
        assert turn['answer'] == 'The trajectory is <track_begin><tracking>.'
        assert lasot.gt_task == '<track_begin>'
    # test time: the masks of the sampled frames for ReferringVOSMetric
    mevis = test_data[0][2]['data_samples']
    shape = tuple(mevis.mask_rles[0][0]['size']) if mevis.mask_rles[0][0] \
        else tuple(mevis.ori_shape)
    expected = decode_masks(mevis.mask_rles, shape, mevis.frame_inds)
    assert mevis.gt_masks.dtype == torch.bool
    assert mevis.gt_masks.shape == (NUM_FRAMES, *shape)
    assert torch.equal(mevis.gt_masks, torch.from_numpy(expected))
    assert mevis.gt_masks.any()


# ---------------------------------------------------------------- model
def test_loss_reaches_all_three_heads(model, train_data):
    packed, _ = train_data
    data = model.data_preprocessor(collate(packed), True)
    routed = {}
    mask_loss = model.heads.mask.loss

    def spy(embeddings, inputs, samples):
        routed['tasks'] = [s.task for s in samples]
        routed['embeddings'] = [len(e) for e in embeddings]
        return mask_loss(embeddings, inputs, samples)

    model.heads.mask.loss = spy
    try:
        model.train()
        model.zero_grad()
        losses = model(**data, mode='loss')
    finally:
        del model.heads.mask.loss
    # the MeViS and the LaSOT sample both reach the mask head, one task
    # embedding each
    assert routed == dict(tasks=['mask', 'track'], embeddings=[1, 1])
    assert {'loss_mllm', 'loss_assign', 'region.loss_bbox', 'region.loss_iou',
            'temporal.loss_span', 'temporal.loss_giou', 'temporal.loss_label',
            'mask.loss_distill'} <= set(losses)
    for key, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value), key
    for key in ('region.loss_bbox', 'temporal.loss_span',
                'mask.loss_distill', 'loss_assign', 'loss_mllm'):
        assert losses[key] > 0, key
    sum(losses.values()).backward()
    grads = {n: p.grad for n, p in model.named_parameters()
             if p.requires_grad}
    lora = [g for n, g in grads.items() if 'lora_' in n]
    assert lora and any(g is not None and g.abs().sum() > 0 for g in lora)
    for task in ('region', 'temporal', 'mask'):
        assert grads[f'task_tokens.tokens.{task}'].abs().sum() > 0, task
    for name in ('heads.mask.adapter', 'heads.temporal.project_down',
                 'heads.region.mlp', 'box_prompt_encoder.mlp'):
        assert any(g is not None and g.abs().sum() > 0
                   for n, g in grads.items() if n.startswith(name)), name
    # SAM2 stays frozen
    assert not any(p.requires_grad for p in model.heads.mask.sam.parameters())
    model.zero_grad()


def test_predict_and_metrics(model, test_data):
    packed, _ = test_data
    tok = model.tokenizer
    scripts = [[tok.convert_tokens_to_ids(model.tasks[task].begin),
                tok.eos_token_id]
               for task in ('region', 'temporal', 'mask', 'mask')]
    model.eval()
    region, temporal, mevis, lasot = predict(model, packed, scripts)

    assert [s.pred_task for s in (region, temporal, mevis, lasot)] == [
        '<box_begin>', '<time_begin>', '<track_begin>', '<track_begin>']
    height, width = region.ori_shape
    assert region.pred_bboxes.shape == (1, 4)
    box = region.pred_bboxes[0]
    assert 0 <= box[0] <= box[2] <= width and 0 <= box[1] <= box[3] <= height
    assert temporal.pred_windows.shape == (
        model.heads.temporal.cg_model.num_queries, 3)
    windows = temporal.pred_windows
    assert (windows[:, 0] >= 0).all()
    assert (windows[:, 0] <= windows[:, 1]).all()
    assert (windows[:, 1] <= temporal.duration + 1e-4).all()
    for sample in (mevis, lasot):
        height, width = sample.ori_shape
        assert sample.pred_masks.shape == (NUM_FRAMES, height, width)
        assert sample.pred_masks.dtype == torch.bool
        assert len(sample.pred_mask_rles) == NUM_FRAMES
        for rle, bitmap in zip(sample.pred_mask_rles, sample.pred_masks):
            assert np.array_equal(rle_to_mask(rle), bitmap.numpy())
        assert sample.pred_track_bboxes.shape == (NUM_FRAMES, 4)
        # SAM2 ran (object-presence probabilities; the empty output of an
        # uncalled task has zeros)
        assert (sample.pred_mask_scores > 0).all()
    assert mevis.pred_masks.shape == mevis.gt_masks.shape
    assert lasot.pred_track_bboxes.shape == lasot.gt_track_bboxes.shape

    samples = [s.to_dict() for s in (region, temporal, mevis, lasot)]
    ranges = dict(
        ReferringBoxAccuracy=('refcoco/Acc@0.5', ),
        TemporalGroundingRecall=('temporal/R@1,IoU=0.5',
                                 'temporal/R@1,IoU=0.7'),
        ReferringVOSMetric=('rvos/J', 'rvos/F', 'rvos/J&F'),
        TrackingMetric=('tracking/AUC', 'tracking/P@20', 'tracking/P_norm'),
        TaskAssignAccuracy=('task_assign/Acc', ))
    evaluators = {cfg['type']: cfg for cfg in CFG.test_evaluator}
    for name, keys in ranges.items():
        metric = METRICS.build(evaluators[name])
        metric.process(None, samples)
        assert len(metric.results) == (4 if name == 'TaskAssignAccuracy'
                                       else 1), name
        scores = metric.evaluate(len(metric.results))
        for key in keys:
            assert 0 <= scores[key] <= 100, (key, scores)
    task_assign = METRICS.build(evaluators['TaskAssignAccuracy'])
    task_assign.process(None, samples)
    assert task_assign.evaluate(4)['task_assign/Acc'] == 100

    # The packed ground truth is that of the sampled frames: predicting it
    # scores perfectly (LaSOT success counts IoU > t for t up to 1: 20/21).
    mevis, lasot = samples[2], samples[3]
    oracle = [dict(mevis, pred_masks=mevis['gt_masks']),
              dict(lasot, pred_track_bboxes=lasot['gt_track_bboxes'])]
    rvos = METRICS.build(evaluators['ReferringVOSMetric'])
    rvos.process(None, oracle)
    assert rvos.evaluate(1)['rvos/J&F'] == pytest.approx(100)
    tracking = METRICS.build(evaluators['TrackingMetric'])
    tracking.process(None, oracle)
    scores = tracking.evaluate(1)
    assert scores['tracking/P@20'] == pytest.approx(100)
    assert scores['tracking/AUC'] == pytest.approx(100 * 20 / 21)


def test_track_sample_gets_boxes_without_a_task_call(model, test_data):
    """No ``<track_begin>`` generated: the mask head still answers the
    tracking sample, with empty masks and zero boxes per sampled frame."""
    packed, _ = test_data
    model.eval()
    (lasot, ) = predict(model, [packed[3]], [[model.tokenizer.eos_token_id]])
    assert lasot.pred_task == 'none'
    assert lasot.pred_track_bboxes.shape == (NUM_FRAMES, 4)
    assert not lasot.pred_track_bboxes.any()
    assert lasot.pred_masks.shape[0] == NUM_FRAMES
    assert not lasot.pred_masks.any()
    assert not lasot.pred_mask_scores.any()
