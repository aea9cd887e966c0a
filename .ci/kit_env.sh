#!/usr/bin/env bash
# Make the Python 3.12 environment the Kit tests (tests/kit/) start Omniverse Kit from.
#
#   .ci/kit_env.sh            # build it once into .kit-env/ (git-ignored); later calls reuse it
#   .ci/kit_env.sh --force    # build it again
#
# PyPI's omniverse-kit is a wheel for Python 3.12 only, beside this project's 3.11, so it
# gets its own venv: the Kit kernel, usd-core (pxr is not in the kernel), what the
# torch-free sample dataset graph needs (numpy, mujoco[usd], PyAV, OpenCV) and worldgraph
# itself, editable and without its dependencies (no torch). A stamp of this script's
# contents marks a finished build: an interrupted or outdated one is rebuilt.
# Prints the environment's python on its last line. KIT_PYTHON picks the interpreter,
# WORLDGRAPH_KIT_ENV the folder. Exit 3: no Python 3.12 here (CI may treat that as a skip).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
env_dir=${WORLDGRAPH_KIT_ENV:-$root/.kit-env}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off

requirements=(
    "omniverse-kit>=110.4,<111"
    "numpy>=1.26"
    "mujoco[usd]>=3.3"              # pins the usd-core it was built against
    "usd-core>=25.5"
    "av>=14"
    "opencv-python-headless>=4.9,<5"
)

stamp_of() { { cat "$0"; printf '%s\n' "${requirements[@]}"; } | sha256sum | cut -c1-16; }
stamp=$(stamp_of)
if [ "${1:-}" != "--force" ] && [ -f "$env_dir/.worldgraph-stamp" ] \
        && [ "$(cat "$env_dir/.worldgraph-stamp")" = "$stamp" ] && [ -x "$env_dir/bin/python" ]; then
    echo "$env_dir/bin/python"
    exit 0
fi

find_python() {
    if [ -n "${KIT_PYTHON:-}" ]; then echo "$KIT_PYTHON"; return; fi
    for candidate in python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12; do
        if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then
            command -v "$candidate" || echo "$candidate"
            return
        fi
    done
    echo "error: no Python 3.12 found (omniverse-kit is a wheel for 3.12 only); set KIT_PYTHON" >&2
    exit 3
}
python=$(find_python)

if [ -e "$env_dir" ] && [ ! -f "$env_dir/pyvenv.cfg" ]; then
    echo "error: $env_dir exists and is not a virtual environment: not replacing it" >&2
    exit 4
fi
start=$(date +%s)
rm -rf "$env_dir"
"$python" -m venv "$env_dir"
"$env_dir/bin/python" -m pip install -q --upgrade pip
"$env_dir/bin/python" -m pip install -q "${requirements[@]}"
"$env_dir/bin/python" -m pip install -q --no-deps -e "$root"
echo "$stamp" > "$env_dir/.worldgraph-stamp"
echo "made $env_dir in $(( $(date +%s) - start )) s" >&2
echo "$env_dir/bin/python"
