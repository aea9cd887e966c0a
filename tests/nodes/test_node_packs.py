"""Third-party node packs arrive through the worldgraph.nodes entry-point group."""

import sys

import pytest

from worldgraph.nodes import registry as registry_module
from worldgraph.nodes.registry import default_registry

PACK = '''
from worldgraph.nodes import Input, Output, node
from worldgraph.nodes.types import INT

@node("acme.math.Double", inputs=[Input("x", INT, 1)], outputs=[Output("y", INT)])
def Double(ctx, x):
    """Twice x."""
    return {"y": 2 * x}
'''


@pytest.fixture
def installed_pack(tmp_path, monkeypatch):
    """A real distribution on sys.path: a module plus a dist-info with entry points."""
    (tmp_path / "acme_nodes.py").write_text(PACK)
    info = tmp_path / "acme_nodes-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-nodes\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[worldgraph.nodes]\nacme = acme_nodes\nbroken = acme_missing_module\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    default_registry.cache_clear()
    yield
    default_registry.cache_clear()
    sys.modules.pop("acme_nodes", None)


def test_entry_point_packs_are_registered_and_broken_ones_reported(installed_pack):
    registry = default_registry()
    assert "acme.math.Double" in registry
    assert "worldgraph.io.LoadVideo" in registry  # built-ins still there
    [error] = registry.load_errors
    assert error.startswith("node pack 'broken' (acme_missing_module)")


def test_builtin_families_only_without_packs():
    default_registry.cache_clear()
    ids = {t.id for t in default_registry()}
    assert {f.rsplit(".", 1)[1] for f in registry_module.BUILTIN_FAMILIES} == {
        i.split(".")[1] for i in ids
    }
