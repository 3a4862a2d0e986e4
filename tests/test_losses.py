"""Losses: values vs closed forms and Keras's documented numbers, the Σw·l/N
reduction, finite-difference gradients (float64), fused-logit paths, aliases,
configs and error messages."""
import math

import numpy as np
import pytest

from ckeras import losses as L
from ckeras import ops

RNG = np.random.default_rng(1234)


# ---- helpers ----------------------------------------------------------------------

def numeric_grad(f, x, h=1e-6):
    """Central differences of the scalar f at x (float64)."""
    x = x.astype(np.float64).copy()
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = f(x)
        flat[i] = old - h
        fm = f(x)
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return g


def check_forward_backward(loss, y_true, y_pred, atol=1e-6, rtol=1e-5):
    """forward_backward's grad == d/dy_pred sum_i scale_i * per_sample_i (FD)."""
    n = np.shape(y_pred)[0]
    scale = np.linspace(0.2, 1.7, n) / n  # non-uniform sample weights / N
    losses, grad = loss.forward_backward(y_true, y_pred, scale)
    assert grad.shape == np.shape(y_pred)
    assert grad.dtype == np.float64
    assert losses.shape == (n,)
    np.testing.assert_allclose(losses, loss.per_sample(y_true, y_pred), rtol=1e-12, atol=1e-12)
    num = numeric_grad(lambda p: float(np.dot(scale, loss.per_sample(y_true, p))), y_pred)
    np.testing.assert_allclose(grad, num, atol=atol, rtol=rtol)
    return losses, grad


def onehot(labels, c):
    return np.eye(c)[labels]


def probs(n, c, lo=0.05):
    p = RNG.uniform(lo, 1.0, (n, c))
    return p / p.sum(-1, keepdims=True)


N, C = 5, 4
LABELS = np.array([0, 3, 1, 2, 3])


def _regression_pair(positive=False, shape=(N, 3), min_gap=0.05):
    t = RNG.uniform(0.2, 2.0, shape) if positive else RNG.normal(size=shape)
    d = RNG.uniform(min_gap, 0.8, shape) * RNG.choice([-1.0, 1.0], shape)
    p = t + d
    if positive:
        p = np.abs(p) + 0.1
    return t, p


def _hinge_pair(binary01):
    t = RNG.choice([0.0, 1.0] if binary01 else [-1.0, 1.0], (N, 3))
    tt = 2 * t - 1 if binary01 else t
    # keep 1 - tt * p away from 0 (the kink)
    m = RNG.uniform(0.1, 0.9, (N, 3)) * RNG.choice([-1.0, 1.0], (N, 3))
    p = (1 - m) / tt
    return t, p


def _cat_hinge_pair():
    t = onehot(LABELS, C)
    p = RNG.normal(size=(N, C))
    return t, p


def _cases():
    """(id, loss, y_true, y_pred) for the gradient checks."""
    t_reg, p_reg = _regression_pair()
    t_pos, p_pos = _regression_pair(positive=True)
    t_seq, p_seq = _regression_pair(shape=(N, 2, 3))
    bin_t = RNG.choice([0.0, 1.0], (N, 3))
    soft_t = RNG.uniform(0, 1, (N, 3))
    bin_p = RNG.uniform(0.05, 0.95, (N, 3))
    logits3 = RNG.normal(scale=2.0, size=(N, 3))
    cat_t = onehot(LABELS, C)
    soft_cat = probs(N, C)
    cat_p = probs(N, C)
    unnorm = RNG.uniform(0.1, 2.0, (N, C))  # CCE renormalises: tests that path too
    logits = RNG.normal(scale=2.0, size=(N, C))
    huber_e = RNG.uniform(0.1, 0.8, (N, 3)) * RNG.choice([-1, 1], (N, 3))
    huber_e[:, 0] = RNG.uniform(1.3, 3.0, N)  # linear region for delta=1
    cases = [
        ("mse", L.MeanSquaredError(), t_reg, p_reg),
        ("mse_seq", L.MeanSquaredError(), t_seq, p_seq),
        ("mse_ytrue_1d", L.MeanSquaredError(), t_reg[:, 0], p_reg[:, :1]),
        ("mse_ypred_1d", L.MeanSquaredError(), t_reg[:, :1], p_reg[:, 0]),
        ("mae", L.MeanAbsoluteError(), t_reg, p_reg),
        ("mape", L.MeanAbsolutePercentageError(), t_pos, p_pos),
        ("msle", L.MeanSquaredLogarithmicError(), t_pos, p_pos),
        ("huber", L.Huber(), t_reg, t_reg + huber_e),
        ("huber_delta", L.Huber(delta=0.5), t_reg, t_reg + huber_e * 0.37),
        ("log_cosh", L.LogCosh(), t_reg, p_reg),
        ("poisson", L.Poisson(), t_pos, p_pos),
        ("cosine", L.CosineSimilarity(), t_reg, p_reg),
        ("cosine_axis1", L.CosineSimilarity(axis=1), t_seq, p_seq),
        ("hinge_pm1", L.Hinge(), *_hinge_pair(False)),
        ("hinge_01", L.Hinge(), *_hinge_pair(True)),
        ("squared_hinge", L.SquaredHinge(), *_hinge_pair(False)),
        ("squared_hinge_01", L.SquaredHinge(), *_hinge_pair(True)),
        ("categorical_hinge", L.CategoricalHinge(), *_cat_hinge_pair()),
        ("kld", L.KLDivergence(), soft_cat, cat_p),
        ("bce", L.BinaryCrossentropy(), bin_t, bin_p),
        ("bce_soft_smooth", L.BinaryCrossentropy(label_smoothing=0.2), soft_t, bin_p),
        ("bce_1d_labels", L.BinaryCrossentropy(), bin_t[:, 0], bin_p[:, :1]),
        ("bce_logits", L.BinaryCrossentropy(from_logits=True), bin_t, logits3),
        ("bce_logits_smooth", L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
         bin_t, logits3),
        ("bce_logits_seq", L.BinaryCrossentropy(from_logits=True),
         RNG.choice([0.0, 1.0], (N, 2, 3)), RNG.normal(size=(N, 2, 3))),
        ("binary_focal", L.BinaryFocalCrossentropy(), bin_t, bin_p),
        ("binary_focal_bal_g3", L.BinaryFocalCrossentropy(apply_class_balancing=True,
                                                          gamma=3.0, label_smoothing=0.1),
         bin_t, bin_p),
        ("binary_focal_logits", L.BinaryFocalCrossentropy(from_logits=True, gamma=1.5),
         bin_t, logits3),
        ("cce", L.CategoricalCrossentropy(), cat_t, cat_p),
        ("cce_unnormalised", L.CategoricalCrossentropy(), soft_cat, unnorm),
        ("cce_smooth", L.CategoricalCrossentropy(label_smoothing=0.1), cat_t, cat_p),
        ("cce_logits", L.CategoricalCrossentropy(from_logits=True), soft_cat, logits),
        ("cce_logits_smooth", L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
         cat_t, logits),
        ("cce_seq", L.CategoricalCrossentropy(), onehot(RNG.integers(0, C, (N, 2)), C),
         RNG.uniform(0.1, 1, (N, 2, C))),
        ("cat_focal", L.CategoricalFocalCrossentropy(), cat_t, unnorm),
        ("cat_focal_alpha_list", L.CategoricalFocalCrossentropy(alpha=[0.1, 0.2, 0.3, 0.4],
                                                                gamma=1.0), soft_cat, cat_p),
        ("cat_focal_logits", L.CategoricalFocalCrossentropy(from_logits=True), cat_t, logits),
        ("scce", L.SparseCategoricalCrossentropy(), LABELS, cat_p),
        ("scce_col", L.SparseCategoricalCrossentropy(), LABELS[:, None].astype(np.float32),
         unnorm / 3),
        ("scce_logits", L.SparseCategoricalCrossentropy(from_logits=True), LABELS, logits),
        ("scce_ignore", L.SparseCategoricalCrossentropy(ignore_class=3), LABELS, cat_p),
        ("scce_logits_ignore", L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
         LABELS, logits),
        ("scce_seq_logits", L.SparseCategoricalCrossentropy(from_logits=True),
         RNG.integers(0, C, (N, 3)), RNG.normal(size=(N, 3, C))),
        ("scce_seq_ignore", L.SparseCategoricalCrossentropy(ignore_class=-1),
         np.array([[0, -1, 2], [1, 1, -1], [3, 0, 0], [-1, -1, 2], [2, 3, 1]]),
         RNG.uniform(0.1, 0.9, (N, 3, C))),
    ]
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_forward_backward_matches_finite_differences(case):
    _, loss, y_true, y_pred = case
    check_forward_backward(loss, y_true, y_pred)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_float32_in_float32_out(case):
    _, loss, y_true, y_pred = case
    p32 = np.asarray(y_pred, np.float32)
    scale = np.full(len(p32), 1.0 / len(p32), np.float32)
    losses, grad = loss.forward_backward(y_true, p32, scale)
    assert grad.dtype == np.float32 and losses.dtype == np.float32
    assert grad.shape == p32.shape
    np.testing.assert_allclose(losses, loss.per_sample(y_true, y_pred), rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_reduction_is_weighted_sum_over_batch_size(case):
    """Σ w_i l_i / N, and forward_backward's losses reproduce __call__."""
    _, loss, y_true, y_pred = case
    n = len(y_pred)
    w = np.linspace(0.5, 2.5, n)
    per = loss.per_sample(y_true, y_pred)
    expected = float(np.sum(w * per) / n)
    assert loss(y_true, y_pred, sample_weight=w) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    losses, _ = loss.forward_backward(y_true, y_pred, w / n)
    assert float(np.dot(losses, w / n)) == pytest.approx(expected, rel=1e-9, abs=1e-12)


# ---- fused logits paths ---------------------------------------------------------------

FUSED = [
    ("cce", L.CategoricalCrossentropy(), lambda: onehot(LABELS, C), ops.softmax),
    ("cce_smooth", L.CategoricalCrossentropy(label_smoothing=0.1), lambda: onehot(LABELS, C),
     ops.softmax),
    ("scce", L.SparseCategoricalCrossentropy(), lambda: LABELS, ops.softmax),
    ("scce_col", L.SparseCategoricalCrossentropy(), lambda: LABELS[:, None], ops.softmax),
    ("scce_ignore", L.SparseCategoricalCrossentropy(ignore_class=1), lambda: LABELS, ops.softmax),
    ("bce", L.BinaryCrossentropy(), lambda: RNG.choice([0.0, 1.0], (N, C)), ops.sigmoid),
    ("bce_1col", L.BinaryCrossentropy(), lambda: RNG.choice([0.0, 1.0], (N,)), ops.sigmoid),
]


@pytest.mark.parametrize("case", FUSED, ids=[c[0] for c in FUSED])
def test_logits_forward_backward(case):
    _, loss, make_y, act = case
    y = make_y()
    cols = 1 if case[0] == "bce_1col" else C
    logits = RNG.normal(scale=1.5, size=(N, cols))
    scale = np.linspace(0.3, 1.2, N) / N
    losses, dlogits, y_pred = loss.logits_forward_backward(y, logits, scale)
    assert dlogits.shape == logits.shape and losses.shape == (N,)
    np.testing.assert_allclose(y_pred, act(logits), rtol=1e-12)
    # Same numbers as the probability path on moderate probabilities (clipping inactive).
    np.testing.assert_allclose(losses, loss.per_sample(y, act(logits)), rtol=1e-9, atol=1e-12)

    def f(z):
        return float(np.dot(scale, loss.logits_forward_backward(y, z, scale)[0]))
    np.testing.assert_allclose(dlogits, numeric_grad(f, logits), atol=1e-7, rtol=1e-5)
    # ...and the chain rule through the activation gives the probability-path gradient.
    _, dprob = loss.forward_backward(y, act(logits), scale)
    name = loss.fusable_activation
    chained = ops.activation_backward_from_output(name, dprob, act(logits))
    np.testing.assert_allclose(dlogits, chained, atol=1e-9, rtol=1e-6)


def test_logits_path_is_exact_where_probabilities_saturate():
    loss = L.CategoricalCrossentropy()
    logits = np.array([[40.0, 0.0, -40.0]])
    y = np.array([[0.0, 0.0, 1.0]])
    losses, dlogits, _ = loss.logits_forward_backward(y, logits, np.ones(1))
    assert losses[0] == pytest.approx(80.0, rel=1e-9)  # not clipped at -log(1e-7)
    assert loss.per_sample(y, ops.softmax(logits))[0] == pytest.approx(-math.log(1e-7), rel=1e-6)
    np.testing.assert_allclose(dlogits, [[1.0, 0.0, -1.0]], atol=1e-12)


def test_fusable_activation_attribute():
    from ckeras.models.output_fusion import loss_activation
    assert L.CategoricalCrossentropy.fusable_activation == "softmax"
    assert L.SparseCategoricalCrossentropy.fusable_activation == "softmax"
    assert L.BinaryCrossentropy.fusable_activation == "sigmoid"
    assert loss_activation(L.CategoricalCrossentropy()) == "softmax"
    assert loss_activation(L.SparseCategoricalCrossentropy()) == "softmax"
    assert loss_activation(L.BinaryCrossentropy()) == "sigmoid"
    assert loss_activation(L.CategoricalCrossentropy(from_logits=True)) is None
    assert loss_activation(L.SparseCategoricalCrossentropy(from_logits=True)) is None
    assert loss_activation(L.BinaryCrossentropy(from_logits=True)) is None
    for cls in (L.MeanSquaredError, L.BinaryFocalCrossentropy, L.CategoricalFocalCrossentropy,
                L.KLDivergence, L.Hinge):
        assert cls.fusable_activation is None and loss_activation(cls()) is None
    for focal in (L.BinaryFocalCrossentropy(), L.CategoricalFocalCrossentropy()):
        with pytest.raises(NotImplementedError, match="no fused-logits path"):
            focal.logits_forward_backward(np.ones((2, 2)), np.zeros((2, 2)), np.ones(2))


# ---- values -------------------------------------------------------------------------

def test_bce_hand_values():
    y = np.array([[0, 1], [0, 0]])
    p = np.array([[0.6, 0.4], [0.4, 0.6]])
    expected = -np.array([(math.log(0.4) + math.log(0.4)) / 2, (math.log(0.6) + math.log(0.4)) / 2])
    np.testing.assert_allclose(L.binary_crossentropy(y, p), expected, rtol=1e-12)
    w = np.array([0.5, 3.0])
    assert L.BinaryCrossentropy()(y, p, sample_weight=w) == pytest.approx(
        (0.5 * expected[0] + 3.0 * expected[1]) / 2, rel=1e-12)  # / N, not / sum(w)


def test_label_smoothing_hand_values():
    p = np.array([[0.6, 0.3]])
    t = np.array([[1.0, 0.0]])
    ts = t * 0.8 + 0.1  # BCE squeezes towards 0.5: t (1 - ls) + ls / 2
    expected = -np.mean(ts * np.log(p) + (1 - ts) * np.log(1 - p))
    assert L.binary_crossentropy(t, p, label_smoothing=0.2)[0] == pytest.approx(expected)
    q = np.array([[0.7, 0.2, 0.1]])
    tc = np.array([[1.0, 0.0, 0.0]]) * 0.7 + 0.3 / 3  # CCE: t (1 - ls) + ls / C
    assert L.categorical_crossentropy([[1, 0, 0]], q, label_smoothing=0.3)[0] == \
        pytest.approx(-np.sum(tc * np.log(q)))
    z = np.array([[0.4, -1.2, 2.0]])
    ez = np.exp(z - z.max())
    assert L.categorical_crossentropy([[1, 0, 0]], z, from_logits=True, label_smoothing=0.3)[0] \
        == pytest.approx(-np.sum(tc * np.log(ez / ez.sum())))


def test_cce_hand_values_and_reductions():
    y = np.array([[0, 1, 0], [0, 0, 1]])
    p = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    per = np.array([-math.log(0.95), -math.log(0.1)])
    np.testing.assert_allclose(L.categorical_crossentropy(y, p), per, rtol=1e-7)
    assert L.CategoricalCrossentropy()(y, p) == pytest.approx(per.mean(), rel=1e-7)
    assert L.CategoricalCrossentropy()(y, p, sample_weight=np.array([0.3, 0.7])) == \
        pytest.approx(0.814, abs=5e-4)  # Keras docstring
    assert L.CategoricalCrossentropy(reduction="sum")(y, p) == pytest.approx(per.sum(), rel=1e-7)
    np.testing.assert_allclose(L.CategoricalCrossentropy(reduction=None)(y, p), per, rtol=1e-7)
    np.testing.assert_allclose(L.CategoricalCrossentropy(reduction="none")(y, p), per, rtol=1e-7)
    w = np.array([1.0, 3.0])
    assert L.CategoricalCrossentropy(reduction="mean_with_sample_weight")(y, p, sample_weight=w) \
        == pytest.approx((per * w).sum() / w.sum(), rel=1e-7)
    # sparse labels give the same numbers (within Keras's clipping), as (N,) or (N, 1)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy([1, 2], p), per, atol=1e-6)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy([[1], [2]], p), per, atol=1e-6)


def test_keras_documented_values():
    yt, yp = np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8])
    yt2, yp2 = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    bce = L.BinaryCrossentropy(from_logits=True)
    assert bce(yt, yp) == pytest.approx(0.8654, abs=1e-4)
    assert bce(yt2, yp2, sample_weight=[0.8, 0.2]) == pytest.approx(0.243, abs=1e-3)
    np.testing.assert_allclose(L.BinaryCrossentropy(from_logits=True, reduction=None)(yt2, yp2),
                               [0.235, 1.496], atol=1e-3)
    focal = L.BinaryFocalCrossentropy
    assert focal(gamma=2, from_logits=True)(yt, yp) == pytest.approx(0.691, abs=1e-3)
    assert focal(apply_class_balancing=True, gamma=3, from_logits=True)(
        yt2, yp2, sample_weight=[0.8, 0.2]) == pytest.approx(0.097, abs=1e-3)
    np.testing.assert_allclose(focal(gamma=5, from_logits=True, reduction=None)(yt2, yp2),
                               [0.0017, 1.1561], atol=1e-4)
    ct, cp = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
    assert L.CategoricalFocalCrossentropy()(ct, cp) == pytest.approx(0.23315276, rel=1e-5)
    np.testing.assert_allclose(L.categorical_focal_crossentropy(
        [[0, 1, 0], [0, 0, 1]], [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]),
        [2.63401289e-04, 6.75912094e-01], rtol=1e-5)
    assert L.huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).mean() == pytest.approx(0.155)
    assert L.log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]).mean() == \
        pytest.approx(0.108, abs=1e-3)
    np.testing.assert_allclose(L.cosine_similarity([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
                                                   [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]),
                               [0.0, -1.0, 1.0], atol=1e-6)


def test_regression_closed_forms():
    t = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    p = np.array([[1.5, 1.0, 3.0], [0.0, -1.5, 4.0]])
    d = p - t
    np.testing.assert_allclose(L.mse(t, p), (d ** 2).mean(-1))
    np.testing.assert_allclose(L.mae(t, p), np.abs(d).mean(-1))
    np.testing.assert_allclose(L.mape(t, p), 100 * np.abs(d / np.abs(t)).mean(-1))
    tp, pp = np.abs(t), np.abs(p) + 0.1
    np.testing.assert_allclose(L.msle(tp, pp), ((np.log1p(pp) - np.log1p(tp)) ** 2).mean(-1))
    np.testing.assert_allclose(L.poisson(tp, pp), (pp - tp * np.log(pp + 1e-7)).mean(-1))
    np.testing.assert_allclose(L.log_cosh(t, p), np.log(np.cosh(d)).mean(-1), rtol=1e-7)
    np.testing.assert_allclose(L.hinge([[-1.0, 1.0]], [[0.3, 0.4]]), [(1.3 + 0.6) / 2])
    np.testing.assert_allclose(L.hinge([[0.0, 1.0]], [[0.3, 0.4]]), [(1.3 + 0.6) / 2])  # 0 -> -1
    np.testing.assert_allclose(L.squared_hinge([[-1.0, 1.0]], [[0.3, 0.4]]),
                               [(1.3 ** 2 + 0.6 ** 2) / 2])
    np.testing.assert_allclose(L.categorical_hinge([[0, 1, 0]], [[0.2, 0.5, 0.9]]), [1.4])
    pt, pq = np.array([[0.2, 0.8]]), np.array([[0.5, 0.5]])
    np.testing.assert_allclose(L.kld(pt, pq), [(pt * np.log(pt / pq)).sum()])


def test_probability_crossentropies_clip_like_keras():
    eps = 1e-7
    assert L.binary_crossentropy([[1.0]], [[0.0]])[0] == pytest.approx(-math.log(eps), rel=1e-6)
    assert L.binary_crossentropy([[0.0]], [[1.0]])[0] == pytest.approx(-math.log(eps), rel=1e-4)
    assert L.categorical_crossentropy([[1.0, 0.0]], [[0.0, 1.0]])[0] == \
        pytest.approx(-math.log(eps), rel=1e-6)
    v = L.sparse_categorical_crossentropy([0], [[0.0, 1.0]])[0]
    assert np.isfinite(v) and v == pytest.approx(-math.log(eps), rel=1e-6)
    # Keras float32 run: BCE on (1 - 1e-8) ~ log of the float32 clip bound
    v32 = L.binary_crossentropy(np.array([[0.0]], np.float32), np.array([[1.0]], np.float32))
    assert v32.dtype == np.float32 and abs(v32[0] - 15.9424) < 1e-3


def test_ignore_class_divides_by_valid_count():
    p = probs(4, 3)
    y = np.array([0, 2, -1, 1])
    loss = L.SparseCategoricalCrossentropy(ignore_class=-1)
    full = -np.log(p[[0, 1, 3], [0, 2, 1]])
    assert loss(y, p) == pytest.approx(full.mean(), rel=1e-6)
    values = loss.call(y, p)
    assert values[2] == 0.0
    per = loss.per_sample(y, p)
    assert per[2] == 0 and float(per.mean()) == pytest.approx(full.mean(), rel=1e-6)


def test_sequence_outputs_average_over_time():
    t, p = RNG.normal(size=(3, 4, 2)), RNG.normal(size=(3, 4, 2))
    loss = L.MeanSquaredError()
    values = loss.call(t, p)
    assert values.shape == (3, 4)
    np.testing.assert_allclose(loss.per_sample(t, p), values.mean(1))
    w = np.array([1.0, 2.0, 0.5])
    assert loss(t, p, sample_weight=w) == pytest.approx((values * w[:, None]).sum() / 12)


# ---- shapes and errors -----------------------------------------------------------------

@pytest.mark.parametrize("labels", [np.array([0, 2, 1]), np.array([[0], [2], [1]])])
def test_cce_integer_labels_error_suggests_sparse(labels):
    with pytest.raises(ValueError) as e:
        L.CategoricalCrossentropy().forward_backward(labels, probs(3, 3), np.ones(3))
    msg = str(e.value)
    assert "sparse_categorical_crossentropy" in msg and "to_categorical" in msg
    assert str(labels.shape) in msg and "(3, 3)" in msg


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as e:
        L.MeanSquaredError()(np.zeros((4, 3)), np.zeros((4, 2)))
    assert "(4, 3)" in str(e.value) and "(4, 2)" in str(e.value)
    with pytest.raises(ValueError) as e:
        L.SparseCategoricalCrossentropy()(np.zeros(5, int), np.zeros((4, 3)))
    assert "(5,)" in str(e.value) and "(4, 3)" in str(e.value)


def test_sparse_label_out_of_range():
    with pytest.raises(ValueError) as e:
        L.SparseCategoricalCrossentropy().forward_backward(np.array([0, 7, 1]), probs(3, 4),
                                                            np.ones(3))
    assert "7" in str(e.value) and "4 classes" in str(e.value)
    with pytest.raises(ValueError) as e:
        L.SparseCategoricalCrossentropy(from_logits=True).logits_forward_backward(
            np.array([-1, 0, 1]), RNG.normal(size=(3, 4)), np.ones(3))
    assert "-1" in str(e.value)


def test_sparse_with_one_hot_labels_hints_categorical():
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        L.SparseCategoricalCrossentropy()(onehot(LABELS, C), probs(N, C))


def test_sparse_rejects_fractional_labels():
    with pytest.raises(ValueError, match="integer"):
        L.SparseCategoricalCrossentropy()(np.array([0.5, 1.0]), probs(2, 3))


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction"):
        L.MeanSquaredError(reduction="average")
    assert L.MeanSquaredError(reduction="auto").reduction == "sum_over_batch_size"  # tf.keras 2


# ---- resolution, aliases, configs -------------------------------------------------------

ALIASES = {
    "mse": L.MeanSquaredError, "mean_squared_error": L.MeanSquaredError,
    "MSE": L.MeanSquaredError, "MeanSquaredError": L.MeanSquaredError,
    "mae": L.MeanAbsoluteError, "mean_absolute_error": L.MeanAbsoluteError,
    "mape": L.MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": L.MeanAbsolutePercentageError,
    "msle": L.MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": L.MeanSquaredLogarithmicError,
    "kld": L.KLDivergence, "kl_divergence": L.KLDivergence, "KLDivergence": L.KLDivergence,
    "bce": L.BinaryCrossentropy, "binary_crossentropy": L.BinaryCrossentropy,
    "categorical_crossentropy": L.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": L.SparseCategoricalCrossentropy,
    "binary_focal_crossentropy": L.BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": L.CategoricalFocalCrossentropy,
    "huber": L.Huber, "log_cosh": L.LogCosh, "logcosh": L.LogCosh, "poisson": L.Poisson,
    "cosine_similarity": L.CosineSimilarity, "hinge": L.Hinge, "squared_hinge": L.SquaredHinge,
    "categorical_hinge": L.CategoricalHinge,
    "SparseCategoricalCrossentropy": L.SparseCategoricalCrossentropy,
}


@pytest.mark.parametrize("alias,cls", sorted(ALIASES.items()))
def test_alias_resolution(alias, cls):
    obj = L.get(alias)
    assert type(obj) is cls
    assert obj.reduction == "sum_over_batch_size"


def test_names_are_keras_names():
    assert L.get("mse").name == "mean_squared_error"
    assert L.get("huber").name == "huber_loss"
    assert L.get("bce").name == "binary_crossentropy"
    assert L.get("kld").name == "kl_divergence"


def test_functional_forms_resolve_to_objects():
    assert type(L.get(L.mean_squared_error)) is L.MeanSquaredError
    assert type(L.get(L.sparse_categorical_crossentropy)) is L.SparseCategoricalCrossentropy
    assert type(L.get({"module": "keras.losses", "class_name": "function",
                       "config": "mean_absolute_error",
                       "registered_name": "mean_absolute_error"})) is L.MeanAbsoluteError
    out = L.mean_squared_error(np.zeros((4, 3)), np.ones((4, 3)))
    assert out.shape == (4,)
    loss = L.MeanSquaredError()
    assert L.get(loss) is loss and type(L.get(L.Huber)) is L.Huber


def test_crossentropy_alias_resolves_by_shape():
    assert type(L.get("ce").resolve(np.zeros((4, 1)), np.zeros((4, 1)))) is L.BinaryCrossentropy
    assert type(L.get("crossentropy").resolve(np.zeros(4), np.zeros((4, 3)))) is \
        L.SparseCategoricalCrossentropy
    assert type(L.get("ce").resolve(np.zeros((4, 1)), np.zeros((4, 3)))) is \
        L.SparseCategoricalCrossentropy
    auto = L.get("crossentropy")
    y, p = onehot(LABELS, C), probs(N, C)
    assert auto(y, p) == pytest.approx(L.CategoricalCrossentropy()(y, p))
    from ckeras.models.output_fusion import loss_activation
    assert loss_activation(auto) == "softmax"


def test_unknown_name_lists_accepted():
    with pytest.raises(ValueError) as e:
        L.get("mean_squared_eror")
    msg = str(e.value)
    assert "mean_squared_eror" in msg and "mse" in msg and "categorical_crossentropy" in msg


def test_keras_losses_added_later_resolve_by_name():
    assert isinstance(L.get("ctc"), L.CTC) and isinstance(L.get("dice"), L.Dice)


CONFIG_OBJECTS = [
    L.MeanSquaredError(name="m1"), L.MeanAbsoluteError(reduction="sum"),
    L.MeanAbsolutePercentageError(), L.MeanSquaredLogarithmicError(),
    L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    L.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=3.0),
    L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
    L.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.0),
    L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    L.Hinge(), L.SquaredHinge(), L.CategoricalHinge(), L.Huber(delta=2.5),
    L.KLDivergence(), L.LogCosh(), L.Poisson(), L.CosineSimilarity(axis=1, reduction=None),
]


@pytest.mark.parametrize("obj", CONFIG_OBJECTS, ids=[type(o).__name__ for o in CONFIG_OBJECTS])
def test_config_round_trips(obj):
    config = obj.get_config()
    assert config["name"] == obj.name and config["reduction"] == obj.reduction
    clone = type(obj).from_config(config)
    assert clone.get_config() == config
    d = L.serialize(obj)
    assert d["module"] == "keras.losses" and d["class_name"] == type(obj).__name__
    assert d["config"] == config and d["registered_name"] is None
    back = L.deserialize(d)
    assert type(back) is type(obj) and back.get_config() == config
    # Keras 2 form (no module)
    back2 = L.get({"class_name": type(obj).__name__, "config": config})
    assert back2.get_config() == config


def test_keras2_config_with_auto_reduction():
    obj = L.get({"class_name": "CategoricalCrossentropy",
                 "config": {"reduction": "auto", "name": "categorical_crossentropy",
                            "from_logits": False, "label_smoothing": 0, "axis": -1}})
    assert type(obj) is L.CategoricalCrossentropy and obj.reduction == "sum_over_batch_size"


def test_defaults_are_keras3():
    assert L.Huber().delta == 1.0
    bce = L.BinaryCrossentropy()
    assert (bce.from_logits, bce.label_smoothing, bce.axis) == (False, 0.0, -1)
    assert L.SparseCategoricalCrossentropy().ignore_class is None
    assert L.CosineSimilarity().axis == -1
    f = L.BinaryFocalCrossentropy()
    assert (f.apply_class_balancing, f.alpha, f.gamma) == (False, 0.25, 2.0)


# ---- custom losses -------------------------------------------------------------------------

def test_custom_function_loss_gets_its_gradient_from_the_tape():
    def my_loss(y_true, y_pred):   # numpy's mean/abs on tape tensors map to ckeras.ops
        return np.mean(np.abs(y_true - y_pred), axis=-1)

    loss = L.get(my_loss)
    assert loss.name == "my_loss"
    assert loss(np.zeros((2, 3)), np.ones((2, 3))) == pytest.approx(1.0)
    np.testing.assert_allclose(loss.per_sample(np.zeros((2, 3)), np.ones((2, 3))), [1.0, 1.0])
    per, grad = loss.forward_backward(np.zeros((2, 3)), np.ones((2, 3)), np.ones(2) / 2)
    np.testing.assert_allclose(per, [1.0, 1.0])
    np.testing.assert_allclose(grad, np.full((2, 3), 1 / 6))


def test_custom_loss_via_custom_objects():
    class Mine(L.MeanSquaredError):
        pass

    obj = L.get({"class_name": "Mine", "config": {"name": "mine"}}, custom_objects={"Mine": Mine})
    assert type(obj) is Mine and obj.name == "mine"


def test_registered_custom_loss_round_trips():
    from ckeras.registry import register_keras_serializable

    @register_keras_serializable(package="ckeras_test_losses")
    class DoubledMSE(L.MeanSquaredError):
        def forward_backward(self, y_true, y_pred, sample_scale):
            losses, grad = super().forward_backward(y_true, y_pred, sample_scale)
            return 2 * losses, 2 * grad

    d = L.serialize(DoubledMSE(name="dmse"))
    assert d["registered_name"] == "ckeras_test_losses>DoubledMSE" and d["module"] is None
    back = L.deserialize(d)
    assert type(back) is DoubledMSE and back.name == "dmse"
    t, p = np.zeros((2, 3)), np.ones((2, 3))
    assert float(back.forward_backward(t, p, np.ones(2))[0][0]) == pytest.approx(2.0)
