"""Fixtures shared by the whole test suite (keep this file small).

  rng       a numpy Generator with a fixed seed (fresh per test)
  ops_impl  runs a test once per ckeras.ops implementation: "kernels" (the
            compiled path; skipped if it is not built) and "reference" (numpy)
"""
import os
import sys

import numpy as np
import pytest

# Tests import the benchmark scripts' pure parts as the package `benchmarks`
# (beside ckeras/ in the checkout): the checkout's root goes at the end of
# sys.path, so an installed ckeras still comes first.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.append(_ROOT)


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


def kernels_built():
    """True if every ckeras._kernels module imports (builds are optional)."""
    from ckeras import ops
    return all(v is True for v in ops.kernel_status().values())


def skip_or_fail_without_kernels():
    """Skip when the kernels are not built; CKERAS_REQUIRE_KERNELS=1 fails instead."""
    if kernels_built():
        return
    from ckeras import ops
    msg = f"ckeras kernels not built: {ops.kernel_status()}"
    if os.environ.get("CKERAS_REQUIRE_KERNELS", "") not in ("", "0"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(params=["kernels", "reference"])
def ops_impl(request):
    """Name of the ckeras.ops implementation in force for this test."""
    from ckeras import ops
    if request.param == "kernels":
        skip_or_fail_without_kernels()
    prev = ops.use_reference(request.param == "reference")
    try:
        yield request.param
    finally:
        ops.use_reference(prev)
