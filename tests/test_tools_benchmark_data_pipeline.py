"""tools/analysis_tools/benchmark_data_pipeline.py on the tiny synthetic
world: one worker's throughput through the real training pipeline (decord,
16 sampled frames) and the data wait of tiny-model training iterations with
two workers (the shares are measured, not asserted); each sample opens its
video once, asks the decoder for the sampled frames only and re-reads no
annotation file."""
import sys

import pytest

from tests.conftest import CONFIGS

sys.path.insert(0, str(CONFIGS.parent / 'tools' / 'analysis_tools'))
import benchmark_data_pipeline  # noqa: E402


@pytest.mark.parametrize('backend', ['decord', 'pyav'])
def test_each_sample_opens_its_video_once(tiny_world, backend):
    result = benchmark_data_pipeline.main([
        str(CONFIGS / 'tpo/tiny_stage3.py'), '--world', tiny_world,
        '--world-size', '6', '3', '--num-frames', '16', '--samples', '20',
        '--backend', backend, '--skip-training'])
    readers = result['per_worker']['readers']
    assert {'refcoco', 'qvhighlights'} <= set(readers)
    for name, reader in readers.items():
        # the annotation files were read when the datasets were built
        opened = reader['per_sample']
        assert opened['other_files'] == 0, (name, result['per_worker'][
            'other_files'])
        if name == 'refcoco':  # a still image, read once and repeated
            assert (opened['images'], opened['videos']) == (1, 0)
        elif name == 'lasot':  # a folder of frames: one image per frame
            assert (opened['images'], opened['videos']) == (16, 0)
        else:
            assert (opened['videos'], opened['images']) == (1, 0), name
            if backend == 'decord':  # only the sampled frames are asked
                assert opened['frames'] == 16


def test_pipeline_throughput_and_data_wait(tiny_world):
    result = benchmark_data_pipeline.main([
        str(CONFIGS / 'tpo/tiny_stage3.py'), '--world', tiny_world,
        '--world-size', '6', '3', '--num-frames', '16', '--samples', '12',
        '--batch-size', '2', '--workers', '2', '--iters', '3', '--warmup',
        '1'])
    assert result['num_frames'] == 16
    worker = result['per_worker']
    assert worker['samples'] == 12 and worker['samples_per_s'] > 0
    # decoding is the pipeline's main cost; every stage is timed
    assert {'LoadVideoFrames', 'ResizeFrames', 'PackTPOInputs'} <= set(
        worker['stages'])
    assert abs(sum(worker['stages'].values()) - 1) < 0.05
    assert set(worker['readers']) <= {'refcoco', 'qvhighlights', 'mevis',
                                      'videochat2_it', 'mvbench'}
    wait = result['wait']
    assert wait['workers'] == 2 and wait['iterations'] == 3
    assert 0 <= wait['wait_share'] < 1
    assert wait['wait_ms_median'] <= wait['iteration_ms_median']
