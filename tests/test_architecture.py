"""Project-wide rules: lint and types pass, and imports follow the dependency direction
extension -> ui -> nodes -> engines (engines import neither nodes nor ui)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(folder: str) -> dict[Path, set[str]]:
    found = {}
    for file in (ROOT / folder).rglob("*.py"):
        names = set()
        for item in ast.walk(ast.parse(file.read_text())):
            if isinstance(item, ast.Import):
                names |= {a.name for a in item.names}
            elif isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
                names.add(item.module)
        found[file] = names
    return found


def test_engines_import_neither_nodes_nor_ui():
    for file, names in imports_of("engines").items():
        bad = {n for n in names if n.startswith(("worldgraph.nodes", "worldgraph.ui"))}
        assert not bad, f"{file.relative_to(ROOT)} imports {bad}"


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
