"""Activations: finite-difference backward for every built-in (float64), Keras 3
values and defaults, dtype preservation, fusable flags, get/serialize."""
import math
import zlib

import numpy as np
import pytest

from ckeras import activations as A
from ckeras import ops
from ckeras.testing import numeric_gradient

# glu halves its input and threshold needs two arguments: tests/test_activations_extra.py
NAMES = sorted(set(A._BUILTINS) - {"glu", "threshold"})
# points where a built-in is not differentiable; samples stay clear of them
KINKS = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0])


def sample_x(rng, shape, lo=-5.0, hi=7.0):
    x = rng.uniform(lo, hi, shape)
    near = np.abs(x[..., None] - KINKS).min(-1) < 0.02
    x[near] += 0.05
    return x


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    act = A.get(name)
    x = sample_x(rng, (3, 5))
    if name == "exponential":
        x = np.clip(x, -3, 3)
    w = rng.normal(size=x.shape)  # random upstream gradient
    y = act.forward(x)
    dx = act.backward(w, x, y)
    assert dx.shape == x.shape and dx.dtype == np.float64
    z = x.copy()
    num = numeric_gradient(lambda: float(np.sum(w * act.forward(z))), z)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    act = A.get(name)
    x = np.linspace(-4, 4, 12, dtype=np.float32).reshape(3, 4)
    y = act(x)
    dx = act.backward(np.ones_like(x), x, y)
    assert y.dtype == np.float32 and dx.dtype == np.float32
    assert y.shape == x.shape
    np.testing.assert_allclose(y, act(x.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_module_function_matches_object(name):
    fn = getattr(A, name)
    x = np.linspace(-4, 4, 9).reshape(3, 3)
    np.testing.assert_allclose(fn(x), A.get(name)(x), rtol=1e-12)


def test_keras3_values_and_defaults():
    x = np.array([-5.0, -1.0, 0.0, 1.0, 5.0])
    np.testing.assert_allclose(A.relu(x), [0, 0, 0, 1, 5])
    np.testing.assert_allclose(A.leaky_relu(x), [-1.0, -0.2, 0, 1, 5])  # slope 0.2
    np.testing.assert_allclose(A.hard_sigmoid(x), [0, 2 / 6, 0.5, 4 / 6, 1])  # relu6(x+3)/6
    np.testing.assert_allclose(A.relu6(np.array([-1.0, 3.0, 9.0])), [0, 3, 6])
    np.testing.assert_allclose(A.elu(x), [math.expm1(-5), math.expm1(-1), 0, 1, 5])
    np.testing.assert_allclose(A.selu(np.array([-1.0, 1.0])),
                               [1.0507009873554805 * 1.6732632423543772 * math.expm1(-1),
                                1.0507009873554805])
    erf_gelu = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert A.gelu(np.array([1.0]))[0] == pytest.approx(erf_gelu)  # exact by default
    assert A.gelu(np.array([1.0]), approximate=True)[0] == pytest.approx(0.8411920, abs=1e-6)
    np.testing.assert_allclose(A.silu(x), x / (1 + np.exp(-x)))
    np.testing.assert_allclose(A.softplus(np.array([0.0, 100.0])), [math.log(2), 100.0])
    np.testing.assert_allclose(A.softsign(np.array([1.0, -3.0])), [0.5, -0.75])
    np.testing.assert_allclose(A.mish(np.array([1.0])), [math.tanh(math.log1p(math.e))])
    np.testing.assert_allclose(A.hard_silu(np.array([1.0])), [4 / 6])
    np.testing.assert_allclose(A.exponential(np.array([1.0])), [math.e])
    np.testing.assert_allclose(A.relu(x, negative_slope=0.1, max_value=3.0),
                               [-0.5, -0.1, 0, 1, 3])
    np.testing.assert_allclose(A.relu(x, threshold=2.0), [0, 0, 0, 0, 5])


def test_softmax_and_log_softmax_last_axis():
    x = np.random.default_rng(0).normal(size=(4, 6)) * 30
    s = A.softmax(x)
    np.testing.assert_allclose(s.sum(-1), 1.0)
    np.testing.assert_allclose(A.log_softmax(x), np.log(s), atol=1e-10)
    s0 = A.softmax(x, axis=0)
    np.testing.assert_allclose(s0.sum(0), 1.0)


def test_stable_at_extremes():
    x = np.array([-1000.0, 1000.0])
    for name in ("sigmoid", "softplus", "silu", "mish", "log_sigmoid", "elu", "selu", "celu"):
        y = A.get(name)(x)
        assert np.all(np.isfinite(y)), name


def test_fusable_flags_follow_ops():
    fusable = {n for n in NAMES if A.get(n).fusable}
    assert fusable == set(ops.FUSED_ACTIVATIONS)
    assert set(ops.FUSED_ACTIVATIONS) == {"linear", "relu", "sigmoid", "tanh", "softmax"}


def test_get_variants():
    assert A.get(None).name == "linear"
    assert A.get("swish").name == "silu" and A.get("swish") is A.get("silu")
    assert A.get("hard_swish").name == "hard_silu"
    relu = A.get(A.relu)
    assert relu.name == "relu" and relu.fusable
    assert A.get(relu) is relu
    assert A.get(np.tanh).name == "tanh" and A.get(np.tanh).fusable
    keras3 = {"module": "keras.activations", "class_name": "function", "config": "tanh",
              "registered_name": "tanh"}
    assert A.get(keras3).name == "tanh"
    assert A.deserialize("gelu").name == "gelu"


@pytest.mark.parametrize("name", NAMES)
def test_serialize_round_trip(name):
    s = A.serialize(A.get(name))
    assert isinstance(s, str)
    assert A.deserialize(s).name == A.get(name).name


def test_unknown_name_lists_accepted():
    with pytest.raises(ValueError) as e:
        A.get("relu7")
    assert "relu7" in str(e.value) and "gelu" in str(e.value) and "leaky_relu" in str(e.value)


def test_user_function_without_gradient():
    def cube(x):
        return x ** 3

    act = A.get(cube)
    assert act.name == "cube" and not act.fusable
    np.testing.assert_allclose(act(np.array([2.0])), [8.0])
    assert A.serialize(act) == "cube"
    with pytest.raises(NotImplementedError, match="cube"):
        act.backward(np.ones(1), np.ones(1), np.ones(1))


def test_user_function_with_gradient_and_custom_objects():
    def cube(x):
        return x ** 3
    cube.backward = lambda dy, x, y: dy * 3 * x ** 2

    act = A.get("cube", custom_objects={"cube": cube})
    np.testing.assert_allclose(act.backward(np.ones(2), np.array([1.0, 2.0]), None), [3, 12])
    wrapped = A.ActivationFunction(lambda x: 2 * x, grad=lambda dy, x, y: 2 * dy, name="double")
    assert A.get(wrapped) is wrapped and A.serialize(wrapped) == "double"


def test_registered_custom_activation_round_trips():
    from ckeras.registry import register_keras_serializable

    @register_keras_serializable(package="ckeras_test_activations")
    def scaled_tanh(x):
        return 1.7159 * np.tanh(2.0 / 3.0 * x)

    act = A.get("scaled_tanh")
    assert act.name == "scaled_tanh"
    np.testing.assert_allclose(act(np.array([0.5])), scaled_tanh(np.array([0.5])))
    assert A.deserialize(A.serialize(act)).fn is scaled_tanh
