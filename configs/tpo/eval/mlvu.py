# MLVU-Dev multiple choice (paper Table 2): the official prompt
# ("\nOnly give the best option.", "Best option:(") and answer check; reports
# the accuracy per task and their mean (M-Avg).
_base_ = ['../videochat_tpo_release.py',
          '../../_base_/datasets/videochat_tpo_eval.py']

# ---------------------------------------------------------------- settings
data_root = 'data/mlvu/'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    type='MLVUDataset', data_root=data_root, ann_file='json',
    data_prefix=dict(video='video'), source='mlvu', test_mode=True,
    pipeline=_base_.test_pipeline))
test_evaluator = [dict(type='MLVUAccuracy', sources=['mlvu'])]
