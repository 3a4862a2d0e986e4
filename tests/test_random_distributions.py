"""keras.random.gamma / binomial / beta: Keras's signatures, seeded like the
other draws, moments within tolerant bounds of the distributions' own."""
import numpy as np
import pytest

from ckeras import random

N = 20000


def test_gamma_moments_and_seeding():
    x = random.gamma((N,), alpha=3.0, seed=1)
    assert x.dtype == np.float32 and x.shape == (N,) and (x > 0).all()
    assert abs(x.mean() - 3.0) < 0.1 and abs(x.var() - 3.0) < 0.3   # mean = var = alpha
    np.testing.assert_array_equal(x, random.gamma((N,), alpha=3.0, seed=1))
    gen = random.SeedGenerator(5)
    assert not np.array_equal(random.gamma((8,), 2.0, seed=gen), random.gamma((8,), 2.0, seed=gen))


def test_binomial_moments_and_broadcast():
    x = random.binomial((N,), counts=10, probabilities=0.3, seed=2)
    assert x.dtype == np.float32 and set(np.unique(x)) <= set(range(11))
    assert abs(x.mean() - 3.0) < 0.1 and abs(x.var() - 2.1) < 0.2
    rows = random.binomial((N, 2), counts=[5, 20], probabilities=[0.5, 0.1], seed=3)
    np.testing.assert_allclose(rows.mean(axis=0), [2.5, 2.0], atol=0.1)
    assert (rows[:, 0] <= 5).all()


def test_beta_moments_and_dtype():
    x = random.beta((N,), alpha=2.0, beta=5.0, seed=4, dtype="float64")
    assert x.dtype == np.float64 and ((x > 0) & (x < 1)).all()
    mean, var = 2 / 7, (2 * 5) / (7 ** 2 * 8)
    assert abs(x.mean() - mean) < 0.01 and abs(x.var() - var) < 0.003
    with pytest.raises(ValueError, match="floating point"):
        random.beta((2,), 1.0, 1.0, dtype="int32")
