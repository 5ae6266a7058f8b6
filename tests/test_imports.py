"""The package's import structure: no module imports itself through others,
and importing ``tpo`` changes nothing outside it."""
import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Set

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix('').parts)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _import_graph(root: Path = ROOT) -> Dict[str, Set[str]]:
    """Module -> the ``tpo`` modules it imports at module level (imports
    inside functions run late and are left out; a package's ``__init__``
    only hands names on, so an import of a name from a package points at
    the submodule of that name where there is one)."""
    files = {_module_name(p, root): p for p in (root / 'tpo').rglob('*.py')}
    graph = {}
    for name, path in files.items():
        package = name if path.name == '__init__.py' else \
            name.rpartition('.')[0]
        targets = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    anchor = package.rsplit('.', node.level - 1)[0] \
                        if node.level > 1 else package
                    base = f'{anchor}.{base}' if base else anchor
                for alias in node.names:
                    sub = f'{base}.{alias.name}'
                    targets.add(sub if sub in files else base)
        graph[name] = {t for t in targets
                       if t in files and not files[t].name == '__init__.py'
                       and t != name}
    return {n: t for n, t in graph.items()
            if files[n].name != '__init__.py'}


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_circle(tmp_path):
    files = {'__init__.py': '', 'engine/__init__.py': 'from .a import f\n',
             'engine/a.py': 'from .b import g\n', 'engine/b.py':
             'import os\nfrom tpo.engine import a\n\n\ndef g():\n'
             '    from tpo import late\n',
             'late.py': 'from tpo.engine.b import g\n'}
    for name, text in files.items():
        (tmp_path / 'tpo' / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / 'tpo' / name).write_text(text)
    graph = _import_graph(tmp_path)
    assert graph['tpo.late'] == {'tpo.engine.b'}
    assert _cycles(graph) == [['tpo.engine.a', 'tpo.engine.b']]


def test_no_import_circles_in_tpo():
    graph = _import_graph()
    assert 'tpo.engine.checkpoint' in graph
    assert 'tpo.models.heads.head_router' in graph['tpo.models.tpo_model']
    assert _cycles(graph) == []


def test_importing_tpo_has_no_side_effects_outside_it():
    """mmengine's checkpoint readers and pickling are changed only by the
    explicit ``use_safe_checkpoints()`` call of the runner and the tools."""
    script = (
        'import copyreg, torch\n'
        'from mmengine.runner.checkpoint import CheckpointLoader\n'
        'schemes = dict(CheckpointLoader._schemes)\n'
        'table = dict(copyreg.dispatch_table)\n'
        'load = torch.load\n'
        'import tpo.apis, tpo.datasets, tpo.engine, tpo.evaluation\n'
        'import tpo.models, tpo.tasks, tpo.visualization\n'
        'assert dict(CheckpointLoader._schemes) == schemes\n'
        'assert dict(copyreg.dispatch_table) == table\n'
        'assert torch.load is load\n'
        'tpo.engine.use_safe_checkpoints()\n'
        'assert dict(CheckpointLoader._schemes) != schemes\n'
        'assert dict(copyreg.dispatch_table) != table\n')
    subprocess.run([sys.executable, '-c', script], cwd=ROOT, check=True)
