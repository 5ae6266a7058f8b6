"""Every per-benchmark evaluation config (configs/tpo/eval/) with a tiny
model: the configs whose formats the synthetic world (or a few hand-made
annotation lines over its videos) provides run 2 samples through their
reader, pipeline, model heads and metrics; the others (data formats without
a small stand-in here) build their metrics and resolve every registered
type."""
import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import TINY_CGDETR_HEAD, tiny_model_cfg
from tpo.datasets import tpo_collate
from tpo.registry import DATASETS, METRICS, MODELS, TRANSFORMS

init_default_scope('tpo')
EVAL = Path(__file__).resolve().parents[1] / 'configs' / 'tpo' / 'eval'
CONFIGS = sorted(p.stem for p in EVAL.glob('*.py'))
RUN = ('mvbench', 'qvhighlights', 'charades_sta', 'nextgqa', 'refcoco',
       'lasot', 'mevis')
CLIP_DIMS = 24


def tiny_model() -> dict:
    cfg = tiny_model_cfg(box_prompt_encoder=dict(type='BoxPromptEncoder'))
    cfg['heads'].update(
        temporal=dict(
            copy.deepcopy(TINY_CGDETR_HEAD),
            video_features=dict(type='SampleClipFeatures', dims=CLIP_DIMS),
            saliency_clip_length=None, window_round=1.0),
        mask=dict(type='SAM2MaskHead',
                  model_cfg='configs/sam2.1/sam2.1_hiera_t.yaml',
                  image_size=64, hidden_dims=32, track_prompt='box'))
    cfg['max_new_tokens'] = 3
    return cfg


def small_pipeline(pipeline: list) -> list:
    """The config's pipeline at the tiny model's input size."""
    out = []
    for step in copy.deepcopy(pipeline):
        if step['type'] in ('LoadVideoFrames', 'LoadImageSequence') and \
                step.get('num_frames', 1) > 1:
            step['num_frames'] = 4
        if step['type'] == 'ResizeFrames':
            step['size'] = (32, 32)
        out.append(step)
    return out


@pytest.fixture(scope='module')
def data(tiny_world, tmp_path_factory):
    """Roots of the hand-made annotations and the clip-feature cache."""
    root = tmp_path_factory.mktemp('eval_data')
    videos = sorted(os.listdir(os.path.join(tiny_world, 'videos')))[:2]
    feats = root / 'clip_features'
    feats.mkdir()
    rng = np.random.default_rng(0)
    for name in os.listdir(os.path.join(tiny_world, 'videos')):
        np.savez(feats / f'{os.path.splitext(name)[0]}.npz',
                 features=rng.standard_normal((4, CLIP_DIMS)))
    ids = [os.path.splitext(v)[0] for v in videos]
    # Charades-STA: "vid start end##query" + the durations csv
    (root / 'charades_sta_test.txt').write_text(
        ''.join(f'{v} 0.5 2.0##a shape moves\n' for v in ids))
    (root / 'Charades_v1_test.csv').write_text(
        'id,length\n' + ''.join(f'{v},4.0\n' for v in ids))
    # NExT-GQA: csv + gsub
    header = 'video_id,frame_count,width,height,question,answer,qid,type,' \
        'a0,a1,a2,a3,a4\n'
    rows = ''.join(f'{v},40,64,64,why does it move,it is pushed,{k},CW,'
                   'it is pushed,it falls,it rolls,it spins,it waits\n'
                   for k, v in enumerate(ids))
    (root / 'test.csv').write_text(header + rows)
    (root / 'gsub_test.json').write_text(json.dumps({
        v: dict(duration=4.0, fps=10, location={str(k): [[0.5, 2.0]]})
        for k, v in enumerate(ids)}))
    (root / 'map_vid_vidorID.json').write_text(
        json.dumps({v: v for v in ids}))
    return dict(root=str(root), world=tiny_world, feats=str(feats))


def point_at_data(name: str, cfg: Config, data: dict) -> dict:
    """The config's test dataset, pointed at the tiny data."""
    ds = copy.deepcopy(cfg.test_dataloader.dataset.to_dict())
    world, root = data['world'] + '/', data['root'] + '/'
    videos = dict(video=data['world'] + '/videos')
    if name == 'mvbench':
        ds.update(data_root=world, ann_file='mvbench', data_prefix=videos,
                  video_folders=None)
    elif name == 'qvhighlights':
        ds.update(data_root=world + 'qvhighlights', data_prefix=videos,
                  ann_file='highlight_val_release.jsonl')
    elif name in ('charades_sta', 'nextgqa'):
        ds.update(data_root=root, data_prefix=videos)
        if name == 'nextgqa':
            cfg.test_evaluator[0]['gsub_file'] = root + 'gsub_test.json'
    elif name == 'refcoco':
        ds.update(data_root=world, ann_file='refcoco/refs.json',
                  instances_file='refcoco/instances.json',
                  data_prefix=dict(video='refcoco/images'))
    elif name == 'lasot':
        ds.update(data_root=world + 'lasot')
    elif name == 'mevis':  # the world's MeViS clips are videos, not frames
        ds.update(data_root=world + 'mevis', data_prefix=videos,
                  ann_file='val/meta_expressions.json',
                  mask_file='val/mask_dict.json')
        ds['pipeline'] = [dict(type='LoadVideoFrames', num_frames=4,
                               sampling='uniform', on_error='raise')] + \
            ds['pipeline'][2:]
    for step in ds['pipeline']:
        if step['type'] == 'LoadClipFeatures':
            step['root'] = data['feats']
    ds['pipeline'] = small_pipeline(ds['pipeline'])
    return ds


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MODELS.build(tiny_model()).eval()


def test_every_benchmark_has_a_config():
    assert set(CONFIGS) == {
        'mvbench', 'videomme', 'mlvu', 'nextgqa', 'charades_sta',
        'qvhighlights', 'refcoco', 'refcoco_plus', 'refcocog', 'mevis',
        'ref_youtube_vos', 'lasot', 'got10k'}


@pytest.mark.parametrize('name', CONFIGS)
def test_config_resolves(name):
    cfg = Config.fromfile(str(EVAL / f'{name}.py'))
    assert cfg.model.prompt_template.type == 'VideoChatTPOPromptTemplate'
    ds = cfg.test_dataloader.dataset
    assert DATASETS.get(ds.type) is not None and ds.test_mode
    for step in ds.pipeline:
        assert TRANSFORMS.get(step['type']) is not None, step['type']
    for metric in cfg.test_evaluator:
        METRICS.build(metric)


@pytest.mark.parametrize('name', RUN)
def test_config_runs_two_samples(name, data, model):
    cfg = Config.fromfile(str(EVAL / f'{name}.py'))
    dataset = DATASETS.build(point_at_data(name, cfg, data))
    count = min(2, len(dataset))  # the tiny world has 1 LaSOT sequence
    samples = model.data_preprocessor(
        tpo_collate([dataset[i] for i in range(count)]), False)
    out = model(**samples, mode='predict')
    metrics = [METRICS.build(m) for m in cfg.test_evaluator]
    results = {}
    for metric in metrics:
        metric.dataset_meta = dataset.metainfo
        metric.process({}, [s.to_dict() for s in out])
        results.update(metric.evaluate(count))
    assert results and all(np.isfinite(v) for v in results.values()
                           if isinstance(v, float)), results
