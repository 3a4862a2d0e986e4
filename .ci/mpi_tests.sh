#!/usr/bin/env bash
# CI for ckeras.distribute: install the `[mpi]` extra (mpi4py + the mpich
# wheel) into the active virtualenv -- the one .ci/run made, with ckeras
# already installed -- and run tests/distribute, which launch `mpiexec -n 2`
# on this machine only, each launch with a hard timeout. Without an active
# virtualenv a fresh one is made and ckeras installed into it first.
# CKERAS_REQUIRE_MPI=1 turns "mpi4py/mpiexec missing" skips into failures.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${VIRTUAL_ENV:-}" ]; then
    venv="$(mktemp -d)/venv"
    python3 -m venv "$venv"
    . "$venv/bin/activate"
    python -m pip install --quiet --upgrade pip
    pip install --quiet ".[test]"
fi
# The extra's requirements, read from pyproject.toml (installing ".[mpi]"
# would rebuild ckeras itself).
mapfile -t reqs < <(python -c '
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["mpi"]))')
pip install --quiet "${reqs[@]}"
"$(dirname "$(command -v python)")/mpiexec" --version | head -n 2 || true

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 CKERAS_REQUIRE_MPI=1
# Run from outside the checkout so the installed package is tested.
timeout 900 pytest "$PWD/tests/distribute" --rootdir "$PWD" -p no:cacheprovider
