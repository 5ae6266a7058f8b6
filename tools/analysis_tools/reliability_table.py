"""Rerun the fault probes of docs/reliability.md and rewrite its table.

    python tools/analysis_tools/reliability_table.py \
        [--update docs/reliability.md]

Each row of the table is a fault (bad input, a hostile or damaged file, a
numerical fault), what tpo does about it, and the tests that show it. The
tests run here (one pytest process); their outcome and wall time go into
the table, which is printed and, with ``--update``, written between the
``<!-- fault-table -->`` markers of the page.
"""
import argparse
import os
import os.path as osp
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAFE = 'tests/test_engine/test_safe_loading.py'
GRADS = 'tests/test_engine/test_nonfinite_grads.py'
SKIPS = 'tests/test_engine/test_skipped_samples.py'
ANNS = 'tests/test_datasets/test_bad_annotations.py'
INPUTS = 'tests/test_apis/test_input_checks.py'
MARKER = '<!-- fault-table -->'

#: (fault, what happens, tests as ``file::function``)
FAULTS: List[Tuple[str, str, List[str]]] = [
    ('`.pth` carrying a pickle payload, read by `load_checkpoint_file`',
     '`UnsafeCheckpointError` naming the file, the refused object and the '
     'converter for a trusted file; the payload never runs',
     [f'{SAFE}::test_pth_payload_is_refused_naming_the_file']),
    ('the same through `load_from` and `--resume` of tools/train.py, '
     'tools/test.py, tools/demo.py `--checkpoint`, a `load_from` URL',
     'refused the same way before any work; the payload never runs',
     [f'{SAFE}::test_train_tool_load_from_and_resume_refuse_payloads',
      f'{SAFE}::test_test_tool_refuses_a_payload',
      f'{SAFE}::test_demo_checkpoint_refuses_a_payload',
      f'{SAFE}::test_load_from_url_refuses_a_payload']),
    ('DeepSpeed checkpoint folder carrying a payload (our reader, '
     "DeepSpeed's own `load_checkpoint` / resume, `zero_to_fp32`)",
     'refused naming the folder; DeepSpeed\'s `weights_only=False` loads '
     'run weights-only', [f'{SAFE}::test_deepspeed_folder_payload_is_refused',
                          f'{SAFE}::test_deepspeed_engine_readers_run_'
                          'weights_only']),
    ('converters (`zero_to_tpo`, `videochat_tpo_to_tpo`, `export_hf`) given '
     'a payload', 'refused naming the file; the payload never runs',
     [f'{SAFE}::test_converters_refuse_payloads']),
    ('a trusted old checkpoint holding an object of another class',
     'refused by name; `trusted_pickle_to_safetensors.py '
     '--trust-pickled-code` converts it once to safetensors',
     [f'{SAFE}::test_trusted_file_converts_once_then_loads']),
    ('what mmengine and DeepSpeed put in their checkpoints (history '
     'buffers, numpy values, `ConfigDict`, loss scaler...)',
     'loads (allow-list): resume and DeepSpeed folders work',
     [f'{SAFE}::test_what_mmengine_and_deepspeed_save_loads',
      'tests/test_engine/test_runner.py::'
      'test_resume_after_kill_is_bit_identical']),
    ('finite loss, NaN gradient (`OptimWrapper`, fp32 or bf16 autocast)',
     'stops before the optimizer step (and before clipping) naming the '
     'iteration and the parameters; the latest checkpoint stays the '
     'previous, finite one', [f'{GRADS}::test_tiny_model_stops_before_a_'
                              'nonfinite_step']),
    ('the advice of that error: `--resume --cfg-options '
     'optim_wrapper.nonfinite_grads=skip`',
     'the bad step is skipped with a warning and training goes on',
     [f'{GRADS}::test_the_advice_resumes_past_the_step']),
    ('non-finite gradients step after step in `skip` mode',
     'stops after `max_consecutive_skips` in a row',
     [f'{GRADS}::test_skipping_stops_after_too_many_in_a_row']),
    ('weights that turn NaN/inf some other way (an optimizer overflow, a '
     'strategy)', '`FiniteCheckpointHook` stops the run before that '
     'checkpoint is written or marked latest',
     [f'{GRADS}::test_nonfinite_weights_are_never_checkpointed']),
    ('NaN or infinite loss term', 'stops before the backward pass naming '
     'the iteration and the term',
     ['tests/test_engine/test_train_options.py::'
      'test_nan_loss_stops_before_the_update']),
    ('corrupt, empty and missing videos; 2 persistent dataloader workers',
     'each skip replaced, counted and listed in `skipped_samples.txt`; the '
     'logged count equals the list', [f'{SKIPS}::test_persistent_workers_'
                                      'report_every_skip']),
    ('more than `max_bad_share` of the samples unreadable',
     '`TooManyBadSamplesError` naming the share and the first bad files',
     [f'{SKIPS}::test_too_many_bad_samples_stop_the_run']),
    ('no readable sample at all', '`UnreadableDatasetError` naming the '
     'dataset and the files (not "Cannot find valid image after 1000!")',
     [f'{SKIPS}::test_a_dataset_without_readable_samples_names_them']),
    ('a box of zero size or outside its image',
     '`AnnotationError` naming the file, the record and the field',
     [f'{ANNS}::test_impossible_boxes_are_refused']),
    ('a box reaching past its image', 'clipped; the count is logged',
     [f'{ANNS}::test_boxes_past_the_image_are_clipped_and_counted']),
    ('a JSON / JSON-lines file cut mid-record',
     'error naming the line and column of the cut ("cut short?")',
     [f'{ANNS}::test_json_cut_mid_record_names_line_and_column']),
    ('bad records with `skip_bad_records=True` (reader) / '
     '`--skip-bad-records` (check_dataset.py)',
     'left out, counted and logged (off by default: the first one stops)',
     [f'{ANNS}::test_skip_bad_records_counts_and_logs',
      f'{ANNS}::test_dataset_checker_skip_bad_records']),
    ('an unreadable image or video', 'the message names the reader used '
     '(PIL, decord or pyav)',
     [f'{INPUTS}::test_read_errors_name_the_reader_used']),
    ('tools/demo.py with a missing video or checkpoint, or a reversed '
     '`--box` / `--gt-window`', 'exits naming it before the model is built',
     [f'{INPUTS}::test_demo_checks_inputs_before_the_model']),
    ('an empty LLM folder, one without weights, one with an unknown '
     '`model_type`', 'error naming the folder and what it must hold',
     [f'{INPUTS}::test_model_folders_that_cannot_load_name_what_they_lack']),
]


def run_tests(tests: List[str]) -> Dict[str, Tuple[str, float]]:
    """``{'file::name[param]': (outcome, seconds)}`` of one pytest run."""
    with tempfile.TemporaryDirectory() as tmp:
        report = osp.join(tmp, 'report.xml')
        env = dict(os.environ, PYTHONPATH=ROOT)
        subprocess.run(
            [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
             f'--junitxml={report}', *tests], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = {}
        for case in ET.parse(report).iter('testcase'):
            path = case.get('classname').replace('.', '/') + '.py'
            outcome = 'passed'
            for child in case:
                if child.tag in ('failure', 'error', 'skipped'):
                    outcome = {'failure': 'FAILED', 'error': 'ERROR'}.get(
                        child.tag, 'skipped')
            results[f'{path}::{case.get("name")}'] = (
                outcome, float(case.get('time', 0)))
        return results


def table(results: Dict[str, Tuple[str, float]]) -> str:
    lines = ['| fault | what tpo does | tests (outcome, wall time) |',
             '|---|---|---|']
    for fault, behaviour, tests in FAULTS:
        cells = []
        for test in tests:
            cases = [(name, r) for name, r in results.items()
                     if re.fullmatch(re.escape(test) + r'(\[.*\])?', name)]
            outcomes = sorted({outcome for _, (outcome, _) in cases}) or \
                ['not run']
            seconds = sum(t for _, (_, t) in cases)
            count = f' x{len(cases)}' if len(cases) > 1 else ''
            cells.append(f'`{test.split("::")[1]}`{count} '
                         f'({", ".join(outcomes)}, {seconds:.1f} s)')
        lines.append(f'| {fault} | {behaviour} | {"<br>".join(cells)} |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--update', metavar='PAGE',
                        help='rewrite the table between the markers of PAGE')
    args = parser.parse_args(argv)
    tests = sorted({test for _, _, names in FAULTS for test in names})
    results = run_tests(tests)
    text = table(results)
    print(text)
    if args.update:
        with open(args.update) as f:
            page = f.read()
        before, _, rest = page.partition(MARKER)
        _, _, after = rest.partition(MARKER)
        with open(args.update, 'w') as f:
            f.write(f'{before}{MARKER}\n{text}\n{MARKER}{after}')
    failed = [n for n, (outcome, _) in results.items() if outcome != 'passed']
    return 1 if failed or not results else 0


if __name__ == '__main__':
    sys.exit(main())
