"""Start the real Omniverse Kit kernel (PyPI's omniverse-kit, Python 3.12) in a subprocess
with the worldgraph extension enabled. The Kit environment is .kit-env/ (or
$WORLDGRAPH_KIT_ENV), made by .ci/kit_env.sh; without it these tests skip and say so."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "kit_env.sh"
KIT_TIMEOUT = 180  # seconds for one Kit process (start, run, shut down)


def kit_env_dir() -> Path:
    return Path(os.environ.get("WORLDGRAPH_KIT_ENV", ROOT / ".kit-env"))


@pytest.fixture(scope="session")
def kit_python() -> Path:
    """The Kit environment's python; the env is brought up to date by .ci/kit_env.sh
    (instant when it is), or the test skips with why."""
    env = kit_env_dir()
    if not (env / "bin" / "python").exists():
        pytest.skip(f"no Kit environment at {env}: run .ci/kit_env.sh to make it "
                    "(Python 3.12, omniverse-kit, usd-core; about 1 GB)")
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "WORLDGRAPH_KIT_ENV": str(env)})
    if done.returncode != 0:
        pytest.skip(f".ci/kit_env.sh failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class KitRun:
    returncode: int
    output: str  # Kit's stdout and stderr
    log: str  # Kit's log file, info level

    def lines(self, text: str) -> list[str]:
        return [line for line in self.log.splitlines() if text in line]


def run_kit(python: Path, workdir: Path, *args: str, exec_script: str | None = None) -> KitRun:
    """Kit headless with ``--ext-folder extension --enable worldgraph``, logging to a file
    in ``workdir``; Kit's own data and cache folders also go there."""
    log = workdir / "kit.log"
    command = [
        str(python), "-m", "omni.kit_app", "--no-window",
        "--ext-folder", str(ROOT / "extension"), "--enable", "worldgraph",
        "--/app/fastShutdown=false",  # so on_shutdown runs
        f"--/log/file={log}", "--/log/level=info",
        f"--/app/tokens/data={workdir / 'kit-data'}", f"--/app/tokens/cache={workdir / 'kit-cache'}",
        *args,
    ]
    if exec_script:
        command += ["--exec", exec_script]
    env = {**os.environ, "OMNI_KIT_ACCEPT_EULA": "yes", "MUJOCO_GL": "egl"}
    if os.geteuid() == 0:
        env["OMNI_KIT_ALLOW_ROOT"] = "1"
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=KIT_TIMEOUT)
    return KitRun(done.returncode, done.stdout + done.stderr, log.read_text() if log.exists() else "")


@pytest.fixture(scope="session")
def bare_kit_python(kit_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the Kit kernel and nothing else: no numpy, no usd-core, no worldgraph."""
    where = tmp_path_factory.mktemp("bare-kit")
    subprocess.run([str(kit_python), "-m", "venv", "--without-pip", str(where / "venv")], check=True)
    kit_site = Path(subprocess.check_output(
        [str(kit_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
    ).strip())
    only = where / "kit-only"
    only.mkdir()
    (only / "omni").symlink_to(kit_site / "omni")
    [site] = (where / "venv" / "lib").glob("python3.*/site-packages")
    (site / "kit_only.pth").write_text(f"{only}\n")
    python = where / "venv" / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import numpy"], capture_output=True)
    assert probe.returncode != 0, "the bare Kit venv can import numpy: it is not bare"
    return python
