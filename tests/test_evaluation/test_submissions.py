"""Official submission files written by tools/test.py --submission-dir."""
import json

import numpy as np
import torch
from PIL import Image

from tpo.datasets.transforms import PackTPOInputs
from tpo.evaluation.metrics import (MaskSubmission, QVHighlightsSubmission,
                                    TrackingSubmission)


def run(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_qvhighlights_rows(tmp_path):
    out = tmp_path / 'sub.jsonl'
    samples = [
        dict(task='temporal', qid=7, query='a red circle', vid='v1',
             pred_windows=torch.tensor([[2., 6., .9], [10., 14., .3]]),
             pred_saliency=torch.tensor([.1, .8, .2])),
        dict(task='temporal', qid=3, query='a cross', vid='v2'),
        dict(task='region', qid=9),
    ]
    assert run(QVHighlightsSubmission(str(out)), samples) == {}
    rows = [json.loads(line) for line in out.open()]
    assert [r['qid'] for r in rows] == [3, 7]  # sorted, region left out
    assert rows[0]['pred_relevant_windows'] == []  # nothing predicted
    assert rows[1] == dict(
        qid=7, query='a red circle', vid='v1',
        pred_relevant_windows=[[2.0, 6.0, 0.8999999761581421],
                               [10.0, 14.0, 0.30000001192092896]],
        pred_saliency_scores=[0.10000000149011612, 0.800000011920929,
                              0.20000000298023224])


def test_tracking_result_files(tmp_path):
    boxes = np.array([[1.5, 2., 10., 20.], [3., 4., 10., 20.]])
    run(TrackingSubmission(str(tmp_path)),
        [dict(task='track', sequence='cat-1', pred_track_bboxes=boxes)])
    lines = (tmp_path / 'cat-1.txt').read_text().split()
    assert lines == ['1.5000,2.0000,10.0000,20.0000',
                     '3.0000,4.0000,10.0000,20.0000']
    assert np.allclose(np.loadtxt(tmp_path / 'cat-1.txt', delimiter=','),
                       boxes)


def test_mask_pngs_named_by_frame(tmp_path):
    masks = np.zeros((2, 4, 5), dtype=bool)
    masks[0, 1:3, 2:4] = True
    run(MaskSubmission(str(tmp_path)),
        [dict(task='mask', vid='v9', exp_id='0', pred_masks=masks,
              frame_inds=[0, 3], frame_names=['a', 'b', 'c', 'd']),
         dict(task='mask', vid='v9', exp_id='1')])
    folder = tmp_path / 'Annotations' / 'v9' / '0'
    assert sorted(p.name for p in folder.iterdir()) == ['a.png', 'd.png']
    png = np.array(Image.open(folder / 'a.png'))
    assert png.dtype == np.uint8 and set(np.unique(png)) == {0, 255}
    assert np.array_equal(png == 255, masks[0])
    assert not (tmp_path / 'Annotations' / 'v9' / '1').exists()


def test_packed_mask_sample_keeps_frame_names(tmp_path):
    """Ref-YouTube-VOS lists every 5th frame ('00000', '00005', ...): the
    packed sample must carry frame_names, else the PNG of clip frame 1 would
    be named '00001' and the server would not find frame '00005'."""
    names = [f'{5 * k:05d}' for k in range(4)]
    packed = PackTPOInputs()(dict(
        frames=np.zeros((2, 4, 5, 3), dtype=np.uint8), task='mask',
        vid='v9', exp_id='0', frame_names=names,
        frame_inds=np.array([0, 1])))['data_samples']
    assert packed.frame_names == names
    sample = dict(packed.to_dict(),
                  pred_masks=np.ones((2, 4, 5), dtype=bool))
    run(MaskSubmission(str(tmp_path)), [sample])
    folder = tmp_path / 'Annotations' / 'v9' / '0'
    assert sorted(p.name for p in folder.iterdir()) == ['00000.png',
                                                       '00005.png']
