"""The wheel installs into a fresh venv and every subpackage imports from it."""

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist", ROOT],
        check=True, capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("worldgraph-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel],
                   check=True, capture_output=True)
    # the dependencies come from this test's environment, appended after the fresh venv's
    # own site-packages, so worldgraph itself can only come from the wheel
    site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
    ).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = (
        "import worldgraph, worldgraph.nodes, worldgraph.engines, worldgraph.ui, "
        "worldgraph.cli, worldgraph.nodes.library.io, worldgraph.engines.media.video,"
        "worldgraph.engines.sim.dataset, worldgraph.engines.tokenizer.model;"
        "from worldgraph.nodes import default_registry;"
        "assert len(default_registry()) >= 5;"
        "print(worldgraph.__file__)"
    )
    where = subprocess.check_output([python, "-c", code], text=True, cwd=tmp_path).strip()
    assert where.startswith(str(env_dir))
    version = subprocess.run([env_dir / "bin" / "worldgraph", "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.startswith("worldgraph 0.")
    for top in ("nodes", "engines", "ui"):  # nothing installs a stray top-level module
        assert not (site / top).exists()


SCRIPT_FOLDERS = {"engines/guard/data"}  # scripts that make data, not importable code


def test_every_source_package_is_listed_for_the_wheel():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for package, folder in config["package-dir"].items():
        for module in (ROOT / folder).rglob("*.py"):
            if module.parent.relative_to(ROOT).as_posix() in SCRIPT_FOLDERS:
                continue
            assert (module.parent / "__init__.py").exists(), f"{module.parent} has modules but no __init__.py"
            relative = module.parent.relative_to(ROOT / folder).parts
            name = ".".join((package, *relative))
            if not any(name.startswith(other + ".") or name == other for other in config["package-dir"]
                       if other != package and other.startswith(package + ".")):
                found.add(name)
    assert found <= listed, f"packages missing from pyproject's list (a wheel would leave them out): {found - listed}"
