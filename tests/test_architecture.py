"""Project-wide rules: lint and types pass; imports follow the dependency direction
extension -> ui -> nodes -> engines (engines import neither nodes nor ui), relative imports
included; and no module imports itself back through others, counting the imports inside
functions (a cycle hidden in a function still ties the modules together)."""

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
LAYERS = ("worldgraph.engines", "worldgraph.nodes", "worldgraph.ui", "worldgraph")  # lowest first


def modules(root: Path = ROOT, packages: dict[str, str] = PACKAGES) -> dict[str, Path]:
    """Every module by its import name, from the package -> folder mapping."""
    found: dict[str, Path] = {}
    for package, folder in sorted(packages.items(), key=lambda item: len(item[0])):  # nested packages win
        for file in (root / folder).rglob("*.py"):
            parts = [p for p in file.relative_to(root / folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = file
    return found


class Imports(ast.NodeVisitor):
    """Every import in a module, at any depth (functions, methods, branches), as absolute
    names; imports under ``if TYPE_CHECKING:`` are left out (they never run)."""

    def __init__(self, name: str, is_package: bool, known: set[str]) -> None:
        self.package = name if is_package else name.rpartition(".")[0]
        self.known = known
        self.names: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or \
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.names |= {alias.name for alias in node.names}

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__":
            return
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join(parts + ([node.module] if node.module else []))
        for alias in node.names:  # ``from package import name``: the submodule when it is one, else the package
            self.names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in self.known else base)


def import_graph(root: Path = ROOT, packages: dict[str, str] = PACKAGES) -> dict[str, set[str]]:
    """Module -> the project modules it imports (anywhere in its code)."""
    known = modules(root, packages)
    graph = {}
    for name, file in known.items():
        visitor = Imports(name, file.name == "__init__.py", set(known))
        visitor.visit(ast.parse(file.read_text(), str(file)))
        graph[name] = {n for n in visitor.names if n in known} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def layer(module: str) -> int:
    if module == "worldgraph":  # the namespace's root: its version, nothing else; every layer may read it
        return -1
    return next(i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports against the direction: a module importing a higher layer."""
    return sorted(f"{m} imports {d}" for m, deps in graph.items() for d in deps if layer(d) > layer(m))


def test_imports_follow_the_dependency_direction():
    assert upward_imports(import_graph()) == []


def test_no_import_cycles_even_inside_functions():
    assert cycles(import_graph()) == []


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_a_planted_cycle_is_found(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "from .a import f\n",
                     "pkg/a.py": "def f():\n    from .b import g\n    return g\n",
                     "pkg/b.py": "from . import c\n\ndef g():\n    pass\n",
                     "pkg/c.py": "import os\n\ndef h():\n    if os.sep:\n        from pkg import a\n",
                     "pkg/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n"})
    graph = import_graph(tmp_path, {"pkg": "pkg"})
    assert graph["pkg.b"] == {"pkg.c"}  # ``from . import c``: the submodule, not the package
    assert graph["pkg.d"] == set()  # type-checking imports never run
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_a_planted_upward_relative_import_is_found(tmp_path):
    write(tmp_path, {"ext/__init__.py": "", "nodes/__init__.py": "", "nodes/core.py": "",
                     "engines/__init__.py": "", "engines/model.py": "def f():\n    from ..nodes import core\n"})
    graph = import_graph(tmp_path, {"worldgraph": "ext", "worldgraph.nodes": "nodes", "worldgraph.engines": "engines"})
    assert upward_imports(graph) == ["worldgraph.engines.model imports worldgraph.nodes.core"]


def test_node_core_starts_without_heavy_libraries():
    code = (
        "import sys, worldgraph.nodes, worldgraph.cli;"
        "from worldgraph.nodes import default_registry; default_registry();"
        "heavy = {'torch', 'cv2', 'av', 'mujoco'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is in the dev extra")
def test_ruff():
    subprocess.run(["ruff", "check", str(ROOT)], check=True)


def test_mypy():
    pytest.importorskip("mypy")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "extension/worldgraph", "nodes", "engines"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout
