"""Compiled kernels (Cython wrappers over the C in ``csrc/``).

Private: layers and losses call ``ckeras.ops``, which imports these modules
lazily (``_blas`` and ``_dense`` pull in scipy's BLAS, a slow import). Never a silent
fallback to ``ckeras.ops.reference``: an unbuilt module fails ``import ckeras``
and one that cannot load warns (``ckeras.ops.kernel_loading``), unless
``CKERAS_ALLOW_REFERENCE=1``.
"""
import os

# OpenMP threads that spin after a parallel region steal the cores OpenBLAS's
# own pthreads need for the next GEMM, and on a busy machine a spinning
# barrier waits out whole scheduler slices (how much slower: benchmarks/
# README.md, "Numbers behind rules in the code"). A passive wait policy
# (sleep at barriers) avoids both. libgomp reads this
# when it loads, i.e. with the first kernel module; a user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
