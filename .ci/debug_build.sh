#!/usr/bin/env bash
# Debug build of the kernels, then the kernel tests (tests/ops) against it.
#
# CKERAS_DEBUG=1 (Cython bounds/wraparound checks, -O1 -g) plus
# -fsanitize=address,undefined (CKERAS_SANITIZE=1) when the compiler can link
# it; undefined behaviour aborts. The build happens in a temporary copy of the
# sources, so the checkout and any installed ckeras are untouched.
#
# Needs a Python with ckeras's build and test dependencies (numpy, scipy,
# h5py, cython, setuptools, pytest, hypothesis), e.g. the venv .ci/run makes;
# PYTHON overrides `python3`, CC the compiler used for the sanitizer probe.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-python3}"
cc="${CC:-cc}"
work="$(mktemp -d)"
trap '[ -n "${KEEP_DEBUG_BUILD:-}" ] || rm -rf "$work"' EXIT

if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard \
        | grep -zv '\.so$' | tar --null -T - -cf -) | tar -C "$work" -xf -
else
    cp -r "$root/ckeras" "$root/csrc" "$root/tests" "$root/setup.py" "$root/pyproject.toml" "$work/"
    find "$work" -name '*.so' -delete
fi

# Sanitizers only if this toolchain can build and link them.
sanitize=0
preload=""
printf 'int main(void){return 0;}\n' > "$work/probe.c"
if "$cc" -fsanitize=address,undefined "$work/probe.c" -o "$work/probe" >/dev/null 2>&1; then
    sanitize=1
    preload="$("$cc" -print-file-name=libasan.so)"
    [ -f "$preload" ] || { echo "debug_build: libasan.so not found; building without sanitizers"; sanitize=0; preload=""; }
fi
echo "debug_build: CKERAS_DEBUG=1 CKERAS_SANITIZE=$sanitize (${preload:-no LD_PRELOAD})"

cd "$work"
# The build tools (a non-editable `pip install .` leaves none in the venv) go
# into the temporary folder, on PYTHONPATH for the build only.
buildpath=""
if ! "$py" -c "import Cython, setuptools, sys; \
sys.exit(int(setuptools.__version__.split('.')[0]) < 70)" >/dev/null 2>&1; then
    "$py" -m pip install --quiet --target "$work/_buildtools" "cython>=3.0" "setuptools>=70.1"
    buildpath="$work/_buildtools"
fi
PYTHONPATH="$buildpath" CKERAS_DEBUG=1 CKERAS_SANITIZE=$sanitize \
    "$py" setup.py -q build_ext --inplace -j 2 >build.log 2>&1 || { tail -50 build.log; exit 1; }
rm -rf "$work/_buildtools" "$work/build"

# PYTHONPATH: child processes the tests start import this build too.
export PYTHONPATH="$work" CKERAS_REQUIRE_KERNELS=1 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1
# Leak checks off: CPython itself "leaks" at exit. Any error aborts the run.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
run() { if [ -n "$preload" ]; then LD_PRELOAD="$preload" "$@"; else "$@"; fi; }

# The debug modules, not an installed ckeras, must be the ones tested.
run "$py" -c "import ckeras, ckeras.ops as o, sys; s = o.kernel_status(); \
assert ckeras.__file__.startswith('$work'), ckeras.__file__; \
assert all(v is True for v in s.values()), s; print('debug_build: kernels', sorted(s))"

# Bounded: the kernel tests only, a few minutes under ASan.
run timeout 900 "$py" -m pytest -x -p no:cacheprovider ${DEBUG_BUILD_TESTS:-tests/ops}
