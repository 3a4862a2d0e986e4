"""Optimizers: Keras 3 update formulas (vs float64 numpy references written
here from the Keras 3 formulas), saved-state layout, config round trips."""
import copy
import json
import math
import os

import numpy as np
import pytest

from ckeras import optimizers
from ckeras.optimizers import schedules
from ckeras import registry
from ckeras.variables import Variable

FIXTURES = "/work/shared/fixtures/keras_h5"
N_STEPS = 6


# ---- float64 references of the Keras 3 formulas ------------------------------

def ref_sgd(momentum=0.0, nesterov=False):
    def step(w, g, s, t, lr):
        if momentum == 0:
            return w - lr * g
        m = s.get("m", np.zeros_like(w))
        m = momentum * m - lr * g
        s["m"] = m
        return w + momentum * m - lr * g if nesterov else w + m
    return step


def ref_adam(b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    def step(w, g, s, t, lr):
        m = s.get("m", np.zeros_like(w))
        v = s.get("v", np.zeros_like(w))
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        s["m"], s["v"] = m, v
        if amsgrad:
            vh = np.maximum(s.get("vh", np.zeros_like(w)), v)
            s["vh"] = vh
            v = vh
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - alpha * m / (np.sqrt(v) + eps)
    return step


def ref_rmsprop(rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def step(w, g, s, t, lr):
        v = rho * s.get("v", np.zeros_like(w)) + (1 - rho) * g * g
        s["v"] = v
        if centered:
            a = rho * s.get("a", np.zeros_like(w)) + (1 - rho) * g
            s["a"] = a
            denom = v - a * a + eps
        else:
            denom = v + eps
        inc = lr * g / np.sqrt(denom)
        if momentum > 0:
            m = momentum * s.get("m", np.zeros_like(w)) + inc
            s["m"] = m
            return w - m
        return w - inc
    return step


def ref_adagrad(init=0.1, eps=1e-7):
    def step(w, g, s, t, lr):
        acc = s.get("acc", np.full_like(w, init)) + g * g
        s["acc"] = acc
        return w - lr * g / np.sqrt(acc + eps)
    return step


def ref_adadelta(rho=0.95, eps=1e-7):
    def step(w, g, s, t, lr):
        ag = rho * s.get("ag", np.zeros_like(w)) + (1 - rho) * g * g
        adv = s.get("adv", np.zeros_like(w))
        delta = -np.sqrt(adv + eps) * g / np.sqrt(ag + eps)
        s["ag"], s["adv"] = ag, rho * adv + (1 - rho) * delta * delta
        return w + lr * delta
    return step


def ref_adamax(b1=0.9, b2=0.999, eps=1e-7):
    def step(w, g, s, t, lr):
        m = s.get("m", np.zeros_like(w))
        m = m + (g - m) * (1 - b1)
        u = np.maximum(b2 * s.get("u", np.zeros_like(w)), np.abs(g))
        s["m"], s["u"] = m, u
        return w - lr * m / ((1 - b1 ** t) * (u + eps))
    return step


class RefNadam:
    def __init__(self, b1=0.9, b2=0.999, eps=1e-7):
        self.b1, self.b2, self.eps = b1, b2, eps
        self.u_product = 1.0

    def begin(self, t):
        self.u_product *= self.b1 * (1 - 0.5 * 0.96 ** t)

    def __call__(self, w, g, s, t, lr):
        b1, b2 = self.b1, self.b2
        u_t = b1 * (1 - 0.5 * 0.96 ** t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        up_t, up_t1 = self.u_product, self.u_product * u_t1
        m = s.get("m", np.zeros_like(w))
        v = s.get("v", np.zeros_like(w))
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        s["m"], s["v"] = m, v
        m_hat = u_t1 * m / (1 - up_t1) + (1 - u_t) * g / (1 - up_t)
        v_hat = v / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + self.eps)


def ref_lion(b1=0.9, b2=0.99):
    def step(w, g, s, t, lr):
        m = s.get("m", np.zeros_like(w))
        w = w - lr * np.sign(b1 * m + (1 - b1) * g)
        s["m"] = b2 * m + (1 - b2) * g
        return w
    return step


def ref_ftrl(power=-0.5, init=0.1, l1=0.0, l2=0.0, shrink=0.0, beta=0.0):
    def step(w, g, s, t, lr):
        acc = s.get("acc", np.full_like(w, init))
        lin = s.get("lin", np.zeros_like(w))
        l2_eff = l2 + beta / (2 * lr)
        new_acc = acc + g * g
        lin = lin + g + 2 * shrink * w - (new_acc ** -power - acc ** -power) / lr * w
        quad = new_acc ** -power / lr + 2 * l2_eff
        s["acc"], s["lin"] = new_acc, lin
        return (np.clip(lin, -l1, l1) - lin) / quad
    return step


def reference_run(step, weights, grad_seq, lr_at, clipnorm=None, clipvalue=None,
                  global_clipnorm=None, weight_decay=None, constraint=None):
    step = copy.deepcopy(step)        # stateful references (Nadam) start fresh
    ws = [w.astype(np.float64) for w in weights]
    states = [{} for _ in ws]
    for it, grads in enumerate(grad_seq):
        t, lr = it + 1, lr_at(it)
        gs = [g.astype(np.float64) for g in grads]
        if clipnorm:
            gs = [g * clipnorm / max(np.linalg.norm(g), clipnorm) for g in gs]
        if global_clipnorm:
            n = math.sqrt(sum(float(np.sum(g * g)) for g in gs))
            gs = [g * global_clipnorm / max(n, global_clipnorm) for g in gs]
        if clipvalue:
            gs = [np.clip(g, -clipvalue, clipvalue) for g in gs]
        if weight_decay:
            ws = [w - w * weight_decay * lr for w in ws]
        if hasattr(step, "begin"):
            step.begin(t)
        ws = [step(w, g, s, t, lr) for w, g, s in zip(ws, gs, states)]
        if constraint is not None:
            ws = [constraint(w) for w in ws]
    return ws


# ---- helpers ---------------------------------------------------------------

def make_problem(seed=0, grad_scale=1.0):
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=(4, 3)).astype(np.float32),
            rng.normal(size=(3,)).astype(np.float32)]
    grads = [[(grad_scale * rng.normal(size=w.shape)).astype(np.float32) for w in init]
             for _ in range(N_STEPS)]
    return init, grads


def make_vars(init, prefix="mlp/dense"):
    return [Variable(init[0].copy(), "kernel", path=f"{prefix}/kernel"),
            Variable(init[1].copy(), "bias", path=f"{prefix}/bias")]


def run_opt(opt, init, grads, variables=None):
    vs = variables or make_vars(init)
    for step_grads in grads:
        for v, g in zip(vs, step_grads):
            v.grad[...] = g
        opt.apply(vs)
    return vs


CASES = [
    ("sgd", lambda: optimizers.SGD(0.1), ref_sgd()),
    ("sgd_momentum", lambda: optimizers.SGD(0.1, momentum=0.9), ref_sgd(0.9)),
    ("sgd_nesterov", lambda: optimizers.SGD(0.1, momentum=0.8, nesterov=True),
     ref_sgd(0.8, True)),
    ("adam", lambda: optimizers.Adam(0.05), ref_adam()),
    ("adam_betas", lambda: optimizers.Adam(0.05, beta_1=0.8, beta_2=0.9, epsilon=1e-3),
     ref_adam(0.8, 0.9, 1e-3)),
    ("adam_amsgrad", lambda: optimizers.Adam(0.05, amsgrad=True), ref_adam(amsgrad=True)),
    ("rmsprop", lambda: optimizers.RMSprop(0.01), ref_rmsprop()),
    ("rmsprop_momentum", lambda: optimizers.RMSprop(0.01, momentum=0.5),
     ref_rmsprop(momentum=0.5)),
    ("rmsprop_centered", lambda: optimizers.RMSprop(0.01, rho=0.8, centered=True),
     ref_rmsprop(rho=0.8, centered=True)),
    ("rmsprop_both", lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
     ref_rmsprop(momentum=0.5, centered=True)),
    ("adagrad", lambda: optimizers.Adagrad(0.1), ref_adagrad()),
    ("adagrad_init", lambda: optimizers.Adagrad(0.1, initial_accumulator_value=1.0),
     ref_adagrad(1.0)),
    ("adadelta", lambda: optimizers.Adadelta(1.0, rho=0.9), ref_adadelta(0.9)),
    ("adamax", lambda: optimizers.Adamax(0.05), ref_adamax()),
    ("nadam", lambda: optimizers.Nadam(0.05), RefNadam()),
    ("lion", lambda: optimizers.Lion(0.05), ref_lion()),
    ("ftrl", lambda: optimizers.Ftrl(0.1), ref_ftrl()),
    ("ftrl_reg", lambda: optimizers.Ftrl(0.1, learning_rate_power=-0.7, l1_regularization_strength=0.01,
                                          l2_regularization_strength=0.1,
                                          l2_shrinkage_regularization_strength=0.05, beta=0.2),
     ref_ftrl(-0.7, 0.1, 0.01, 0.1, 0.05, 0.2)),
]


@pytest.mark.parametrize("label,make,ref", CASES, ids=[c[0] for c in CASES])
def test_update_matches_keras_formula(label, make, ref, ops_impl):
    init, grads = make_problem()
    opt = make()
    vs = run_opt(opt, init, grads)
    expected = reference_run(ref, init, grads, lambda it: opt.learning_rate)
    for v, e, w0 in zip(vs, expected, init):
        assert not np.allclose(e, w0, atol=1e-3), "reference did not move: weak test"
        np.testing.assert_allclose(v.value, e, rtol=2e-5, atol=2e-6)
    assert opt.iterations == N_STEPS
    assert vs[0].value.dtype == np.float32


@pytest.mark.parametrize("kind,value", [("clipnorm", 0.5), ("clipvalue", 0.3),
                                        ("global_clipnorm", 1.0)])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_clipping(kind, value, opt_name, ops_impl):
    init, grads = make_problem(seed=1, grad_scale=3.0)
    if opt_name == "sgd":
        opt, ref = optimizers.SGD(0.1, momentum=0.5, **{kind: value}), ref_sgd(0.5)
    else:
        opt, ref = optimizers.Adam(0.05, **{kind: value}), ref_adam()
    vs = make_vars(init)
    for step_grads in grads:
        for v, g in zip(vs, step_grads):
            v.grad[...] = g
        opt.apply(vs)
        for v, g in zip(vs, step_grads):     # the gradient buffers are untouched
            np.testing.assert_array_equal(v.grad, g)
    expected = reference_run(ref, init, grads, lambda it: opt.learning_rate, **{kind: value})
    unclipped = reference_run(ref, init, grads, lambda it: opt.learning_rate)
    assert not np.allclose(expected[0], unclipped[0], atol=1e-4)
    for v, e in zip(vs, expected):
        np.testing.assert_allclose(v.value, e, rtol=2e-5, atol=2e-6)


def test_only_one_clip_argument():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


@pytest.mark.parametrize("make,ref,wd", [
    (lambda: optimizers.SGD(0.1, weight_decay=0.05), ref_sgd(), 0.05),
    (lambda: optimizers.Adam(0.05, weight_decay=0.1), ref_adam(), 0.1),
    (lambda: optimizers.AdamW(0.05), ref_adam(), 0.004),
    (lambda: optimizers.AdamW(0.05, weight_decay=0.2, amsgrad=True), ref_adam(amsgrad=True), 0.2),
    (lambda: optimizers.RMSprop(0.01, weight_decay=0.3), ref_rmsprop(), 0.3),
])
def test_weight_decay_is_decoupled(make, ref, wd, ops_impl):
    init, grads = make_problem(seed=2)
    opt = make()
    vs = run_opt(opt, init, grads)
    expected = reference_run(ref, init, grads, lambda it: opt.learning_rate, weight_decay=wd)
    no_decay = reference_run(ref, init, grads, lambda it: opt.learning_rate)
    assert not np.allclose(expected[0], no_decay[0], atol=1e-5)
    for v, e in zip(vs, expected):
        np.testing.assert_allclose(v.value, e, rtol=2e-5, atol=2e-6)


def test_adamw_defaults_and_requires_weight_decay():
    opt = optimizers.AdamW()
    assert opt.weight_decay == 0.004 and opt.name == "adam_w"
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


def test_exclude_from_weight_decay():
    init, grads = make_problem(seed=3)
    vs = make_vars(init)
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    run_opt(opt, init, grads, vs)
    kernel = reference_run(ref_sgd(), init[:1], [g[:1] for g in grads], lambda it: 0.1,
                           weight_decay=0.5)[0]
    bias = reference_run(ref_sgd(), init[1:], [g[1:] for g in grads], lambda it: 0.1)[0]
    np.testing.assert_allclose(vs[0].value, kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vs[1].value, bias, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        opt.exclude_from_weight_decay(var_names=["kernel"])   # already built


def test_constraint_applied_after_each_update():
    init, grads = make_problem(seed=4)
    vs = make_vars(init)
    nonneg = lambda w: np.maximum(w, 0.0)  # noqa: E731
    vs[0].constraint = nonneg
    opt = optimizers.Adam(0.1)
    run_opt(opt, init, grads, vs)
    kernel = reference_run(ref_adam(), init[:1], [g[:1] for g in grads], lambda it: 0.1,
                           constraint=nonneg)[0]
    bias = reference_run(ref_adam(), init[1:], [g[1:] for g in grads], lambda it: 0.1)[0]
    assert (vs[0].value >= 0).all() and (vs[1].value < 0).any()
    np.testing.assert_allclose(vs[0].value, kernel, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(vs[1].value, bias, rtol=2e-5, atol=2e-6)


def test_fused_ops_are_used(monkeypatch):
    from ckeras import ops
    calls = []
    for name in ("sgd_update", "adam_update", "rmsprop_update", "adagrad_update"):
        orig = getattr(ops, name)

        def wrapper(*a, _orig=orig, _name=name, **k):
            calls.append(_name)
            return _orig(*a, **k)
        monkeypatch.setattr(ops, name, wrapper)
    init, grads = make_problem()
    for opt, name in [(optimizers.SGD(momentum=0.9), "sgd_update"),
                      (optimizers.Adam(), "adam_update"),
                      (optimizers.AdamW(), "adam_update"),
                      (optimizers.RMSprop(), "rmsprop_update"),
                      (optimizers.Adagrad(), "adagrad_update")]:
        calls.clear()
        run_opt(opt, init, grads[:1])
        assert calls == [name, name]


def test_iterations_and_bias_correction_step():
    # After a set_variables with iteration=9 the next Adam step must use t=10.
    init, grads = make_problem(seed=5)
    vs = make_vars(init)
    opt = optimizers.Adam(0.05)
    opt.build(vs)
    values = [a.copy() for _, a in opt.variables()]
    values[0] = np.array(9, dtype=np.int64)
    opt.set_variables(values)
    for v, g in zip(vs, grads[0]):
        v.grad[...] = g
    opt.apply(vs)
    assert opt.iterations == 10
    ref = ref_adam()
    expected = [ref(w.astype(np.float64), g.astype(np.float64), {}, 10, 0.05)
                for w, g in zip(init, grads[0])]
    for v, e in zip(vs, expected):
        np.testing.assert_allclose(v.value, e, rtol=1e-5, atol=1e-6)


# ---- learning rate and schedules --------------------------------------------

def test_learning_rate_float32_and_settable():
    opt = optimizers.Adam()
    assert opt.learning_rate == 0.0010000000474974513
    assert opt.get_config()["learning_rate"] == 0.0010000000474974513
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    init, grads = make_problem(seed=6)
    sgd = optimizers.SGD(0.1)
    vs = make_vars(init)
    run_opt(sgd, init, grads[:1], vs)
    sgd.learning_rate = 0.01
    run_opt(sgd, init, grads[1:2], vs)
    expected = init[0].astype(np.float64) - 0.1 * grads[0][0] - 0.01 * grads[1][0]
    np.testing.assert_allclose(vs[0].value, expected, rtol=1e-6, atol=1e-6)


def test_tf_keras_2_lr_argument_is_accepted_with_a_warning():
    # Keras 3 rejects lr=; ckeras accepts the tf.keras 2 spelling (README).
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = optimizers.Adam(lr=0.1)
    assert opt.learning_rate == pytest.approx(0.1)
    with pytest.raises(ValueError) as err:
        optimizers.SGD(lrr=0.1)
    assert str(err.value) == "Argument(s) not recognized: {'lrr': 0.1}"


def test_unsupported_options():
    with pytest.raises(NotImplementedError):
        optimizers.Adam(use_ema=True)
    with pytest.raises(NotImplementedError):
        optimizers.Adam(gradient_accumulation_steps=4)
    with pytest.raises(ValueError):
        optimizers.Adam(learning_rate="fast")


def test_loss_scale_factor_divides_gradients():
    init, grads = make_problem(seed=7)
    opt = optimizers.SGD(0.1, loss_scale_factor=4.0)
    vs = run_opt(opt, init, grads[:2])
    expected = init[0].astype(np.float64) - 0.1 * (grads[0][0] + grads[1][0]) / 4.0
    np.testing.assert_allclose(vs[0].value, expected, rtol=1e-6, atol=1e-6)


def test_optimizer_with_schedule():
    sched = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=sched, momentum=0.9)
    assert opt.learning_rate == pytest.approx(0.1)
    init, grads = make_problem(seed=8)
    vs = run_opt(opt, init, grads)
    assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** (N_STEPS / 2), rel=1e-6)
    expected = reference_run(ref_sgd(0.9), init, grads, lambda it: 0.1 * 0.5 ** (it / 2))
    constant = reference_run(ref_sgd(0.9), init, grads, lambda it: 0.1)
    assert not np.allclose(expected[0], constant[0], atol=1e-3)
    for v, e in zip(vs, expected):
        np.testing.assert_allclose(v.value, e, rtol=2e-5, atol=2e-6)
    # Keras keeps no learning_rate variable when the rate is a schedule.
    assert [n for n, _ in opt.variables()] == [
        "sgd/iteration", "sgd/mlp_dense_kernel_momentum", "sgd/mlp_dense_bias_momentum"]
    with pytest.raises(TypeError):
        opt.learning_rate = 0.1
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    json.dumps(config)
    clone = optimizers.SGD.from_config(config)
    assert isinstance(clone._schedule, schedules.ExponentialDecay)
    assert clone.get_config() == config


def test_weight_decay_uses_scheduled_rate():
    sched = schedules.PiecewiseConstantDecay([1], [0.1, 0.01])
    init, grads = make_problem(seed=9)
    opt = optimizers.SGD(sched, weight_decay=0.5)
    vs = run_opt(opt, init, grads[:4])
    expected = reference_run(ref_sgd(), init, grads[:4], lambda it: 0.1 if it <= 1 else 0.01,
                             weight_decay=0.5)
    for v, e in zip(vs, expected):
        np.testing.assert_allclose(v.value, e, rtol=1e-5, atol=1e-6)


# ---- saved state ---------------------------------------------------------------

def mlp_vars():
    rng = np.random.default_rng(0)
    shapes = {"mlp/dense/kernel": (8, 16), "mlp/dense/bias": (16,),
              "mlp/dense_1/kernel": (16, 3), "mlp/dense_1/bias": (3,)}
    return [Variable(rng.normal(size=s).astype(np.float32), p.rsplit("/", 1)[1], path=p)
            for p, s in shapes.items()]


ADAM_MLP_NAMES = [
    "adam/iteration", "adam/learning_rate",
    "adam/mlp_dense_kernel_momentum", "adam/mlp_dense_kernel_velocity",
    "adam/mlp_dense_bias_momentum", "adam/mlp_dense_bias_velocity",
    "adam/mlp_dense_1_kernel_momentum", "adam/mlp_dense_1_kernel_velocity",
    "adam/mlp_dense_1_bias_momentum", "adam/mlp_dense_1_bias_velocity"]


def test_variables_adam_layout_matches_keras():
    vs = mlp_vars()
    opt = optimizers.Adam()
    assert [n for n, _ in opt.variables()] == ["adam/iteration", "adam/learning_rate"]
    opt.build(vs)
    names_arrays = opt.variables()
    assert [n for n, _ in names_arrays] == ADAM_MLP_NAMES
    it, lr = names_arrays[0][1], names_arrays[1][1]
    assert it.shape == () and it.dtype == np.int64 and int(it) == 0
    assert lr.shape == () and lr.dtype == np.float32
    assert float(lr) == 0.0010000000474974513
    shapes = [a.shape for _, a in names_arrays[2:]]
    assert shapes == [(8, 16), (8, 16), (16,), (16,), (16, 3), (16, 3), (3,), (3,)]
    assert all(a.dtype == np.float32 for _, a in names_arrays[2:])


def test_variables_match_keras_fixture_and_restore():
    h5py = pytest.importorskip("h5py")
    path = os.path.join(FIXTURES, "a_mlp.h5")
    if not os.path.exists(path):
        pytest.skip("shared fixture not available")
    with h5py.File(path, "r") as f:
        group = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else n
                 for n in group.attrs["weight_names"]]
        arrays = [group[n][()] for n in names]
    opt = optimizers.Adam()
    vs = mlp_vars()
    opt.build(vs)
    assert [n for n, _ in opt.variables()] == names
    opt.set_variables(arrays)
    assert opt.iterations == 2
    for (_, mine), theirs in zip(opt.variables(), arrays):
        np.testing.assert_array_equal(mine, theirs)


def test_variables_sgd():
    vs = mlp_vars()[:2]
    plain = optimizers.SGD()
    plain.build(vs)
    assert [n for n, _ in plain.variables()] == ["sgd/iteration", "sgd/learning_rate"]
    mom = optimizers.SGD(momentum=0.9)
    mom.build(vs)
    assert [n for n, _ in mom.variables()] == [
        "sgd/iteration", "sgd/learning_rate",
        "sgd/mlp_dense_kernel_momentum", "sgd/mlp_dense_bias_momentum"]


def test_variables_rmsprop_centered_momentum_grouped_like_keras():
    vs = mlp_vars()[:2]
    opt = optimizers.RMSprop(momentum=0.5, centered=True)
    opt.build(vs)
    names = [n for n, _ in opt.variables()]
    # Keras creates each slot kind for all variables in turn.
    assert names == [
        "rm_sprop/iteration", "rm_sprop/learning_rate",
        "rm_sprop/mlp_dense_kernel_velocity", "rm_sprop/mlp_dense_bias_velocity",
        "rm_sprop/mlp_dense_kernel_momentum", "rm_sprop/mlp_dense_bias_momentum",
        "rm_sprop/mlp_dense_kernel_average_gradient",
        "rm_sprop/mlp_dense_bias_average_gradient"]
    plain = optimizers.RMSprop()
    plain.build(vs)
    assert [n for n, _ in plain.variables()][2:] == [
        "rm_sprop/mlp_dense_kernel_velocity", "rm_sprop/mlp_dense_bias_velocity"]


def test_variables_nadam_has_trailing_scalar():
    vs = mlp_vars()[:2]
    opt = optimizers.Nadam()
    opt.build(vs)
    named = opt.variables()
    assert [n for n, _ in named] == [
        "nadam/iteration", "nadam/learning_rate",
        "nadam/mlp_dense_kernel_momentum", "nadam/mlp_dense_kernel_velocity",
        "nadam/mlp_dense_bias_momentum", "nadam/mlp_dense_bias_velocity",
        "nadam/variable"]
    assert named[-1][1].shape == () and float(named[-1][1]) == 1.0


@pytest.mark.parametrize("opt,slots", [
    (optimizers.Adam(amsgrad=True), None),
    (optimizers.AdamW(), ["momentum", "velocity"]),
    (optimizers.Adamax(), ["momentum", "norm"]),
    (optimizers.Adagrad(), ["accumulator"]),
    (optimizers.Adadelta(), ["accumulated_grad", "accumulated_delta_var"]),
    (optimizers.Lion(), ["momentum"]),
    (optimizers.Ftrl(), ["accumulator", "linear"]),
])
def test_variables_other_layouts(opt, slots):
    vs = mlp_vars()[:2]
    opt.build(vs)
    names = [n for n, _ in opt.variables()]
    p = opt.name
    if slots is None:   # amsgrad: velocity_hat slots after all (momentum, velocity) pairs
        expected = [f"{p}/mlp_dense_kernel_momentum", f"{p}/mlp_dense_kernel_velocity",
                    f"{p}/mlp_dense_bias_momentum", f"{p}/mlp_dense_bias_velocity",
                    f"{p}/mlp_dense_kernel_velocity_hat", f"{p}/mlp_dense_bias_velocity_hat"]
    else:
        expected = [f"{p}/mlp_dense_{v}_{s}" for v in ("kernel", "bias") for s in slots]
    assert names == [f"{p}/iteration", f"{p}/learning_rate"] + expected


def test_initial_accumulator_values():
    vs = mlp_vars()[:1]
    opt = optimizers.Adagrad(initial_accumulator_value=0.25)
    opt.build(vs)
    assert np.all(opt.variables()[2][1] == 0.25)


def test_default_names():
    expected = {"Adam": "adam", "SGD": "sgd", "RMSprop": "rm_sprop", "Adagrad": "adagrad",
                "AdamW": "adam_w", "Adamax": "adamax", "Nadam": "nadam",
                "Adadelta": "adadelta", "Lion": "lion", "Ftrl": "ftrl"}
    for cls_name, name in expected.items():
        assert getattr(optimizers, cls_name)().name == name
    assert optimizers.Adam(name="my_opt").variables()[0][0] == "my_opt/iteration"


def test_set_variables_round_trip(ops_impl):
    init, grads = make_problem(seed=10)
    a_vars = make_vars(init)
    a = optimizers.Nadam(0.05)
    run_opt(a, init, grads[:3], a_vars)
    state = [np.array(x, copy=True) for _, x in a.variables()]

    b_vars = make_vars([v.value for v in a_vars])
    b = optimizers.Nadam(0.05)
    b.set_variables(state, trainable_variables=b_vars)     # before any step
    assert b.iterations == 3
    for v, g in zip(a_vars, grads[3]):
        v.grad[...] = g
    for v, g in zip(b_vars, grads[3]):
        v.grad[...] = g
    a.apply(a_vars)
    b.apply(b_vars)
    for va, vb in zip(a_vars, b_vars):
        np.testing.assert_array_equal(va.value, vb.value)
    for (na, xa), (nb, xb) in zip(a.variables(), b.variables()):
        assert na == nb
        np.testing.assert_array_equal(xa, xb)


def test_set_variables_restores_learning_rate():
    vs = mlp_vars()[:2]
    opt = optimizers.Adam()
    opt.build(vs)
    values = [x.copy() for _, x in opt.variables()]
    values[1] = np.array(0.25, np.float32)
    opt.set_variables(values)
    assert opt.learning_rate == 0.25


def test_set_variables_errors():
    vs = mlp_vars()[:2]
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="build"):
        opt.set_variables([np.array(0), np.array(0.001, np.float32)])
    opt.build(vs)
    good = [x.copy() for _, x in opt.variables()]
    with pytest.raises(ValueError, match="6 variables"):
        opt.set_variables(good[:-1])
    bad = [x.copy() for x in good]
    bad[0] = np.array(7, dtype=np.int64)
    bad[3] = np.zeros((5, 5), np.float32)
    with pytest.raises(ValueError, match="shape"):
        opt.set_variables(bad)
    assert opt.iterations == 0          # nothing assigned on failure


def test_unknown_variable_rejected():
    vs = mlp_vars()[:2]
    opt = optimizers.SGD()
    opt.build(vs)
    stranger = Variable(np.zeros(3), "x")
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([stranger])


def test_subset_of_variables_and_apply_gradients():
    vs = mlp_vars()[:2]
    opt = optimizers.SGD(0.5)
    opt.build(vs)
    before = vs[0].value.copy()
    g = np.ones_like(vs[1].value)
    opt.apply_gradients([(g, vs[1])])
    np.testing.assert_array_equal(vs[0].value, before)
    assert opt.iterations == 1


def test_row_sparse_embedding_gradient_same_bits():
    from ckeras.variables import RowSparseVariable
    rng = np.random.default_rng(11)
    table = rng.normal(size=(50, 4)).astype(np.float32)
    dense = Variable(table.copy(), "embeddings", path="m/emb/embeddings")
    sp = RowSparseVariable.from_variable(Variable(table.copy(), "embeddings",
                                                  path="m/emb/embeddings"))
    o1, o2 = optimizers.SGD(0.1), optimizers.SGD(0.1)
    for step in range(3):
        ids = rng.integers(0, 50, size=7)
        upd = rng.normal(size=(7, 4)).astype(np.float32)
        dense.zero_grad()
        np.add.at(dense.grad, ids, upd)
        sp.zero_grad()
        np.add.at(sp.grad, ids, upd)
        sp.record_rows(ids)
        o1.apply([dense])
        o2.apply([sp])
    np.testing.assert_array_equal(dense.value, sp.value)


# ---- config / lookup -----------------------------------------------------------

ALL_CLASSES = [optimizers.SGD, optimizers.Adam, optimizers.AdamW, optimizers.RMSprop,
               optimizers.Adagrad, optimizers.Adadelta, optimizers.Adamax, optimizers.Nadam,
               optimizers.Lion, optimizers.Ftrl]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.02, clipnorm=1.5, name="custom_name")
    config = opt.get_config()
    json.dumps(config)
    for key in ("name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm",
                "clipvalue", "use_ema", "ema_momentum", "ema_overwrite_frequency",
                "loss_scale_factor", "gradient_accumulation_steps"):
        assert key in config
    assert config["learning_rate"] == float(np.float32(0.02))
    clone = cls.from_config(config)
    assert type(clone) is cls and clone.get_config() == config
    ser = optimizers.serialize(opt)
    assert ser["class_name"] == cls.__name__ and ser["module"] == "keras.optimizers"
    again = optimizers.deserialize(json.loads(json.dumps(ser)))
    assert type(again) is cls and again.get_config() == config


def test_adam_config_matches_keras_fixture():
    assert optimizers.get("adam").get_config() == {
        "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
        "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
        "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
        "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-07, "amsgrad": False}


DEFAULTS = {
    "sgd": ("SGD", {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
    "adam": ("Adam", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                      "epsilon": 1e-7, "amsgrad": False}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0,
                            "epsilon": 1e-7, "centered": False}),
    "adagrad": ("Adagrad", {"learning_rate": 0.001, "initial_accumulator_value": 0.1,
                            "epsilon": 1e-7}),
    "adadelta": ("Adadelta", {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}),
    "adamax": ("Adamax", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                          "epsilon": 1e-7}),
    "nadam": ("Nadam", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                        "epsilon": 1e-7}),
    "adamw": ("AdamW", {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9,
                        "beta_2": 0.999, "epsilon": 1e-7}),
    "ftrl": ("Ftrl", {"learning_rate": 0.001, "learning_rate_power": -0.5,
                      "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.0,
                      "l2_regularization_strength": 0.0,
                      "l2_shrinkage_regularization_strength": 0.0, "beta": 0.0}),
    "lion": ("Lion", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99}),
}


@pytest.mark.parametrize("string", sorted(DEFAULTS))
def test_get_string_defaults(string):
    cls_name, defaults = DEFAULTS[string]
    for ident in (string, cls_name, string.upper()):
        opt = optimizers.get(ident)
        assert type(opt).__name__ == cls_name
        config = opt.get_config()
        for key, value in defaults.items():
            assert config[key] == pytest.approx(value, rel=1e-6), key


def test_get_variants_and_errors():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    keras3 = {"module": "keras.optimizers", "class_name": "Adam",
              "config": {"name": "adam", "learning_rate": 0.01, "beta_1": 0.8},
              "registered_name": None}
    got = optimizers.get(keras3)
    assert isinstance(got, optimizers.Adam) and got.beta_1 == 0.8
    keras2 = {"class_name": "Custom>Adam",
              "config": {"name": "Adam", "learning_rate": 0.01, "decay": 0.0,
                         "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                         "amsgrad": False, "jit_compile": True,
                         "is_legacy_optimizer": False}}
    got = optimizers.get(keras2)
    assert isinstance(got, optimizers.Adam) and got.name == "Adam"
    assert got.learning_rate == pytest.approx(0.01)
    lower = optimizers.get({"class_name": "rmsprop", "config": {"rho": 0.8}})
    assert isinstance(lower, optimizers.RMSprop) and lower.rho == 0.8
    with pytest.raises(ValueError) as err:
        optimizers.get("lamd")
    msg = str(err.value)
    assert "lamd" in msg and "adam" in msg and "rmsprop" in msg and "sgd" in msg
    with pytest.raises(ValueError):
        optimizers.get({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError):
        optimizers.get(42)


def test_custom_optimizer_lookup():
    class MySGD(optimizers.SGD):
        pass

    got = optimizers.get({"class_name": "MySGD", "config": {"learning_rate": 0.3}},
                         custom_objects={"MySGD": MySGD})
    assert type(got) is MySGD and got.learning_rate == pytest.approx(0.3)
    with registry.custom_object_scope({"MySGD": MySGD}):
        assert type(optimizers.get("MySGD")) is MySGD
