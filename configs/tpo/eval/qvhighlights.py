# QVHighlights val (paper Table 4): moment retrieval mAP / R1 and highlight
# detection HL-mAP / HIT@1 as the official standalone_eval. The head's 1-s
# saliency is averaged into the benchmark's 2-s clips. For the test split
# (server), set `split = 'test'` and run tools/test.py with
# --submission-dir: it writes qvhighlights_submission.jsonl.
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/qvhighlights/'
clip_feature_root = 'data/clip_features/qvhighlights'
split = 'val'
# ---------------------------------------------------------------------------

model = dict(heads=dict(temporal=dict(saliency_clip_length=2.0)))
test_dataloader = dict(dataset=dict(
    type='QVHighlightsDataset', data_root=data_root,
    ann_file=f'highlight_{split}_release.jsonl',
    require_saliency=split != 'test',
    data_prefix=dict(video='videos'), source='qvhighlights', test_mode=True,
    pipeline=[
        dict(type='LoadClipFeatures', root=clip_feature_root),
        *_base_.test_pipeline
    ]))
test_evaluator = [dict(type='MomentRetrievalMetric', tasks=('temporal', ))]
