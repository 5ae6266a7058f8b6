"""Impossible annotations are refused (or counted and skipped on request),
naming the file, the record and the field (issue 15): boxes without area or
outside their image, boxes reaching past the image (clipped and counted),
JSON cut mid-record (line and column), ``skip_bad_records`` on the readers
and ``--skip-bad-records`` on the dataset checker."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from tpo.datasets import AnnotationError, QVHighlightsDataset, RefCOCODataset
from tpo.datasets.annotation import load_json

ROOT = Path(__file__).resolve().parents[2]
GOOD_BOX = [10, 20, 30, 40]  # x, y, w, h in a 128x128 image


def refcoco_files(root: Path, boxes) -> dict:
    """A refs file and a COCO instances file: one 128x128 image, one ref
    per box."""
    images = [dict(id=1, file_name='a.jpg', height=128, width=128)]
    anns = [dict(id=i, image_id=1, bbox=box, category_id=1)
            for i, box in enumerate(boxes)]
    refs = [dict(ref_id=i, ann_id=i, image_id=1, split='train',
                 sentences=[dict(sent_id=i, sent=f'thing {i}')])
            for i in range(len(boxes))]
    (root / 'instances.json').write_text(
        json.dumps(dict(images=images, annotations=anns)))
    (root / 'refs.json').write_text(json.dumps(refs))
    return dict(data_root=str(root), ann_file='refs.json',
                instances_file='instances.json', split='train')


@pytest.mark.parametrize('box, problem', [
    ([10, 20, 0, 40], 'must be [x, y, w > 0, h > 0], got [10.0, 20.0, 0.0'),
    ([10, 20, -5, 40], 'must be [x, y, w > 0, h > 0]'),
    ([200, 20, 30, 40], '(200, 20, 230, 60 as x1, y1, x2, y2) lies outside '
     'its 128x128 image'),
    ([-50, -50, 20, 20], 'lies outside its 128x128 image'),
])
def test_impossible_boxes_are_refused(tmp_path, box, problem):
    files = refcoco_files(tmp_path, [GOOD_BOX, box])
    with pytest.raises(AnnotationError) as info:
        RefCOCODataset(**files)
    message = str(info.value)
    assert message.startswith(
        f"{tmp_path / 'instances.json'} annotations[1] (id=1): field 'bbox'")
    assert problem in message


def test_boxes_past_the_image_are_clipped_and_counted(tmp_path):
    files = refcoco_files(tmp_path, [GOOD_BOX, [100, 110, 50, 50]])
    dataset = RefCOCODataset(**files)
    assert dataset.num_clipped_boxes == 1
    np.testing.assert_array_equal(dataset[1]['gt_bboxes'],
                                  [[100, 110, 128, 128]])
    np.testing.assert_array_equal(dataset[0]['gt_bboxes'], [[10, 20, 40, 60]])


def test_skip_bad_records_counts_and_logs(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr('tpo.datasets.base.print_log',
                        lambda message, **kwargs: logged.append(message))
    files = refcoco_files(
        tmp_path, [GOOD_BOX, [10, 20, 0, 40], GOOD_BOX, [300, 0, 5, 5]])
    dataset = RefCOCODataset(skip_bad_records=True, **files)
    assert [item['ref_id'] for item in dataset] == [0, 2]
    assert len(dataset.parse_errors) == 2
    assert len(logged) == 1 and logged[0].startswith(
        'RefCOCODataset (refcoco): 2 bad annotation record(s) skipped '
        '(skip_bad_records=True), 2 items kept.')
    assert 'annotations[1]' in logged[0] and 'annotations[3]' in logged[0]
    with pytest.raises(AnnotationError):  # off by default
        RefCOCODataset(**files)


def test_json_cut_mid_record_names_line_and_column(tmp_path):
    good = dict(qid=1, query='q', vid='v', duration=10,
                relevant_windows=[[0, 2]], relevant_clip_ids=[0],
                saliency_scores=[[1, 2, 3]])
    cut = json.dumps(dict(good, qid=2))[:40]
    path = tmp_path / 'ann.jsonl'
    path.write_text(json.dumps(good) + '\n' + cut + '\n' + json.dumps(good))
    with pytest.raises(AnnotationError) as info:
        QVHighlightsDataset(ann_file=str(path))
    assert str(info.value).startswith(f'{path} line 2 column 41: invalid '
                                      'JSON')
    assert 'cut short' in str(info.value)
    whole = tmp_path / 'ann.json'
    whole.write_text('[\n  {"a": 1},\n  {"b": 2,\n')
    with pytest.raises(AnnotationError,
                       match=r'ann.json line 3 column 11: .*cut short'):
        load_json(str(whole))


def test_dataset_checker_skip_bad_records(tmp_path, capsys):
    files = refcoco_files(tmp_path, [GOOD_BOX, [10, 20, 0, 40]])
    config = tmp_path / 'check.py'
    Config(dict(train_dataloader=dict(dataset=dict(
        type='RefCOCODataset', pipeline=[], **files)))).dump(str(config))
    spec = importlib.util.spec_from_file_location(
        'check_dataset', ROOT / 'tools/dataset_converters/check_dataset.py')
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    assert check.main([str(config), '--no-files']) == 1
    out = capsys.readouterr().out
    assert "PROBLEM [train_dataloader.dataset (RefCOCODataset)]" in out
    assert check.main([str(config), '--no-files',
                       '--skip-bad-records']) == 0
    out = capsys.readouterr().out
    assert "SKIPPED [train_dataloader.dataset (RefCOCODataset)]" in out
    assert "field 'bbox' must be [x, y, w > 0, h > 0]" in out
    assert '1 items, OK, 1 bad record(s) skipped' in out
