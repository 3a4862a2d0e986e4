"""Initializers: Keras 3 fans, limits and statistics, orthogonality, seeds and
the global generator, aliases, configs."""
import math

import numpy as np
import pytest

from ckeras import initializers as I
from ckeras import random as ck_random


def test_compute_fans():
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans((4, 5)) == (4, 5)
    assert I.compute_fans((3, 16, 8)) == (48, 24)            # Conv1D (k, in, out)
    assert I.compute_fans((3, 3, 16, 64)) == (144, 576)      # Conv2D
    # explicit unit axes: an EinsumDense-style kernel (in, heads, head_dim)
    assert I.compute_fans((8, 4, 16), input_axes=0, output_axes=[1, 2]) == (8, 64)
    assert I.compute_fans((3, 3, 16, 64), input_axes=-2, output_axes=-1) == (144, 576)


def test_input_output_axes_set_the_limit():
    w = I.GlorotUniform(seed=0, input_axes=0, output_axes=[1, 2])((8, 4, 16))
    limit = math.sqrt(6 / (8 + 64))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit


@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 16, 64)])
def test_glorot_uniform_limit(shape):
    fan_in, fan_out = I.compute_fans(shape)
    limit = math.sqrt(6 / (fan_in + fan_out))
    w = I.GlorotUniform(seed=1)(shape)
    assert w.dtype == np.float32 and w.shape == shape
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert abs(w.mean()) < 0.05 * limit
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.05)


def test_conv_kernel_limit_from_spec():
    w = I.get("glorot_uniform")((3, 3, 16, 64))
    assert np.abs(w).max() <= 0.091287 + 1e-7


@pytest.mark.parametrize("cls,scale,mode", [
    (I.HeUniform, 2.0, "fan_in"), (I.LecunUniform, 1.0, "fan_in"),
    (I.GlorotUniform, 1.0, "fan_avg")])
def test_uniform_variance_scaling_family(cls, scale, mode):
    shape = (400, 100)
    n = {"fan_in": 400, "fan_avg": 250}[mode]
    limit = math.sqrt(3 * scale / n)
    w = cls(seed=3)(shape)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


@pytest.mark.parametrize("cls,scale,n", [
    (I.HeNormal, 2.0, 400), (I.LecunNormal, 1.0, 400), (I.GlorotNormal, 1.0, 250)])
def test_truncated_normal_family(cls, scale, n):
    w = cls(seed=5)((400, 100)).astype(np.float64)
    target = math.sqrt(scale / n)
    assert w.std() == pytest.approx(target, rel=0.03)        # variance preserved after truncation
    assert np.abs(w).max() <= 2 * target / 0.87962566103423978 + 1e-7  # cut at 2 stddev


def test_variance_scaling_options():
    w = I.VarianceScaling(scale=2.0, mode="fan_out", distribution="untruncated_normal",
                          seed=0)((100, 400))
    assert w.std() == pytest.approx(math.sqrt(2 / 400), rel=0.03)
    assert np.abs(w).max() > 2.5 * math.sqrt(2 / 400)  # not truncated
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")


def test_random_normal_uniform_truncated():
    n = I.RandomNormal(seed=0)((200, 200)).astype(np.float64)
    assert abs(n.mean()) < 0.002 and n.std() == pytest.approx(0.05, rel=0.02)
    u = I.RandomUniform(seed=0)((200, 200))
    assert u.min() >= -0.05 and u.max() < 0.05 and u.max() > 0.0499
    t = I.TruncatedNormal(mean=1.0, stddev=0.1, seed=0)((200, 200)).astype(np.float64)
    assert t.min() >= 0.8 and t.max() <= 1.2
    assert t.std() == pytest.approx(0.1 * 0.87962566103423978, rel=0.02)
    r = I.RandomUniform(minval=2.0, maxval=3.0, seed=1)((1000,))
    assert r.min() >= 2.0 and r.max() < 3.0


@pytest.mark.parametrize("shape", [(16, 16), (4, 16), (16, 4), (3, 5, 4)])
def test_orthogonal(shape):
    w = I.Orthogonal(seed=2)(shape).astype(np.float64)
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-5)  # rows
    else:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-5)  # columns
    g = I.OrthogonalInitializer(gain=2.0, seed=2)(shape).reshape(m.shape)
    np.testing.assert_allclose(g, 2 * m, atol=1e-6)
    with pytest.raises(ValueError, match="two-dimensional"):
        I.Orthogonal()((5,))


def test_constant_family_and_dtype():
    assert I.Zeros()((2, 3)).dtype == np.float32 and not I.Zeros()((2, 3)).any()
    np.testing.assert_array_equal(I.Ones()((2,)), [1, 1])
    np.testing.assert_array_equal(I.Constant(3.5)((2, 2)), np.full((2, 2), 3.5))
    np.testing.assert_array_equal(I.Constant([1.0, 2.0])((3, 2)), [[1, 2]] * 3)
    assert I.Ones()((2,), dtype="float64").dtype == np.float64
    assert I.GlorotUniform()((3, 3), dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(I.Identity(gain=2.0)((2, 3)), 2 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        I.Identity()((2, 2, 2))


RANDOM = [I.GlorotUniform, I.GlorotNormal, I.HeUniform, I.HeNormal, I.LecunUniform,
          I.LecunNormal, I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.Orthogonal,
          I.VarianceScaling]


@pytest.mark.parametrize("cls", RANDOM, ids=[c.__name__ for c in RANDOM])
def test_seeds(cls):
    a = cls(seed=7)((6, 5))
    np.testing.assert_array_equal(a, cls(seed=7)((6, 5)))     # same seed, new object
    np.testing.assert_array_equal(a, cls(seed=7)((6, 5)))
    assert not np.array_equal(a, cls(seed=8)((6, 5)))
    init = cls()
    assert not np.array_equal(init((6, 5)), init((6, 5)))       # unseeded: fresh draws


@pytest.mark.parametrize("cls", RANDOM, ids=[c.__name__ for c in RANDOM])
def test_global_seed_reproducible(cls):
    ck_random.set_seed(123)
    a = cls()((5, 4)), cls()((5, 4))
    ck_random.set_seed(123)
    b = cls()((5, 4)), cls()((5, 4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    ck_random.set_seed(124)
    assert not np.array_equal(cls()((5, 4)), a[0])


ALIASES = {
    "glorot_uniform": I.GlorotUniform, "GlorotUniform": I.GlorotUniform,
    "glorot_normal": I.GlorotNormal, "he_uniform": I.HeUniform, "he_normal": I.HeNormal,
    "lecun_uniform": I.LecunUniform, "lecun_normal": I.LecunNormal,
    "zeros": I.Zeros, "zero": I.Zeros, "ones": I.Ones, "one": I.Ones,
    "constant": I.Constant, "random_normal": I.RandomNormal, "normal": I.RandomNormal,
    "random_uniform": I.RandomUniform, "uniform": I.RandomUniform,
    "truncated_normal": I.TruncatedNormal, "variance_scaling": I.VarianceScaling,
    "orthogonal": I.Orthogonal, "Orthogonal": I.Orthogonal,
    "OrthogonalInitializer": I.Orthogonal, "identity": I.Identity,
    "Identity": I.Identity, "IdentityInitializer": I.Identity,
}


@pytest.mark.parametrize("alias,cls", sorted(ALIASES.items()))
def test_aliases(alias, cls):
    assert type(I.get(alias)) is cls


def test_get_variants():
    assert I.get(None) is None
    g = I.GlorotUniform(seed=1)
    assert I.get(g) is g
    assert type(I.get(I.HeNormal)) is I.HeNormal

    def my_init(shape, dtype=None):
        return np.full(shape, 0.5, dtype or "float32")
    assert I.get(my_init) is my_init
    assert type(I.get({"class_name": "Mine", "config": {}}, custom_objects={"Mine": I.Ones})) \
        is I.Ones


def test_unknown_name_lists_accepted():
    with pytest.raises(ValueError) as e:
        I.get("glorot_uniformm")
    assert "glorot_uniformm" in str(e.value) and "he_normal" in str(e.value)


CONFIGS = [I.Zeros(), I.Ones(), I.Constant(0.25), I.RandomNormal(mean=1.0, stddev=2.0, seed=3),
           I.RandomUniform(minval=-1.0, maxval=2.0), I.TruncatedNormal(stddev=0.3, seed=4),
           I.VarianceScaling(scale=3.0, mode="fan_avg", distribution="uniform", seed=9),
           I.HeUniform(input_axes=[0], output_axes=[1, 2]),
           I.GlorotUniform(seed=5), I.GlorotNormal(), I.HeUniform(), I.HeNormal(seed=1),
           I.LecunUniform(), I.LecunNormal(), I.Orthogonal(gain=0.5, seed=2),
           I.Identity(gain=3.0)]


@pytest.mark.parametrize("init", CONFIGS, ids=[type(c).__name__ for c in CONFIGS])
def test_config_round_trip(init):
    config = init.get_config()
    clone = type(init).from_config(config)
    assert clone.get_config() == config
    d = I.serialize(init)
    assert d == {"module": "keras.initializers", "class_name": type(init).__name__,
                 "config": config, "registered_name": None}
    assert I.deserialize(d).get_config() == config
    assert I.get({"class_name": type(init).__name__, "config": config}).get_config() == config
    if "seed" in config and config["seed"] is not None:
        np.testing.assert_array_equal(I.deserialize(d)((4, 4)), init((4, 4)))


def test_keras3_config_shapes():
    # as written by Keras 3.15.1 (tests/fixtures: a_mlp.h5, b_emb_lstm.h5)
    assert I.serialize(I.get("glorot_uniform")) == {
        "module": "keras.initializers", "class_name": "GlorotUniform",
        "config": {"seed": None, "input_axes": None, "output_axes": None},
        "registered_name": None}
    assert I.serialize(I.get("orthogonal")) == {
        "module": "keras.initializers", "class_name": "Orthogonal",
        "config": {"seed": None, "gain": 1.0}, "registered_name": None}
    assert I.RandomUniform().get_config() == {"seed": None, "minval": -0.05, "maxval": 0.05}
    vs = I.get({"class_name": "VarianceScaling",
                "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform",
                           "seed": None}})
    assert vs.mode == "fan_avg" and vs.distribution == "uniform"


def test_unknown_config_keys_from_newer_keras_are_dropped_with_warning():
    with pytest.warns(UserWarning, match="future_option"):
        init = I.get({"class_name": "GlorotUniform",
                      "config": {"seed": 3, "future_option": True}})
    assert init.seed == 3


def test_snake_case_names_are_the_classes():
    from ckeras import initializers as I
    pairs = {"zeros": I.Zeros, "ones": I.Ones, "constant": I.Constant,
             "random_normal": I.RandomNormal, "random_uniform": I.RandomUniform,
             "truncated_normal": I.TruncatedNormal, "variance_scaling": I.VarianceScaling,
             "glorot_uniform": I.GlorotUniform, "glorot_normal": I.GlorotNormal,
             "he_uniform": I.HeUniform, "he_normal": I.HeNormal,
             "lecun_uniform": I.LecunUniform, "lecun_normal": I.LecunNormal,
             "orthogonal": I.Orthogonal, "identity": I.Identity}
    for name, cls in pairs.items():
        assert getattr(I, name) is cls, name
    assert I.glorot_uniform(seed=0)((3, 2)).shape == (3, 2)
