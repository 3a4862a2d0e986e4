"""Every kernel entry refuses what its C loop cannot read (wrong dtype, byte
order, alignment, layout, shapes, overlapping outputs) with a clear error,
and the public ops convert or route such input so results stay right."""
import subprocess
import sys

import numpy as np
import pytest

from ckeras import ops
from ckeras.ops import reference as ref


@pytest.fixture
def K(kernels):
    from ckeras._kernels import _activation, _dense, _embedding, _losses, _optim, _blas
    return {"act": _activation, "dense": _dense, "emb": _embedding, "loss": _losses,
            "optim": _optim, "blas": _blas}


def _big_endian(a):
    return a.astype(a.dtype.newbyteorder(">"))


def _unaligned(a):
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = buf[1:].view(a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def test_activation_kernels_refuse_bad_arrays(K, rng):
    z = rng.standard_normal((4, 5)).astype(np.float32)
    act = K["act"]
    with pytest.raises(TypeError, match="native byte order"):
        act.bias_act(_big_endian(z), None, "relu")
    with pytest.raises(TypeError, match="native byte order"):
        act.bias_act(z, _big_endian(np.ones(5, np.float32)), "relu")
    with pytest.raises(ValueError, match="aligned"):
        act.bias_act(_unaligned(z), None, "relu")
    with pytest.raises(TypeError, match="float32"):
        act.bias_act(z.astype(np.float64), None, "relu")
    with pytest.raises(ValueError, match="C-contiguous"):
        act.bias_act(np.asfortranarray(z), None, "relu")
    with pytest.raises(ValueError, match="bias has shape"):
        act.bias_act(z, np.ones(4, np.float32), "relu")
    buf = np.zeros(25, np.float32)
    with pytest.raises(ValueError, match="out overlaps z"):
        act.bias_act(buf[:20].reshape(4, 5), None, "relu", out=buf[5:25].reshape(4, 5))
    zc = z.copy()
    act.bias_act(zc, None, "relu", out=zc)             # exactly in place is allowed
    np.testing.assert_array_equal(zc, np.maximum(z, 0))
    dy = rng.standard_normal((4, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="out overlaps dy"):
        act.act_backward(dy, z, "tanh", out=dy)
    with pytest.raises(ValueError, match="dbias overlaps dy"):
        act.act_backward(dy, z, "tanh", dbias=dy[0])
    with pytest.raises(TypeError, match="native byte order"):
        act.act_backward(_big_endian(dy), z, "tanh")
    with pytest.raises(ValueError, match="out overlaps a"):
        act.colsum_add(z, z[0])


def test_dense_kernels_refuse_float64_and_mismatches(K, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    w = rng.standard_normal((4, 2)).astype(np.float32)
    d = K["dense"]
    for bad_x, bad_w in ((x.astype(np.float64), w), (x, w.astype(np.float64)),
                         (x.astype(np.float64), w.astype(np.float64)), (_big_endian(x), w)):
        with pytest.raises(TypeError, match="float32"):
            d.dense_forward(bad_x, bad_w, None)
    y = d.dense_forward(x, w, None, "tanh")
    dy = np.ones_like(y)
    dk = np.zeros_like(w)
    with pytest.raises(TypeError, match="x must be float32"):
        d.dense_backward(dy, x.astype(np.float64), y, w, "tanh", dk, None)
    with pytest.raises(ValueError, match="do not fit"):
        d.dense_backward(dy, x[:, :3].copy(), y, w, "tanh", dk, None)
    with pytest.raises(ValueError, match="dkernel has shape"):
        d.dense_backward(dy, x, y, w, "tanh", np.zeros((2, 4), np.float32), None)
    with pytest.raises(ValueError, match="dkernel overlaps kernel"):
        d.dense_backward(dy, x, y, w, "tanh", w, None)
    with pytest.raises(ValueError, match="dbias overlaps dy"):
        d.dense_backward(dy, x, y, w, "tanh", dk, dy[0])


def test_loss_and_embedding_kernels_refuse_swapped_ints(K, rng):
    logits = rng.standard_normal((4, 3)).astype(np.float32)
    labels = np.array([0, 1, 2, 1], ">i8")
    with pytest.raises(TypeError, match="native byte order"):
        K["loss"].softmax_xent(logits, labels)
    with pytest.raises(TypeError, match="native byte order"):
        K["loss"].sigmoid_bce(_big_endian(logits), logits)
    table = rng.standard_normal((5, 2)).astype(np.float32)
    with pytest.raises(TypeError, match="native byte order"):
        K["emb"].gather(np.array([1, 2], ">i4"), table)
    with pytest.raises(ValueError, match="dtable overlaps dout"):
        K["emb"].scatter_add(np.array([0, 1], np.int64), table[:2], table)


def test_optimizer_kernels_refuse_overlaps_and_swapped(K, rng):
    o = K["optim"]
    p = rng.standard_normal(10).astype(np.float32)
    g = rng.standard_normal(10).astype(np.float32)
    with pytest.raises(TypeError, match="native byte order"):
        o.sgd_update(_big_endian(p), g, 0.1)
    with pytest.raises(TypeError, match="native byte order"):
        o.sgd_update(p, _big_endian(g), 0.1)
    with pytest.raises(ValueError, match="grad overlaps param"):
        o.sgd_update(p, p, 0.1)
    buf = np.zeros(30, np.float32)
    with pytest.raises(ValueError, match="overlaps"):
        o.adam_update(buf[:10], g, buf[5:15], buf[20:30], 0.1, 0.9, 0.99, 1e-7)
    with pytest.raises(ValueError, match="overlaps"):
        o.rmsprop_update(p, g, buf[:10], 0.1, 0.9, 1e-7, 0.5, buf[:10])
    with pytest.raises(ValueError, match="accumulator overlaps param"):
        o.adagrad_update(p, g, p, 0.1, 1e-7)


def test_gemm_refuses_unaligned_and_swapped(K, rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="aligned"):
        K["blas"].gemm(_unaligned(a), a.T.copy())
    with pytest.raises(TypeError):
        K["blas"].gemm(_big_endian(a), a.T.copy())


# ---- the public ops give right values for all of these ----------------------------

def test_ops_convert_big_endian_and_float64(kernels, rng):
    z = rng.standard_normal((6, 5)).astype(np.float32)
    for name in ("relu", "sigmoid", "tanh", "softmax"):
        np.testing.assert_allclose(ops.activation_from_output(name, _big_endian(z)),
                                   ref.activation_from_output(name, z), rtol=1e-6, atol=1e-7)
    x = rng.standard_normal((6, 4))
    w = rng.standard_normal((4, 3))
    b = rng.standard_normal(3)
    got = ops.dense(x, w, b, "relu")                   # float64: the reference
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.maximum(x @ w + b, 0), rtol=1e-12)
    got = ops.dense(_big_endian(x.astype(np.float32)), w.astype(np.float32),
                    _big_endian(b.astype(np.float32)), "linear")
    np.testing.assert_allclose(got, x @ w + b, rtol=1e-5, atol=1e-5)
    got = ops.dense(_unaligned(x.astype(np.float32)), w.astype(np.float32), None)
    np.testing.assert_allclose(got, x @ w, rtol=1e-5, atol=1e-5)


def test_ops_optimizer_updates_with_odd_inputs(kernels, rng):
    p = rng.standard_normal(33).astype(np.float32)
    g = rng.standard_normal(33).astype(np.float32)
    want = p.copy()
    ref.sgd_update(want, g.copy(), 0.1)
    got = p.copy()
    ops.sgd_update(got, _big_endian(g), 0.1)
    np.testing.assert_array_equal(got, want)
    # A big-endian param is updated correctly (by the reference), in place.
    pb = _big_endian(p)
    ops.sgd_update(pb, g, 0.1)
    np.testing.assert_allclose(pb, want, rtol=1e-6)
    # grad aliasing param: p - lr * p, computed from a copy.
    q = p.copy()
    ops.sgd_update(q, q, 0.5)
    np.testing.assert_allclose(q, p * 0.5, rtol=1e-6)
    m, v = np.zeros(33, np.float32), np.zeros(33, np.float32)
    mr, vr, pr = m.copy(), v.copy(), p.copy()
    ref.adam_update(pr, g, mr, vr, 1e-3, 0.9, 0.999, 1e-7)
    pk = p.copy()
    ops.adam_update(pk, _big_endian(g), m, v, 1e-3, 0.9, 0.999, 1e-7)
    np.testing.assert_allclose(pk, pr, rtol=1e-6)


def test_ops_embedding_with_swapped_ids(kernels, rng):
    table = rng.standard_normal((7, 3)).astype(np.float32)
    ids = np.array([[1, 6], [0, 3]], ">i8")
    np.testing.assert_array_equal(ops.embedding_lookup(ids, table), table[ids.astype(int)])


# ---- threads ----------------------------------------------------------------------------

def test_set_num_threads_rejects_absurd_counts():
    from ckeras import backend
    from ckeras.ops import threads
    cap = threads.max_threads()
    before = backend.get_num_threads()
    for bad in (100000, 50000, cap + 1):
        with pytest.raises(ValueError, match=f"between 1 and {cap}"):
            backend.set_num_threads(bad)
    for bad in ("4", 2.5, None):
        with pytest.raises(TypeError, match="integer"):
            backend.set_num_threads(bad)
    with pytest.raises(ValueError):
        with threads.num_threads(100000):
            pass
    assert backend.get_num_threads() == before


def test_kernels_clamp_huge_thread_counts(kernels):
    # Direct kernel calls with absurd n_threads run (clamped), in a child so a
    # crash cannot take the test run down.
    code = ("import numpy as np\n"
            "from ckeras._kernels import _activation, _openmp, _optim\n"
            "z = np.ones((64, 64), np.float32)\n"
            "y = _activation.bias_act(z, None, 'relu', 100000)\n"
            "p = np.ones(1000, np.float32)\n"
            "_optim.sgd_update(p, np.ones(1000, np.float32), 0.5, n_threads=50000)\n"
            "assert y.sum() == 64 * 64 and p.sum() == 500\n"
            "assert 1 <= _openmp.threads_used(100000) <= _openmp.thread_cap()\n"
            "print('ok')\n")
    import os
    import tempfile
    import ckeras
    # The ckeras this run tests (not an uncompiled checkout in the cwd).
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(ckeras.__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=tempfile.gettempdir(), env=env)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_omp_num_threads_env_is_clamped(monkeypatch):
    from ckeras.ops import threads
    monkeypatch.setenv("OMP_NUM_THREADS", "100000")
    assert threads.effective_n_threads() == threads.max_threads()
