"""The read-only ``shared`` folder beside the repository root."""
import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / 'shared'


def shared_path(relative: str) -> Path:
    """``shared/<relative>``. The read-only ``shared`` folder beside the
    repository root holds the real annotation files and the conformance
    fixtures, which licenses forbid copying into the repo; CI lays it out.
    A test that needs it is skipped only when the whole folder is absent (a
    plain source checkout); a missing file inside it is a failure."""
    if not SHARED.is_dir():
        pytest.skip(
            f'{SHARED} is absent: the real annotation files and conformance '
            'fixtures live in the `shared` folder beside the repository root '
            '(present in CI), never in the repo.',
            allow_module_level=True)
    return SHARED / relative


def load_conformance(name: str) -> dict:
    """Load ``shared/conformance/<name>`` (see :func:`shared_path`)."""
    with open(shared_path(f'conformance/{name}')) as f:
        return json.load(f)


def load_tool(relative: str):
    """Import ``tools/<relative>`` (a script, not a package) as a module;
    its folder goes on ``sys.path`` so that sibling tools import."""
    import importlib.util
    import sys
    path = Path(__file__).resolve().parents[1] / 'tools' / relative
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
