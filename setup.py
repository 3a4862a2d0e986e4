"""Build the ckeras kernels: one Cython extension per kernel family.

Metadata lives in pyproject.toml; this file only lists the extensions.

Environment switches (delete build/ after changing them):
  CKERAS_DEBUG=1      Cython bounds/wraparound checks on, -O1 -g
  CKERAS_NATIVE=1     add -march=native (never for wheels you ship)
  CKERAS_NO_OPENMP=1  serial kernels (e.g. Apple clang without libomp); the
                      `omp simd` loops still vectorise via -fopenmp-simd
  CKERAS_SANITIZE=1   add -fsanitize=address,undefined (gcc/clang; with
                      CKERAS_DEBUG=1 in .ci/debug_build.sh). Python then needs
                      LD_PRELOAD of libasan.

Before compiling, a tiny probe checks for a C compiler, Python's headers and
OpenMP, and stops with what to install if one is missing.
"""
import os
import shutil
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


DEBUG = _flag("CKERAS_DEBUG")
NATIVE = _flag("CKERAS_NATIVE")
OPENMP = not _flag("CKERAS_NO_OPENMP")
SANITIZE = _flag("CKERAS_SANITIZE") and sys.platform != "win32"

# (module, sources): the .pyx wrapper plus the C kernels it calls.
EXTENSIONS = [
    ("ckeras._kernels._blas", ["ckeras/_kernels/_blas.pyx"]),
    ("ckeras._kernels._activation", ["ckeras/_kernels/_activation.pyx", "csrc/activation.c"]),
    ("ckeras._kernels._dense", ["ckeras/_kernels/_dense.pyx", "csrc/activation.c"]),
    ("ckeras._kernels._losses", ["ckeras/_kernels/_losses.pyx", "csrc/softmax_xent.c"]),
    ("ckeras._kernels._embedding", ["ckeras/_kernels/_embedding.pyx", "csrc/embedding.c"]),
    ("ckeras._kernels._optim", ["ckeras/_kernels/_optim.pyx", "csrc/optim.c"]),
    ("ckeras._kernels._openmp", ["ckeras/_kernels/_openmp.pyx"]),
    ("ckeras._kernels._recurrent", ["ckeras/_kernels/_recurrent.pyx", "csrc/recurrent.c"]),
    ("ckeras._kernels._attention", ["ckeras/_kernels/_attention.pyx", "csrc/attention.c"]),
    ("ckeras._kernels._conv", ["ckeras/_kernels/_conv.pyx", "csrc/conv.c", "csrc/depthwise.c",
                               "csrc/activation.c"]),
    ("ckeras._kernels._pool", ["ckeras/_kernels/_pool.pyx", "csrc/pool.c"]),
    ("ckeras._kernels._alloc", ["ckeras/_kernels/_alloc.pyx", "csrc/buffer_pool.c"]),
]

if sys.platform == "win32":  # MSVC (C11 for _Pragma; OpenMP 2.0 runtime vcomp)
    compile_args = ["/O2", "/fp:precise", "/std:c11"] + (["/openmp"] if OPENMP else [])
    link_args = []
    libraries = []
else:
    # No -ffast-math: it breaks -inf masking and the softmax max init.
    # -fno-math-errno / -fno-trapping-math let `omp simd` loops vectorise
    # (libm calls and selects) without changing any result; -ffp-contract=off
    # keeps FMA contraction from making results depend on vector/scalar paths.
    compile_args = [
        "-O3",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-ffp-contract=off",
    ]
    if DEBUG:
        compile_args = ["-O1", "-g"] + compile_args[1:]
    if NATIVE:
        compile_args.append("-march=native")
    compile_args.append("-fopenmp" if OPENMP else "-fopenmp-simd")
    link_args = ["-fopenmp"] if OPENMP else []
    if sys.platform.startswith("linux") and not DEBUG:
        link_args.append("-s")  # strip: the wheel ships no symbol tables
    libraries = ["m"]  # on glibc, libm.so also pulls in libmvec (vector expf, ...)
    if SANITIZE:
        # Any undefined behaviour aborts (no recovery), so tests fail on it.
        compile_args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                         "-fno-sanitize-recover=undefined"]
        link_args = link_args + ["-fsanitize=address,undefined"]

_PROBE_C = "int main(void) { return 0; }\n"
_PROBE_PY = "#include <Python.h>\nint main(void) { return 0; }\n"
_PROBE_OMP = ("#include <omp.h>\nint main(void) { int n = 0;\n"
              "#pragma omp parallel reduction(+:n)\n n += 1;\n"
              "return n > 0 ? 0 : 1; }\n")


def _probe(compiler, name, code, compile_args=(), link_args=(), include_dirs=()):
    """Compile (and link) ``code``; returns None, or the compiler's complaint."""
    tmp = tempfile.mkdtemp(prefix="ckeras-probe-")
    try:
        src = os.path.join(tmp, name + ".c")
        with open(src, "w") as f:
            f.write(code)
        objs = compiler.compile([src], output_dir=tmp, include_dirs=list(include_dirs),
                                extra_postargs=list(compile_args))
        compiler.link_executable(objs, os.path.join(tmp, name), extra_postargs=list(link_args))
        return None
    except Exception as exc:  # CompileError, LinkError, DistutilsExecError, OSError
        return str(exc) or type(exc).__name__
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _stop(title, what_to_do, detail):
    bar = "=" * 72
    sys.exit(f"\n{bar}\nckeras cannot be built: {title}\n\n{what_to_do}\n\n"
             f"(compiler said: {detail.strip()[:400]})\n{bar}\n")


class BuildExt(build_ext):
    """build_ext that first checks the toolchain and says what is missing."""

    def build_extensions(self):
        cc = self.compiler
        cmd = (getattr(cc, "compiler_so", None) or [getattr(cc, "cc", "cc")])[0]
        err = _probe(cc, "cc", _PROBE_C)
        if err:
            _stop(f"no working C compiler (tried: {cmd}).",
                  "Install one: Debian/Ubuntu `apt-get install build-essential python3-dev`,\n"
                  "Fedora/RHEL `dnf install gcc python3-devel`, Alpine `apk add build-base\n"
                  "python3-dev`, macOS `xcode-select --install`, Windows: Microsoft C++ Build\n"
                  "Tools. Or set CC to a compiler. A prebuilt wheel needs no compiler.", err)
        import sysconfig
        err = _probe(cc, "py", _PROBE_PY, include_dirs=[sysconfig.get_paths()["include"]])
        if err:
            _stop("Python's C headers (Python.h) are missing.",
                  "Install them: Debian/Ubuntu `apt-get install python3-dev`, Fedora/RHEL\n"
                  "`dnf install python3-devel`, Alpine `apk add python3-dev`.", err)
        if OPENMP:
            omp_compile = [a for a in compile_args if "openmp" in a]
            err = _probe(cc, "omp", _PROBE_OMP, omp_compile, link_args)
            if err:
                _stop(f"the C compiler ({cmd}) has no OpenMP.",
                      "Install OpenMP for it: gcc ships it (Debian/Ubuntu `apt-get install gcc`,\n"
                      "which brings libgomp); clang needs `apt-get install libomp-dev` or\n"
                      "`brew install libomp`. Or build serial kernels (correct, just one\n"
                      "thread per kernel):  CKERAS_NO_OPENMP=1 pip install .", err)
        super().build_extensions()

extensions = [
    Extension(
        name,
        sources=sources,
        include_dirs=[numpy.get_include(), "csrc"],
        # NPY_TARGET_VERSION: numpy >= 1.22's C API (the data-memory handler
        # _alloc installs); numpy 2.0 would otherwise hide it (its default
        # target is 1.19). The runtime floor is numpy 2.0 anyway.
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                       ("NPY_TARGET_VERSION", "NPY_1_22_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        libraries=libraries,
        depends=[os.path.join("csrc", f) for f in os.listdir("csrc") if f.endswith(".h")]
        if os.path.isdir("csrc") else [],
    )
    for name, sources in EXTENSIONS
]

setup(
    cmdclass={"build_ext": BuildExt},
    # compile the extensions two at a time (pip's build runs build_ext plainly)
    options={"build_ext": {"parallel": min(4, os.cpu_count() or 1)}},
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": DEBUG,
            "wraparound": DEBUG,
            "cdivision": True,
            "initializedcheck": DEBUG,
            "embedsignature": True,
        },
        include_path=["ckeras/_kernels"],
    ),
)
