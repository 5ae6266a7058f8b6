"""MVBench keeps each source's videos in its own folder."""
import json

from tpo.datasets import MVBenchDataset
from tpo.datasets.mvbench import MVBENCH_VIDEO_FOLDERS


def test_video_folders_per_task(tmp_path):
    row = dict(video='a.mp4', question='q?', candidates=['x', 'y'],
               answer='y')
    for name in ('action_antonym', 'custom'):
        (tmp_path / f'{name}.json').write_text(json.dumps([row]))
    dataset = MVBenchDataset(
        data_root=str(tmp_path), data_prefix=dict(video='video'),
        video_folders='official', lazy_init=False)
    paths = {dataset[i]['task_type']: dataset.get_data_info(i)['video_path']
             for i in range(len(dataset))}
    assert paths['action_antonym'] == str(
        tmp_path / 'video' / 'ssv2_video' / 'a.mp4')
    assert paths['custom'] == str(tmp_path / 'video' / 'a.mp4')
    assert len(MVBENCH_VIDEO_FOLDERS) == 20
