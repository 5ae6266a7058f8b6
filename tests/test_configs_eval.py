"""Every per-benchmark evaluation config (configs/tpo/eval/) runs 2 samples
with a tiny model through its reader, pipeline, model heads and metrics, on
the synthetic world or on a few hand-made annotation lines in the
benchmark's official format over the world's videos and frames; the
configs scored by a server write their submission in the official
layout."""
import copy
import json
import os
import zipfile
from glob import glob
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from tests.conftest import TINY_CGDETR_HEAD, tiny_model_cfg
from tpo.datasets import tpo_collate
from tpo.registry import DATASETS, METRICS, MODELS, TRANSFORMS

init_default_scope('tpo')
EVAL = Path(__file__).resolve().parents[1] / 'configs' / 'tpo' / 'eval'
CONFIGS = sorted(p.stem for p in EVAL.glob('*.py'))
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
                  image_size=64, hidden_dims=32, track_prompt='box',
                  full_video=dict(type='SAM2FullVideoInference',
                                  chunk_size=8)))
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
    write_videomme(root / 'videomme', ids)
    write_mlvu(root / 'mlvu', tiny_world, videos)
    write_ref_youtube_vos(root / 'ref_youtube_vos', tiny_world)
    write_got10k_test(root / 'got10k' / 'test', tiny_world)
    return dict(root=str(root), world=tiny_world, feats=str(feats),
                out=str(root / 'submissions'))


def write_videomme(root: Path, ids: list) -> None:
    """The Hugging Face parquet (lmms-lab/Video-MME): one row a question,
    the video is data/{videoID}.mp4."""
    rows = [
        dict(video_id=f'{k + 1:03d}', duration='short', domain='Knowledge',
             sub_category='Humanity & History',
             url=f'https://www.youtube.com/watch?v={v}', videoID=v,
             question_id=f'{k + 1:03d}-1', task_type='Counting Problem',
             question='How many shapes are there?',
             options=['A. 1.', 'B. 2.', 'C. 3.', 'D. 4.'], answer='BC'[k])
        for k, v in enumerate(ids)]
    (root / 'videomme').mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows),
                   root / 'videomme' / 'test-00000-of-00001.parquet')


def write_mlvu(root: Path, world: str, videos: list) -> None:
    """MLVU-Dev: json/N_task.json lists, videos in video/N_task/; the
    generation task (8_sub_scene) is not multiple choice."""
    tasks = {'1_plotQA': 'plotQA', '4_count': 'count',
             '8_sub_scene': 'subPlot'}
    for (stem, kind), video in zip(tasks.items(), videos * 2):
        record = dict(video=video, duration=10, question='What moves?',
                      question_type=kind)
        if kind == 'subPlot':
            record.update(answer='A shape moves.', scoring_points=['moves'])
        else:
            record.update(candidates=['a circle', 'a square', 'a cross'],
                          answer='a square')
        (root / 'json').mkdir(parents=True, exist_ok=True)
        (root / 'json' / f'{stem}.json').write_text(json.dumps([record]))
        (root / 'video' / stem).mkdir(parents=True)
        os.symlink(os.path.join(world, 'videos', video),
                   root / 'video' / stem / video)


def write_ref_youtube_vos(root: Path, world: str) -> None:
    """The valid split's meta_expressions.json over the world's MeViS frame
    folders: every 5th frame listed (as the release), no obj_id."""
    frames = os.path.join(world, 'mevis', 'val', 'JPEGImages')
    videos = {}
    for vid in sorted(os.listdir(frames))[:2]:
        names = sorted(os.path.splitext(f)[0]
                       for f in os.listdir(os.path.join(frames, vid)))
        videos[vid] = dict(
            expressions={'0': dict(exp='a shape moving left and right'),
                         '1': dict(exp='the object that stays still')},
            frames=names[::5])
    meta = root / 'meta_expressions' / 'valid'
    meta.mkdir(parents=True)
    (meta / 'meta_expressions.json').write_text(
        json.dumps(dict(videos=videos)))
    os.symlink(frames, root / 'JPEGImages')


def write_got10k_test(root: Path, world: str) -> None:
    """GOT-10k test: list.txt and, per sequence, its frames and only the
    first frame's 0-based x,y,w,h; made from the world's LaSOT sequences
    (1-based boxes)."""
    names = []
    for k, folder in enumerate(sorted(glob(f'{world}/lasot/*/*-*'))[:2]):
        name = f'GOT-10k_Test_{k + 1:06d}'
        (root / name).mkdir(parents=True)
        for frame in os.listdir(os.path.join(folder, 'img')):
            os.symlink(os.path.join(folder, 'img', frame), root / name / frame)
        with open(os.path.join(folder, 'groundtruth.txt')) as f:
            x, y, w, h = (float(v) for v in f.readline().split(','))
        (root / name / 'groundtruth.txt').write_text(
            f'{x - 1:.4f},{y - 1:.4f},{w:.4f},{h:.4f}\n')
        names.append(name)
    (root / 'list.txt').write_text(''.join(f'{n}\n' for n in names))


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
    elif name == 'videomme':
        ds.update(data_root=root + 'videomme', data_prefix=videos)
    elif name == 'mlvu':
        ds.update(data_root=root + 'mlvu')
    elif name == 'ref_youtube_vos':
        ds.update(data_root=root + 'ref_youtube_vos',
                  data_prefix=dict(video='JPEGImages'))
        cfg.test_evaluator[0]['out_dir'] = data['out'] + '/ref_youtube_vos'
    elif name == 'got10k':
        ds.update(data_root=root + 'got10k/test/')
        cfg.test_evaluator[0]['out_dir'] = data['out'] + '/got10k'
    elif name in ('refcoco', 'refcoco_plus', 'refcocog'):  # one format
        ds.update(data_root=world, ann_file='refcoco/refs.json',
                  instances_file='refcoco/instances.json',
                  data_prefix=dict(video='refcoco/images'))
    elif name == 'lasot':
        ds.update(data_root=world + 'lasot')
    elif name == 'mevis':  # the world's MeViS clips are videos, not frames
        ds.update(data_root=world + 'mevis', data_prefix=videos,
                  video_ext='.mp4',
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


@pytest.mark.parametrize('name', CONFIGS)
def test_config_runs_two_samples(name, data, model):
    cfg = Config.fromfile(str(EVAL / f'{name}.py'))
    dataset = DATASETS.build(point_at_data(name, cfg, data))
    assert len(dataset) >= 2
    samples = model.data_preprocessor(
        tpo_collate([dataset[i] for i in range(2)]), False)
    out = [s.to_dict() for s in model(**samples, mode='predict')]
    metrics = [METRICS.build(m) for m in cfg.test_evaluator]
    results = {}
    for metric in metrics:
        metric.dataset_meta = dataset.metainfo
        metric.process({}, out)
        results.update(metric.evaluate(2))
    if name in SUBMISSIONS:  # scored by a server: no number here
        assert results == {}
        SUBMISSIONS[name](cfg.test_evaluator[0]['out_dir'], out, dataset)
    else:
        assert results and all(np.isfinite(v) for v in results.values()
                               if isinstance(v, float)), results


def check_mask_submission(out_dir: str, samples: list, dataset) -> None:
    """Ref-YouTube-VOS: Annotations/<vid>/<exp_id>/<frame name>.png, one
    0/255 PNG at the frame's size per predicted frame, named by the frame
    names of meta_expressions.json (with the full-video mask head: every
    listed frame), zipped from Annotations/."""
    expected = set()
    for index, sample in enumerate(samples):
        frame_names = dataset.get_data_info(index)['frame_names']
        inds = sample.get('pred_frame_inds', sample['frame_inds'])
        names = [frame_names[i] for i in inds]
        expected |= {f'Annotations/{sample["vid"]}/{sample["exp_id"]}/'
                     f'{n}.png' for n in names}
    with zipfile.ZipFile(os.path.join(out_dir, 'submission.zip')) as zf:
        assert set(zf.namelist()) == expected
    for path in expected:
        with Image.open(os.path.join(out_dir, path)) as image:
            assert image.size == (128, 128) and image.mode == 'L'
            assert set(np.unique(np.asarray(image))) <= {0, 255}


def check_got10k_submission(out_dir: str, samples: list, dataset) -> None:
    """GOT-10k (got10k-toolkit): <seq>/<seq>_001.txt, one x,y,w,h line per
    predicted frame (and <seq>_time.txt with the full-video mask head),
    zipped from the sequence folders into <out_dir>.zip."""
    expected = set()
    for sample in samples:
        seq = sample['sequence']
        rows = np.loadtxt(os.path.join(out_dir, seq, f'{seq}_001.txt'),
                          delimiter=',', ndmin=2)
        np.testing.assert_allclose(
            rows, sample['pred_track_bboxes'].numpy(), atol=1e-4)
        expected.add(f'{seq}/{seq}_001.txt')
        if 'pred_track_seconds' in sample:
            expected.add(f'{seq}/{seq}_time.txt')
    with zipfile.ZipFile(out_dir + '.zip') as zf:
        assert set(zf.namelist()) == expected


SUBMISSIONS = dict(ref_youtube_vos=check_mask_submission,
                   got10k=check_got10k_submission)
