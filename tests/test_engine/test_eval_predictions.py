"""tools/analysis_tools/eval_predictions.py: a tools/test.py dump scored
again without the model gives the same numbers; submission files are joined
with the config's ground truth; malformed files name file, record and
field."""
import copy
import json
import sys
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import CONFIGS, TINY_CGDETR_HEAD, tiny_model_cfg
from tests.tiny_runs import region_model_data

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools'))
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))
import eval_predictions  # noqa: E402
import test as test_tool  # noqa: E402

init_default_scope('tpo')


def tiny_test_cfg(world: str, work_dir: str) -> Config:
    cfg = region_model_data(
        Config.fromfile(str(CONFIGS / 'tpo/tiny_stage3.py')))
    cfg.model = tiny_model_cfg()
    cfg.model['heads']['temporal'] = copy.deepcopy(TINY_CGDETR_HEAD)
    cfg.load_from = None
    cfg.work_dir = work_dir
    cfg.test_dataloader.update(batch_size=2, num_workers=0,
                               persistent_workers=False)
    for source in cfg.test_dataloader.dataset.datasets:
        source.data_root = world
        source.world = dict(num_videos=dict(train=6, val=3), seed=0)
        source.dataset.data_root = world
        for t in source.dataset.pipeline:
            if t.type == 'ResizeFrames':
                t.size = (32, 32)
    cfg.test_evaluator = list(cfg.test_evaluator) + [
        dict(type='MomentRetrievalMetric', tasks=('temporal', ))]
    return cfg


@pytest.fixture(scope='module')
def tested(tiny_world, tmp_path_factory):
    import torch
    from safetensors.torch import save_file

    from tpo.registry import MODELS
    tmp = tmp_path_factory.mktemp('eval_predictions')
    cfg = tiny_test_cfg(tiny_world, str(tmp / 'work'))
    cfg_path = str(tmp / 'cfg.py')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp / 'model.safetensors')
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              ckpt)
    out = str(tmp / 'preds.pkl')
    submission = tmp / 'submission'
    metrics = test_tool.main([cfg_path, ckpt, '--work-dir',
                              str(tmp / 'test'), '--out', out,
                              '--submission-dir', str(submission)])
    return cfg_path, out, submission, metrics, tmp


def test_dump_scores_the_same(tested):
    cfg_path, out, _, metrics, tmp = tested
    again = eval_predictions.main([cfg_path, out, '--out',
                                   str(tmp / 'again.json')])
    assert set(again) == set(metrics)
    for key, value in metrics.items():
        assert again[key] == pytest.approx(value), key
    assert json.loads((tmp / 'again.json').read_text()) == \
        pytest.approx(again)


def test_qvhighlights_submission_is_joined_with_the_ground_truth(tested):
    cfg_path, _, submission, metrics, _ = tested
    again = eval_predictions.main(
        [cfg_path, str(submission / 'qvhighlights_submission.jsonl')])
    mr = {k: v for k, v in metrics.items() if k.startswith('qvhighlights/')}
    assert mr and {k: again[k] for k in mr} == pytest.approx(mr)


def test_malformed_files_name_file_record_and_field(tested, tmp_path):
    cfg_path = tested[0]
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps([{'task': 'region'}, {'pred_text': 'x'}]))
    with pytest.raises(eval_predictions.PredictionError,
                       match=r"bad.json record 1: field 'task' is missing"):
        eval_predictions.main([cfg_path, str(bad)])
    bad.write_text(json.dumps([{'task': 'region', 'pred_bboxes': [[0, 0, 1,
                                                                  1]]}]))
    with pytest.raises(eval_predictions.PredictionError,
                       match=r"bad.json record 0: .*gt_bboxes"):
        eval_predictions.main([cfg_path, str(bad)])
    rows = tmp_path / 'sub.jsonl'
    rows.write_text('{"qid": 123456789, "pred_relevant_windows": []}\n')
    with pytest.raises(eval_predictions.PredictionError,
                       match=r"sub.jsonl line 1: field 'qid' 123456789"):
        eval_predictions.main([cfg_path, str(rows)])
