"""NExT-GQA end to end: the reader's multiple-choice items carry a grounding
request, the tiny model answers the question *and* returns a window from its
temporal head, and NExTGQAMetric scores both."""
import copy
import csv
import json
import os

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from tests.conftest import TINY_CGDETR_HEAD, tiny_model_cfg
from tpo.datasets import NExTGQADataset, tpo_collate
from tpo.evaluation.metrics import NExTGQAMetric
from tpo.registry import MODELS

init_default_scope('tpo')
PIPELINE = [
    dict(type='LoadVideoFrames', num_frames=4, sampling='uniform',
         on_error='raise'),
    dict(type='ResizeFrames', size=(32, 32)),
    dict(type='FormatTaskConversation', train=False),
    dict(type='PackTPOInputs'),
]


@pytest.fixture(scope='module')
def nextgqa_root(tiny_world, tmp_path_factory):
    root = tmp_path_factory.mktemp('nextgqa')
    videos = sorted(os.listdir(os.path.join(tiny_world, 'videos')))[:2]
    rows, gsub = [], {}
    for k, name in enumerate(videos):
        video_id = os.path.splitext(name)[0]
        rows.append(dict(video_id=video_id, frame_count=40, width=64,
                         height=64, question=f'why does shape {k} move',
                         answer='it is pushed', qid=str(k), type='CW',
                         a0='it is pushed', a1='it falls', a2='it rolls',
                         a3='it spins', a4='it waits'))
        gsub[video_id] = dict(duration=4.0, fps=10,
                              location={str(k): [[0.5, 2.0]]})
    with open(root / 'val.csv', 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (root / 'gsub_val.json').write_text(json.dumps(gsub))
    os.symlink(os.path.join(tiny_world, 'videos'), root / 'videos')
    return str(root)


def test_multiple_choice_samples_return_windows(nextgqa_root):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(
        heads=dict(temporal=copy.deepcopy(TINY_CGDETR_HEAD)))).eval()
    dataset = NExTGQADataset(
        data_root=nextgqa_root, ann_file='val.csv',
        gsub_file='gsub_val.json', data_prefix=dict(video='videos'),
        pipeline=PIPELINE, test_mode=True)
    assert dataset.get_data_info(0)['grounding_question'].startswith(
        'Localize the visual content described by the given textual query '
        'why does shape 0 move')
    batch = model.data_preprocessor(
        tpo_collate([dataset[0], dataset[1]]), False)
    samples = model(**batch, mode='predict', max_new_tokens=2)
    for sample in samples:
        assert sample.pred_windows.shape == (5, 3)
        start, end, _ = sample.pred_windows[0].tolist()
        assert 0 <= start <= end <= sample.duration
    # Another grounding question moves the window: the head reads it.
    before = samples[0].pred_windows.clone()
    batch = model.data_preprocessor(tpo_collate([dataset[0]]), False)
    batch['data_samples'][0].set_metainfo(dict(
        grounding_question='find the moment when nothing happens',
        query='nothing happens'))
    again = model(**batch, mode='predict', max_new_tokens=2)[0]
    assert not torch.allclose(again.pred_windows, before)

    metric = NExTGQAMetric()
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [s.to_dict() for s in samples])
    out = metric.compute_metrics(metric.results)
    assert set(out) >= {'Acc@QA', 'Acc@GQA', 'mIoP', 'IoP@0.3', 'IoP@0.5',
                        'mIoU'}
    ious = [np.clip(min(2.0, s.pred_windows[0, 1].item()) -
                    max(0.5, s.pred_windows[0, 0].item()), 0, None)
            for s in samples]
    assert (out['mIoP'] > 0) == (sum(ious) > 0)


def test_metric_counts_samples_without_windows():
    metric = NExTGQAMetric(per_type=False)
    sample = dict(task='mcq', qid='v_0', candidates=['a', 'b'],
                  gt_answer='(A) a', pred_text='A',
                  gt_windows=np.array([[0., 1.]]))
    metric.process({}, [sample])
    out = metric.compute_metrics(metric.results)
    assert out['Acc@QA'] == 100.0 and out['Acc@GQA'] == 0.0
    assert out['mIoP'] == 0.0
