"""The read-only ``shared`` folder beside the repository root."""
import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / 'shared'


def load_conformance(name: str) -> dict:
    """Load ``shared/conformance/<name>``; skip the test only when the whole
    ``shared`` folder is absent (a missing file inside it is a failure)."""
    if not SHARED.is_dir():
        pytest.skip(
            f'{SHARED} is absent: the conformance fixtures live in the '
            '`shared` folder beside the repository root.',
            allow_module_level=True)
    with open(SHARED / 'conformance' / name) as f:
        return json.load(f)
