"""Fused in-place optimizer updates vs the numpy reference."""
import numpy as np
import pytest

from ckeras.ops import reference as ref

SIZES = [1, 17, 4099, 70001]          # crosses the chunk size and the parallel threshold

# name -> (state slot names, kwargs builder)
CASES = {
    "sgd": ([], {"lr": 0.1}),
    "sgd_momentum": (["velocity"], {"lr": 0.05, "momentum": 0.9}),
    "sgd_nesterov": (["velocity"], {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "adam": (["m", "v"], {"lr_t": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    "adam_amsgrad": (["m", "v", "vhat"], {"lr_t": 1e-3, "beta_1": 0.9, "beta_2": 0.999,
                                          "epsilon": 1e-7}),
    "rmsprop": (["velocity"], {"lr": 1e-3, "rho": 0.9, "epsilon": 1e-7}),
    "rmsprop_momentum": (["velocity", "momentum_buf"], {"lr": 1e-3, "rho": 0.9,
                                                        "epsilon": 1e-7, "momentum": 0.5}),
    "rmsprop_centered": (["velocity", "average_grad"], {"lr": 1e-3, "rho": 0.9, "epsilon": 1e-7}),
    "rmsprop_both": (["velocity", "momentum_buf", "average_grad"],
                     {"lr": 1e-3, "rho": 0.8, "epsilon": 1e-7, "momentum": 0.3}),
    "adagrad": (["accumulator"], {"lr": 0.01, "epsilon": 1e-7}),
}


def _state(rng, name, n, dtype=np.float32):
    slots, kwargs = CASES[name]
    param = rng.standard_normal(n).astype(dtype)
    grad = rng.standard_normal(n).astype(dtype)
    st = {}
    for s in slots:
        v = rng.uniform(0, 1, n) if s in ("v", "vhat", "velocity", "accumulator") else rng.standard_normal(n)
        st[s] = v.astype(dtype)
    if "vhat" in st:
        st["vhat"][::2] = 5.0                       # vhat > v on half the elements
    if "average_grad" in st:                        # keep velocity >= average_grad**2
        st["average_grad"] = (np.sqrt(st["velocity"]) * rng.uniform(-0.9, 0.9, n)).astype(dtype)
    return param, grad, st, dict(kwargs)


def _apply(ops_mod, name, param, grad, st, kw):
    if name.startswith("sgd"):
        ops_mod.sgd_update(param, grad, velocity=st.get("velocity"), **kw)
    elif name.startswith("adam"):
        ops_mod.adam_update(param, grad, st["m"], st["v"], vhat=st.get("vhat"), **kw)
    elif name.startswith("rmsprop"):
        ops_mod.rmsprop_update(param, grad, st["velocity"], momentum_buf=st.get("momentum_buf"),
                               average_grad=st.get("average_grad"), **kw)
    else:
        ops_mod.adagrad_update(param, grad, st["accumulator"], **kw)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("n", SIZES)
def test_update_matches_reference(kernels, rng, name, n):
    param, grad, st, kw = _state(rng, name, n)
    p_ref, st_ref = param.copy(), {k: v.copy() for k, v in st.items()}
    for _ in range(3):                               # a few steps, state carried over
        _apply(kernels, name, param, grad, st, kw)
        _apply(ref, name, p_ref, grad, st_ref, kw)
    np.testing.assert_allclose(param, p_ref, rtol=1e-6, atol=1e-7)
    for k in st:
        np.testing.assert_allclose(st[k], st_ref[k], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_update_across_threads(across_threads, rng, name):
    from ckeras import ops
    init = _state(rng, name, 9001)

    def run():
        param, grad, st, kw = init[0].copy(), init[1], {k: v.copy() for k, v in init[2].items()}, init[3]
        _apply(ops, name, param, grad, st, kw)
        return (param,) + tuple(st[k] for k in sorted(st))
    across_threads(run)


def test_2d_params_float64_and_views(kernels, rng):
    # 2-D C-contiguous params are updated as flat arrays; float64 grads are cast once
    p = rng.standard_normal((30, 7)).astype(np.float32)
    g = rng.standard_normal((30, 7))
    p_ref = p.copy()
    kernels.sgd_update(p, g, 0.1)
    ref.sgd_update(p_ref, g.astype(np.float32), 0.1)
    np.testing.assert_allclose(p, p_ref, rtol=1e-6)
    # float64 params and non-contiguous views go to the reference, still in place
    p64 = rng.standard_normal(10)
    before = p64.copy()
    kernels.adagrad_update(p64, np.ones(10), np.zeros(10), 0.1, 1e-7)
    np.testing.assert_allclose(p64, before - 0.1 / np.sqrt(1 + 1e-7))
    big = np.zeros((4, 6), np.float32)
    kernels.sgd_update(big[:, ::2], np.ones((4, 3), np.float32), 1.0)
    assert (big[:, ::2] == -1).all() and (big[:, 1::2] == 0).all()
