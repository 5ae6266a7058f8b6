"""How deep each config inherits: the longest chain of ``_base_`` files
from a config to one without a base.

    python tools/analysis_tools/config_depth.py configs [--max 3]

Prints ``depth  config -> base -> ...`` per config, deepest first, and
exits with 1 when a config is deeper than ``--max``.
"""
import argparse
import ast
import os.path as osp
import sys
from functools import lru_cache
from pathlib import Path
from typing import List, Tuple


def bases(path: str) -> List[str]:
    """The ``_base_`` files of a config (paths resolved)."""
    tree = ast.parse(Path(path).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            names = [value] if isinstance(value, str) else value
            return [osp.normpath(osp.join(osp.dirname(path), b))
                    for b in names]
    return []


@lru_cache(maxsize=None)
def deepest_chain(path: str) -> Tuple[str, ...]:
    """``(path, base, base of base, ...)``: the longest chain."""
    chains = [deepest_chain(b) for b in bases(path)]
    return (path, ) + max(chains, key=len, default=())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='a folder of configs')
    parser.add_argument('--max', type=int, default=3,
                        help='the deepest allowed (default 3)')
    args = parser.parse_args(argv)
    chains = sorted((deepest_chain(osp.normpath(str(p)))
                     for p in Path(args.root).rglob('*.py')),
                    key=lambda c: (-len(c), c[0]))
    for chain in chains:
        print(len(chain) - 1, ' -> '.join(chain))
    return int(any(len(c) - 1 > args.max for c in chains))


if __name__ == '__main__':
    sys.exit(main())
