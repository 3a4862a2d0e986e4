"""Regularizers (penalties, finite-difference gradients, Keras 3 defaults) and
constraints (projections), with get/serialize round trips."""
import numpy as np
import pytest

from ckeras import constraints as K
from ckeras import regularizers as R
from ckeras.testing import numeric_gradient

RNG = np.random.default_rng(7)


# ---- regularizers ------------------------------------------------------------------

def test_penalties_closed_form():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert R.L1(0.1)(w) == pytest.approx(0.1 * 3.5)
    assert R.L2(0.1)(w) == pytest.approx(0.1 * 5.25)  # sum of squares, no 1/2
    assert R.L1L2(l1=0.1, l2=0.2)(w) == pytest.approx(0.35 + 0.2 * 5.25)
    assert isinstance(R.L2()(w), float)


REGS = [R.L1(0.03), R.L2(0.05), R.L1L2(l1=0.01, l2=0.02), R.L1L2(l2=0.1),
        R.OrthogonalRegularizer(factor=0.3), R.OrthogonalRegularizer(factor=0.2, mode="columns")]


@pytest.mark.parametrize("reg", REGS, ids=[repr(r) for r in REGS])
def test_gradient_matches_finite_differences(reg):
    w = RNG.normal(size=(4, 6))
    g = reg.gradient(w)
    assert g.shape == w.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, numeric_gradient(lambda: reg(w), w), rtol=1e-5, atol=1e-8)
    g32 = reg.gradient(w.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g, rtol=1e-4, atol=1e-6)


def test_orthogonal_regularizer_values():
    q, _ = np.linalg.qr(RNG.normal(size=(5, 5)))
    assert R.OrthogonalRegularizer()(q) == pytest.approx(0.0, abs=1e-12)
    w = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    u = w / np.linalg.norm(w, axis=1, keepdims=True)
    p = np.abs(u @ u.T)
    np.fill_diagonal(p, 0)
    expected = 0.01 * 0.5 * p.sum() / 3.0
    assert R.OrthogonalRegularizer()(w) == pytest.approx(expected)
    with pytest.raises(ValueError, match="rank 2"):
        R.OrthogonalRegularizer()(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="mode"):
        R.OrthogonalRegularizer(mode="diagonal")


def test_string_defaults_and_class_defaults():
    assert R.get("l1").get_config() == {"l1": 0.01}
    assert R.get("l2").get_config() == {"l2": 0.01}
    assert R.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}  # Keras 3 class defaults
    assert type(R.get("L1L2")) is R.L1L2 and type(R.get("L2")) is R.L2
    assert type(R.get("orthogonal_regularizer")) is R.OrthogonalRegularizer
    assert R.get(None) is None


def test_invalid_factors():
    for bad in (-0.1, float("nan"), float("inf"), "0.1"):
        with pytest.raises(ValueError, match="l2"):
            R.L2(bad)


REG_CONFIGS = [R.L1(0.2), R.L2(0.3), R.L1L2(l1=0.1, l2=0.4),
               R.OrthogonalRegularizer(0.5, "columns")]


@pytest.mark.parametrize("reg", REG_CONFIGS, ids=[type(r).__name__ for r in REG_CONFIGS])
def test_regularizer_config_round_trip(reg):
    config = reg.get_config()
    assert type(reg).from_config(config).get_config() == config
    d = R.serialize(reg)
    assert d == {"module": "keras.regularizers", "class_name": type(reg).__name__,
                 "config": config, "registered_name": None}
    assert R.deserialize(d).get_config() == config
    assert R.get({"class_name": type(reg).__name__, "config": config}).get_config() == config
    assert R.serialize(None) is None


def test_regularizer_unknown_name():
    with pytest.raises(ValueError) as e:
        R.get("l3")
    assert "l3" in str(e.value) and "l1" in str(e.value) and "l2" in str(e.value)


def test_custom_regularizer_without_gradient_is_explicit():
    class Mine(R.Regularizer):
        def __call__(self, w):
            return float(np.sum(w))

    with pytest.raises(NotImplementedError, match="gradient"):
        Mine().gradient(np.ones(3))


# ---- constraints -----------------------------------------------------------------------

def col_norms(w, axis=0):
    return np.sqrt((w ** 2).sum(axis=axis))


def test_max_norm():
    w = np.array([[3.0, 0.1], [4.0, 0.2]])  # column norms 5 and ~0.22
    out = K.MaxNorm(max_value=2)(w)
    np.testing.assert_allclose(col_norms(out), [2.0, np.hypot(0.1, 0.2)], rtol=1e-6)
    np.testing.assert_allclose(out[:, 0] / out[1, 0], w[:, 0] / w[1, 0])  # direction kept
    out1 = K.MaxNorm(max_value=1.0, axis=1)(w)
    assert np.all(col_norms(out1, axis=1) <= 1.0 + 1e-6)
    assert K.MaxNorm().get_config() == {"max_value": 2, "axis": 0}


def test_non_neg():
    w = np.array([[-1.0, 2.0], [0.5, -3.0]], np.float32)
    out = K.NonNeg()(w)
    np.testing.assert_array_equal(out, [[0.0, 2.0], [0.5, 0.0]])
    assert out.dtype == np.float32


def test_unit_norm():
    w = RNG.normal(size=(5, 3))
    np.testing.assert_allclose(col_norms(K.UnitNorm()(w)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(col_norms(K.UnitNorm(axis=1)(w), axis=1), 1.0, rtol=1e-6)
    conv = RNG.normal(size=(3, 3, 2, 4))
    out = K.UnitNorm(axis=[0, 1, 2])(conv)
    np.testing.assert_allclose(np.sqrt((out ** 2).sum(axis=(0, 1, 2))), 1.0, rtol=1e-6)


def test_min_max_norm():
    w = np.array([[0.1, 3.0, 0.6], [0.0, 4.0, 0.8]])  # norms 0.1, 5, 1
    out = K.MinMaxNorm(min_value=0.5, max_value=2.0)(w)
    np.testing.assert_allclose(col_norms(out), [0.5, 2.0, 1.0], rtol=1e-5)
    half = K.MinMaxNorm(min_value=0.5, max_value=2.0, rate=0.5)(w)
    np.testing.assert_allclose(col_norms(half), [0.3, 3.5, 1.0], rtol=1e-5)
    assert K.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0,
                                           "axis": 0}


@pytest.mark.parametrize("alias,cls", [("max_norm", K.MaxNorm), ("MaxNorm", K.MaxNorm),
                                       ("non_neg", K.NonNeg), ("NonNeg", K.NonNeg),
                                       ("unit_norm", K.UnitNorm), ("min_max_norm", K.MinMaxNorm),
                                       ("MinMaxNorm", K.MinMaxNorm)])
def test_constraint_aliases(alias, cls):
    assert type(K.get(alias)) is cls


CONS = [K.MaxNorm(max_value=3.0, axis=1), K.NonNeg(), K.UnitNorm(axis=[0, 1]),
        K.MinMaxNorm(min_value=0.2, max_value=0.9, rate=0.5, axis=1)]


@pytest.mark.parametrize("con", CONS, ids=[type(c).__name__ for c in CONS])
def test_constraint_config_round_trip(con):
    config = con.get_config()
    assert type(con).from_config(config).get_config() == config
    d = K.serialize(con)
    assert d["module"] == "keras.constraints" and d["class_name"] == type(con).__name__
    back = K.deserialize(d)
    assert type(back) is type(con) and back.get_config() == config
    w = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(back(w), con(w))
    assert K.get(None) is None and K.serialize(None) is None


def test_constraint_unknown_name():
    with pytest.raises(ValueError) as e:
        K.get("max_nrom")
    assert "max_nrom" in str(e.value) and "max_norm" in str(e.value)


def test_set_epsilon_reaches_losses_and_constraints():
    """backend.set_epsilon changes the epsilon every clip and norm reads."""
    from ckeras import backend, constraints, losses
    y = np.array([[1.0], [0.0]], np.float32)
    p = np.array([[0.0], [1.0]], np.float32)       # clipped at epsilon
    w = np.zeros((3, 2), np.float32)
    w[0, 0] = 1e-9
    before = float(losses.get("binary_crossentropy")(y, p))
    old = backend.epsilon()
    try:
        backend.set_epsilon(1e-3)
        after = float(losses.get("binary_crossentropy")(y, p))
        np.testing.assert_allclose(after, -np.log(1e-3), rtol=1e-3)
        assert after < before
        unit = constraints.UnitNorm(axis=0)(w)
        np.testing.assert_allclose(unit[0, 0], 1e-9 / (1e-9 + 1e-3), rtol=1e-3)
    finally:
        backend.set_epsilon(old)
