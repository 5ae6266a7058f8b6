"""The head-vs-text speed benchmark runs both paths on the same model (a
smoke test: timings are not asserted)."""
import sys

from tests.conftest import CONFIGS

sys.path.insert(0, str(CONFIGS.parent / 'tools'))
from analysis_tools import benchmark_head_vs_text  # noqa: E402


def test_benchmark_decodes_the_textualized_box(capsys):
    result = benchmark_head_vs_text.main(
        ['--config', str(CONFIGS / 'tpo/tiny_stage3.py'), '--repeats', '2',
         '--warmup', '1'])
    # '[0.12,0.31,0.56,0.78]': brackets, commas and one token per character
    assert result['text'] == '[0.12,0.31,0.56,0.78]'
    assert result['text_tokens'] == 21
    assert result['head_ms'] > 0 and result['text_ms'] > 0
    assert result['ratio'] == result['text_ms'] / result['head_ms']
    out = capsys.readouterr().out
    assert 'prefill + 22 steps' in out and 'ratio text / head' in out
