"""A record of the samples a pipeline skipped (unreadable videos or
images), shared by the dataloader workers through one append-only file.

``SkippedSamplesHook`` names the file in the environment before the workers
start; the loading transforms append one line per skipped sample; the hook
counts the lines and reports them.
"""
import os
from typing import List

#: Environment variable holding the path of the record.
SKIPPED_SAMPLES_ENV = 'TPO_SKIPPED_SAMPLES_FILE'


def record_skipped_sample(path: str, reason: str) -> None:
    """Append ``path<TAB>reason`` to the record, if one is set up."""
    record = os.environ.get(SKIPPED_SAMPLES_ENV)
    if not record:
        return
    line = f'{path}\t{" ".join(reason.split())}\n'
    # One short O_APPEND write per line: lines of concurrent workers do not
    # interleave.
    fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_skipped_samples(record: str) -> List[str]:
    """The skipped paths of a record, in order (empty if there is none)."""
    if not os.path.isfile(record):
        return []
    with open(record) as f:
        return [line.split('\t', 1)[0] for line in f if line.strip()]
