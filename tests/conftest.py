import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

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
