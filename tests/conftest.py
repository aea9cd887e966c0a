import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
import tempfile  # noqa: E402

# one engine cache for the whole session (engines are built once, then shared by the
# tests and the CLI processes they start); an existing WORLDGRAPH_ENGINE_CACHE is kept
_OWN_ENGINE_CACHE = "WORLDGRAPH_ENGINE_CACHE" not in os.environ
os.environ.setdefault("WORLDGRAPH_ENGINE_CACHE", tempfile.mkdtemp(prefix="worldgraph-engines-"))
# the catalog's user folder ($XDG_DATA_HOME/worldgraph/models) is the session's own: the
# tests see the shipped checkpoints, not ones a user added
_DATA_HOME = os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="worldgraph-data-")


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    if _OWN_ENGINE_CACHE:
        shutil.rmtree(os.environ["WORLDGRAPH_ENGINE_CACHE"], ignore_errors=True)
    shutil.rmtree(_DATA_HOME, ignore_errors=True)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from worldgraph.nodes import Registry, default_registry  # noqa: E402

from . import nodepack  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


@pytest.fixture
def registry() -> Registry:
    """The built-in node types plus the test pack's."""
    r = Registry(default_registry())
    for t in nodepack.TYPES:
        r.add(t)
    return r


@pytest.fixture
def sample_video() -> Path:
    return SAMPLES / "videos" / "bouncing_shapes.mp4"
