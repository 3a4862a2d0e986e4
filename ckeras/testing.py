"""Finite-difference gradient checks for layers (ours and users' custom ones).

    from ckeras.testing import check_layer_gradients
    check_layer_gradients(MyLayer(...), x)   # raises AssertionError on mismatch

Runs in float64: the layer's weights are converted (in place) so central
differences are accurate to ~1e-7.
"""
import numpy as np


def to_float64(layer):
    """Convert a built layer's (or model's) weights to float64 in place."""
    for w in layer.weights:
        w.value = w.value.astype(np.float64)
        w.grad = None
    return layer


def numeric_gradient(f, x, eps=1e-6, coords=None):
    """Central differences of scalar f() w.r.t. array x (perturbed in place)."""
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in (range(flat_x.size) if coords is None else coords):
        old = flat_x[i]
        flat_x[i] = old + eps
        up = f()
        flat_x[i] = old - eps
        down = f()
        flat_x[i] = old
        flat_g[i] = (up - down) / (2 * eps)
    return grad


def check_op_gradients(fn, *xs, rng=None, rtol=1e-6, atol=1e-7, eps=1e-6, check_value=False):
    """The tape's gradient of ``sum_k sum(fn(*xs)[k] * r_k)`` (random weights
    ``r_k``; ``fn`` returns an array or a tuple of them) against central
    differences, in float64; ``check_value`` also compares the taped output with
    the plain one. Returns the tape's gradients (one per input)."""
    from ckeras import ops
    from ckeras.ops.tape import GradientTape, Tensor
    rng = np.random.default_rng(0) if rng is None else rng
    xs = [np.array(x, np.float64) for x in xs]

    def parts(out):
        return out if isinstance(out, tuple) else (out,)
    plain = [np.asarray(o) for o in parts(fn(*xs))]
    rs = [rng.standard_normal(o.shape) for o in plain]
    with GradientTape() as tape:
        ts = [Tensor(x.copy()) for x in xs]
        tape.watch(ts)
        taped = parts(fn(*ts))
        loss = ops.sum(ops.stack([ops.sum(ops.multiply(o, r)) for o, r in zip(taped, rs)]))
    grads = tape.gradient(loss, ts)
    if check_value:
        for got, want in zip(taped, plain):
            np.testing.assert_allclose(np.asarray(getattr(got, "value", got)), want,
                                       rtol=1e-12, atol=1e-12)

    def scalar():
        return sum(float(np.sum(np.asarray(o) * r)) for o, r in zip(parts(fn(*xs)), rs))
    for x, g in zip(xs, grads):
        assert g is not None, "the tape gave no gradient for an input"
        np.testing.assert_allclose(np.asarray(g), numeric_gradient(scalar, x, eps=eps),
                                   rtol=rtol, atol=atol)
    return grads


def check_layer_gradients(layer, x, training=False, mask=None, rtol=1e-5, atol=1e-6,
                          max_coords=40, seed=0):
    """Compare a layer's backward with central differences, in float64.

    The scalar checked is sum(y * r) for a fixed random r, so every output
    element contributes. Checks d/dx (every input of a multi-input layer) and
    d/dw for every trainable weight, on up to ``max_coords`` coordinates each.
    """
    rng = np.random.default_rng(seed)
    xs = [np.array(a, dtype=np.float64, order="C") for a in (x if isinstance(x, list) else [x])]
    arg = lambda: xs if isinstance(x, list) else xs[0]  # noqa: E731
    if not layer.built:
        shapes = [(None,) + a.shape[1:] for a in xs]
        layer._maybe_build(shapes if isinstance(x, list) else shapes[0])
    layer.forward(arg(), training, mask)   # sub-layers built lazily get their weights
    to_float64(layer)
    y, _ = layer.forward(arg(), training, mask)
    outs = y if isinstance(y, list) else [y]
    rs = [rng.standard_normal(o.shape) for o in outs]

    def loss():
        out, _ = layer.forward(arg(), training, mask)
        out = out if isinstance(out, list) else [out]
        return float(sum((o * r).sum() for o, r in zip(out, rs)))

    for w in layer.weights:
        w.grad = np.zeros_like(w.value)
    _, backward = layer.forward(arg(), training, mask)
    dy = rs if isinstance(y, list) else rs[0]
    dxs = backward(dy, need_dx=True)
    dxs = dxs if isinstance(dxs, list) else [dxs]

    def coords(a):
        n = a.size
        return None if n <= max_coords else rng.choice(n, max_coords, replace=False)

    for i, (a, dx) in enumerate(zip(xs, dxs)):
        if dx is None or not np.issubdtype(a.dtype, np.floating):
            continue
        c = coords(a)
        num = numeric_gradient(loss, a, coords=c)
        _assert_close(np.asarray(dx).reshape(-1), num.reshape(-1), c, rtol, atol,
                      f"{layer.name}: d/d input {i}")
    for w in layer.trainable_weights:
        c = coords(w.value)
        num = numeric_gradient(loss, w.value, coords=c)
        _assert_close(w.grad.reshape(-1), num.reshape(-1), c, rtol, atol,
                      f"{layer.name}: d/d {w.name}")


def _assert_close(analytic, numeric, coords, rtol, atol, what):
    idx = np.arange(analytic.size) if coords is None else np.asarray(coords)
    a, n = analytic[idx], numeric[idx]
    scale = max(1.0, float(np.abs(n).max(initial=0.0)))
    if not np.allclose(a, n, rtol=rtol, atol=atol * scale):
        worst = int(np.argmax(np.abs(a - n)))
        raise AssertionError(f"{what}: analytic {a[worst]!r} vs numeric {n[worst]!r} "
                             f"at flat index {idx[worst]} (max abs diff "
                             f"{np.abs(a - n).max():.3e})")
