# GOT-10k (paper Table 9): the test split is scored by the server from
# tools/test.py CONFIG CKPT --submission-dir DIR (DIR/tracking.zip of
# <seq>/<seq>_001.txt + <seq>_time.txt, got10k-toolkit's layout);
# `split = 'val'` scores AO / SR0.5 / SR0.75 locally as got10k-toolkit.
_base_ = ['./lasot.py']

# ---------------------------------------------------------------- settings
data_root = 'data/got10k/'
split = 'test'
# ---------------------------------------------------------------------------

test_dataloader = dict(dataset=dict(
    layout='got10k', data_root=f'{data_root}{split}/', ann_file='list.txt',
    source='got10k'))
test_evaluator = [
    dict(type='TrackingSubmission', tasks=('track', ), layout='got10k',
         out_dir='work_dirs/got10k_submission')
] if split == 'test' else [
    dict(type='TrackingMetric', tasks=('track', ), protocol='got10k')
]
