"""``keras.ops.linalg``: norms, decompositions, inverses and solves, each
differentiable on the tape where Keras's are (see ``ckeras.ops.array_ops``)."""
import numpy as np

from ckeras.ops import array_ops as _a
from ckeras.ops.array_ops import _record, _recording, _recording_pair, _v, op
from ckeras.ops.tape import unbroadcast

__all__ = ["norm", "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq",
           "lu_factor", "matrix_rank", "pinv", "qr", "solve", "solve_triangular", "svd"]


@op
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (``ord`` None/2, 1, inf, -inf, p) over ``axis``; over two
    axes (or a 2-D input with ``axis=None``) the Frobenius norm."""
    nd = np.ndim(_v(x))
    axes = tuple(range(nd)) if axis is None else axis
    if ord in (None, 2, "fro", "euclidean") or (ord == 2 and isinstance(axes, int)):
        if ord == 2 and not isinstance(axes, int) and len(axes) == 2:
            raise NotImplementedError("ckeras.ops.linalg.norm: the matrix 2-norm (largest "
                                      "singular value) is not implemented; use ord='fro'.")
        return _a.sqrt(_a.sum(_a.square(x), axis=axis, keepdims=keepdims))
    if isinstance(axes, (tuple, list)) and len(axes) > 1:
        raise NotImplementedError(f"ckeras.ops.linalg.norm: matrix norm ord={ord!r} is not "
                                  "implemented; use ord='fro' or a single axis.")
    if ord == 1:
        return _a.sum(_a.abs(x), axis=axis, keepdims=keepdims)
    if ord == np.inf or ord == "inf":
        return _a.max(_a.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _a.min(_a.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return _a.sum(_a.cast(_a.not_equal(x, 0), "float32"), axis=axis, keepdims=keepdims)
    p = float(ord)
    return _a.power(_a.sum(_a.power(_a.abs(x), p), axis=axis, keepdims=keepdims), 1.0 / p)


# ---- decompositions, inverses and solves -----------------------------------------------------
# Each records its vector-Jacobian product (Giles 2008, "Collected matrix derivative
# results"; Murray 2016 for Cholesky). A decomposition with several outputs records
# one node per output, so a backward that is not implemented raises only when that
# output is actually differentiated.

def _mT(a):
    return np.swapaxes(a, -1, -2)


def _sym(a):
    return (a + _mT(a)) / 2


def _square(a, name):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"ops.linalg.{name}: expected square matrices (..., n, n), got shape "
                         f"{a.shape}.")


def _f(x):
    a = np.asarray(_v(x))
    return a if a.dtype.kind in "fc" else a.astype(np.float32)


def _node(x, y, back):
    tape = _recording(x)
    return y if tape is None else _record(tape, y, (x,), (True,), lambda g: (back(g),))


def _no_backward(name):
    def back(g):
        raise NotImplementedError(f"ckeras.ops.linalg.{name}: this output has no gradient in "
                                  "ckeras.")
    return back


@op
def inv(x):
    a = _f(x)
    _square(a, "inv")
    y = np.linalg.inv(a)
    return _node(x, y, lambda g: -_mT(y) @ g @ _mT(y))


@op
def det(x):
    a = _f(x)
    _square(a, "det")
    y = np.linalg.det(a)
    # d det = det * tr(A^-1 dA)
    return _node(x, y, lambda g: (np.asarray(g) * y)[..., None, None] * _mT(np.linalg.inv(a)))


def _solve_b(a, b):
    """numpy 2 / JAX rule: ``b`` is a vector only when it is 1-D."""
    return np.linalg.solve(a, b[..., None])[..., 0] if b.ndim == 1 else np.linalg.solve(a, b)


def _solve_node(a_in, b_in, a, y, solve_t, mask=None):
    """x = A^-1 b: b_bar = A^-T g, A_bar = -b_bar x^T (kept to ``mask``'s triangle)."""
    tape, n1, n2 = _recording_pair(a_in, b_in)
    if tape is None:
        return y
    vec = np.ndim(_v(b_in)) == 1

    def back(g):
        gb = solve_t(g)
        ga = None
        if n1:
            ga = unbroadcast(-(gb[..., :, None] * y[..., None, :]) if vec else -gb @ _mT(y), a.shape)
            if mask is not None:
                ga = mask(ga)
        return ga, (unbroadcast(gb, np.shape(_v(b_in))) if n2 else None)
    return _record(tape, y, (a_in, b_in), (n1, n2), back)


@op
def solve(a, b):
    am, bm = _f(a), _f(b)
    _square(am, "solve")
    y = _solve_b(am, bm)
    return _solve_node(a, b, am, y, lambda g: _solve_b(_mT(am), np.asarray(g)))


@op
def solve_triangular(a, b, lower=False):
    """Solve with the lower (or upper) triangle of ``a``; the other triangle is ignored."""
    am, bm = _f(a), _f(b)
    _square(am, "solve_triangular")
    tri = np.tril if lower else np.triu
    t = tri(am)
    y = _solve_b(t, bm)
    return _solve_node(a, b, am, y, lambda g: _solve_b(_mT(t), np.asarray(g)), tri)


@op
def cholesky(x, upper=False):
    """Cholesky factor of the symmetric part of ``x`` (as JAX: (x + x^T) / 2)."""
    a = _f(x)
    _square(a, "cholesky")
    try:
        low = np.linalg.cholesky(_sym(a))
    except np.linalg.LinAlgError:
        raise ValueError("Cholesky decomposition failed. The input might not be a valid "
                         "positive definite matrix.") from None

    def back(g):
        gl = _mT(g) if upper else np.asarray(g)
        # A_bar = sym(L^-T Phi(L^T L_bar) L^-1), Phi = lower triangle, diagonal halved
        p = _mT(low) @ gl
        p = np.tril(p) - np.tril(p) * np.eye(a.shape[-1]) / 2
        linv = np.linalg.inv(low)
        return _sym(_mT(linv) @ p @ linv)
    return _node(x, _mT(low) if upper else low, back)


@op
def cholesky_inverse(x, upper=False):
    """(L L^T)^-1 from the lower Cholesky factor ``x`` (U^T U from the upper one)."""
    li = solve_triangular(x, np.eye(np.shape(_v(x))[-1]), lower=not upper)
    return _a.matmul(li, _a.swapaxes(li, -1, -2)) if upper else \
        _a.matmul(_a.swapaxes(li, -1, -2), li)


@op
def eigh(x):
    """(eigenvalues ascending, eigenvectors) of the symmetric part of ``x``."""
    a = _f(x)
    _square(a, "eigh")
    w, vecs = np.linalg.eigh(_sym(a))
    tape = _recording(x)
    if tape is None:
        return w, vecs

    def back_w(g):
        return _sym((vecs * np.asarray(g)[..., None, :]) @ _mT(vecs))

    def back_v(g):
        # V (F o (V^T V_bar)) V^T, F_ij = 1 / (w_j - w_i) off the diagonal
        diff = w[..., None, :] - w[..., :, None]
        eye = np.eye(w.shape[-1], dtype=bool)
        f = np.where(eye, 0, 1 / np.where(eye, 1, diff))
        return _sym(vecs @ (f * (_mT(vecs) @ g)) @ _mT(vecs))
    return (_record(tape, w, (x,), (True,), lambda g: (back_w(g),)),
            _record(tape, vecs, (x,), (True,), lambda g: (back_v(g),)))


@op
def eig(x):
    """(eigenvalues, eigenvectors), complex in general; no gradient."""
    a = _f(x)
    _square(a, "eig")
    w, vecs = np.linalg.eig(a)
    if _recording(x) is not None:
        raise NotImplementedError("ckeras.ops.linalg.eig has no gradient; for symmetric "
                                  "matrices use ops.linalg.eigh.")
    return w, vecs


def _copyltu(m):
    return np.tril(m) + _mT(np.tril(m, -1))


@op
def qr(x, mode="reduced"):
    if mode not in ("reduced", "complete"):
        raise ValueError("`mode` argument value not supported. Expected one of "
                         f"{{'reduced', 'complete'}}. Received: mode={mode}")
    a = _f(x)
    q, r = np.linalg.qr(a, mode=mode)
    tape = _recording(x)
    if tape is None:
        return q, r
    m, n = a.shape[-2:]
    if m < n or (mode == "complete" and m != n):
        return (_record(tape, q, (x,), (True,), lambda g: (_no_backward("qr")(g),)),
                _record(tape, r, (x,), (True,), lambda g: (_no_backward("qr")(g),)))

    def back(gq, gr):
        # A_bar = (Q_bar + Q copyltu(M)) R^-T, M = R R_bar^T - Q_bar^T Q
        mm = r @ _mT(gr) - _mT(gq) @ q
        return _mT(np.linalg.solve(r, _mT(gq + q @ _copyltu(mm))))
    return (_record(tape, q, (x,), (True,), lambda g: (back(np.asarray(g), np.zeros_like(r)),)),
            _record(tape, r, (x,), (True,), lambda g: (back(np.zeros_like(q), np.asarray(g)),)))


@op
def svd(x, full_matrices=True, compute_uv=True):
    """(u, s, v^T) or s; only the singular values are differentiable."""
    a = _f(x)
    if not compute_uv:
        s = np.linalg.svd(a, compute_uv=False)
        u, vt = np.linalg.svd(a, full_matrices=False)[0::2] if _recording(x) else (None, None)
        return _node(x, s, lambda g: (u * np.asarray(g)[..., None, :]) @ vt)
    u, s, vt = np.linalg.svd(a, full_matrices=full_matrices)
    tape = _recording(x)
    if tape is None:
        return u, s, vt
    k = s.shape[-1]
    return (_record(tape, u, (x,), (True,), lambda g: (_no_backward("svd (u)")(g),)),
            _record(tape, s, (x,), (True,),
                    lambda g: ((u[..., :k] * np.asarray(g)[..., None, :]) @ vt[..., :k, :],)),
            _record(tape, vt, (x,), (True,), lambda g: (_no_backward("svd (v)")(g),)))


def _pinv_back(a, p, g):
    """VJP of A+ (constant rank, Golub & Pereyra 1973)."""
    i_m = np.eye(a.shape[-2])
    i_n = np.eye(a.shape[-1])
    return (-_mT(p) @ g @ _mT(p) + (i_m - a @ p) @ _mT(g) @ p @ _mT(p)
            + _mT(p) @ p @ _mT(g) @ (i_n - p @ a))


def _rank2(a, name):
    if a.ndim < 2:
        raise ValueError(f"Expected input to have rank >= 2. Received input with shape "
                         f"{a.shape}.")


@op
def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse; rcond None is JAX's 10 * max(m, n) * eps."""
    a = _f(x)
    _rank2(a, "pinv")
    if rcond is None:
        rcond = 10 * max(a.shape[-2:]) * np.finfo(a.dtype).eps
    p = np.linalg.pinv(a, rcond=rcond)
    return _node(x, p, lambda g: _pinv_back(a, p, np.asarray(g)))


@op
def lstsq(a, b, rcond=None):
    """The least-squares solution x of a x = b (a 2-D)."""
    am, bm = _f(a), _f(b)
    if am.ndim != 2 or bm.ndim not in (1, 2):
        raise ValueError(f"ops.linalg.lstsq: a must be 2-D and b 1-D or 2-D; got shapes "
                         f"{am.shape} and {bm.shape}.")
    y = np.linalg.lstsq(am, bm, rcond=rcond)[0]
    tape, n1, n2 = _recording_pair(a, b)
    if tape is None:
        return y
    p = np.linalg.pinv(am, rcond=np.finfo(am.dtype).eps * max(am.shape) if rcond is None
                       else rcond)
    b2 = bm[:, None] if bm.ndim == 1 else bm

    def back(g):
        g2 = np.asarray(g).reshape(y.shape[0], -1)
        ga = _pinv_back(am, p, g2 @ b2.T) if n1 else None
        gb = (p.T @ g2).reshape(bm.shape) if n2 else None
        return ga, gb
    return _record(tape, y, (a, b), (n1, n2), back)


@op
def lu_factor(x):
    """(lu, pivots) as scipy.linalg.lu_factor (0-based pivots), batched; no gradient."""
    from scipy.linalg import lu_factor as _scipy_lu
    a = _f(x)
    _square(a, "lu_factor")
    if _recording(x) is not None:
        raise NotImplementedError("ckeras.ops.linalg.lu_factor has no gradient.")
    flat = a.reshape((-1,) + a.shape[-2:])
    parts = [_scipy_lu(m) for m in flat]
    lu = np.stack([p[0] for p in parts]).reshape(a.shape)
    piv = np.stack([p[1] for p in parts]).astype(np.int32).reshape(a.shape[:-1])
    return lu, piv


@op
def matrix_rank(x, tol=None):
    a = _f(x)
    _rank2(a, "matrix_rank")
    return np.asarray(np.linalg.matrix_rank(a, tol=tol)).astype(np.int32)


def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode J t of ``fun`` at ``primals``, here from reverse mode: one
    backward pass per output element (fine for the small outputs jvp is used on)."""
    from ckeras.ops.tape import GradientTape, Tensor
    primals, tangents = list(primals), list(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"ops.jvp: {len(primals)} primals but {len(tangents)} tangents.")
    xs = [Tensor(_f(p)) for p in primals]
    with GradientTape(persistent=True) as tape:
        tape.watch(xs)
        out = fun(*xs)
    out, aux = out if has_aux else (out, None)
    single = not isinstance(out, (list, tuple))
    outs = [out] if single else list(out)
    tans = []
    for y in outs:
        yv = np.asarray(_v(y))
        t = np.zeros(yv.shape, np.result_type(yv, np.float32))
        for i in range(yv.size):
            seed = np.zeros(yv.shape, t.dtype)
            seed.flat[i] = 1
            grads = tape.gradient(y, xs, output_gradients=seed) if type(y) is Tensor else \
                [None] * len(xs)
            t.flat[i] = sum(float(np.sum(np.asarray(g) * np.asarray(_v(tv))))
                            for g, tv in zip(grads, tangents) if g is not None)
        tans.append(t)
    vals = [np.asarray(_v(y)) for y in outs]
    res = (vals[0], tans[0]) if single else (type(out)(vals), type(out)(tans))
    return res + (aux,) if has_aux else res
