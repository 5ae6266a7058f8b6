"""tools/analysis_tools/benchmark_data_pipeline.py on the tiny synthetic
world: one worker's throughput through the real training pipeline (decord,
16 sampled frames) and the data wait of tiny-model training iterations with
two workers (a smoke test: the shares are measured, not asserted)."""
import sys

from tests.conftest import CONFIGS

sys.path.insert(0, str(CONFIGS.parent / 'tools' / 'analysis_tools'))
import benchmark_data_pipeline  # noqa: E402


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
