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
"""
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup


def _flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


DEBUG = _flag("CKERAS_DEBUG")
NATIVE = _flag("CKERAS_NATIVE")
OPENMP = not _flag("CKERAS_NO_OPENMP") and sys.platform != "win32"
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
]

if sys.platform == "win32":  # MSVC
    compile_args = ["/O2", "/fp:precise"]
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
    libraries = ["m"]  # on glibc, libm.so also pulls in libmvec (vector expf, ...)
    if SANITIZE:
        # Any undefined behaviour aborts (no recovery), so tests fail on it.
        compile_args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                         "-fno-sanitize-recover=undefined"]
        link_args = link_args + ["-fsanitize=address,undefined"]

extensions = [
    Extension(
        name,
        sources=sources,
        include_dirs=[numpy.get_include(), "csrc"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        libraries=libraries,
        depends=[os.path.join("csrc", f) for f in os.listdir("csrc") if f.endswith(".h")]
        if os.path.isdir("csrc") else [],
    )
    for name, sources in EXTENSIONS
]

setup(
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
