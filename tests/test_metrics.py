"""Metrics: hand-computed values, sample weights, batch accumulation, AUC vs
an exact AUC, the shape-based accuracy resolution of Keras 3, names, configs."""
import json
import math
import os
import sys
import time
import types

import numpy as np
import pytest

try:
    import ckeras  # noqa: F401
except ImportError:  # package __init__ in flux: load the submodules directly
    for _k in [k for k in sys.modules if k == "ckeras" or k.startswith("ckeras.")]:
        del sys.modules[_k]
    _pkg = types.ModuleType("ckeras")
    _pkg.__path__ = [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ckeras")]
    sys.modules["ckeras"] = _pkg

from ckeras import metrics
from ckeras import registry


def value(metric, y_true, y_pred, sample_weight=None):
    metric.reset_state()
    metric.update_state(np.asarray(y_true), np.asarray(y_pred, dtype=np.float32),
                        sample_weight=None if sample_weight is None else np.asarray(sample_weight))
    return metric.result()


# ---- hand-computed values -------------------------------------------------------

YT2 = [[0, 1], [0, 0]]
YP2 = [[0.6, 0.4], [0.4, 0.6]]


def _bce(t, p):
    return -(t * math.log(p) + (1 - t) * math.log(1 - p))


CASES = [
    # metric, y_true, y_pred, expected, sample_weight, expected weighted
    (lambda: metrics.BinaryAccuracy(), [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]],
     0.75, [1, 0, 0, 1], 0.5),
    (lambda: metrics.BinaryAccuracy(threshold=0.7), [[1], [1], [0], [0]],
     [[0.98], [0.5], [0], [0.6]], 0.75, [0, 1, 1, 1], 2 / 3),
    (lambda: metrics.CategoricalAccuracy(), [[0, 0, 1], [0, 1, 0]],
     [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    (lambda: metrics.SparseCategoricalAccuracy(), [[2], [1]],
     [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    (lambda: metrics.SparseCategoricalAccuracy(), [2, 1],
     [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    (lambda: metrics.TopKCategoricalAccuracy(k=1), [[0, 0, 1], [0, 1, 0]],
     [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    (lambda: metrics.TopKCategoricalAccuracy(k=2), [[0, 0, 1], [0, 0, 1]],
     [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.7),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=1), [2, 1],
     [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=1), [2, 0],   # ties count as "in"
     [[0.5, 0.5, 0.5], [0.2, 0.7, 0.1]], 0.5, None, None),
    (lambda: metrics.MeanAbsoluteError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]],
     0.25, [1, 0], 0.5),
    (lambda: metrics.MeanSquaredError(), [[0, 1], [0, 0]], [[3, 1], [0, 1]],
     2.5, [1, 3], 1.5),
    (lambda: metrics.RootMeanSquaredError(), [[0, 1], [0, 0]], [[3, 1], [0, 1]],
     math.sqrt(2.5), [1, 3], math.sqrt(1.5)),
    (lambda: metrics.MeanAbsolutePercentageError(), [[1, 2], [4, 8]], [[2, 2], [2, 8]],
     37.5, [1, 3], 31.25),
    (lambda: metrics.MeanSquaredLogarithmicError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]],
     (math.log(2) - math.log(1 + 1e-7)) ** 2 / 4, None, None),
    (lambda: metrics.BinaryCrossentropy(), YT2, YP2,
     (_bce(0, .6) + _bce(1, .4) + _bce(0, .4) + _bce(0, .6)) / 4, [1, 0],
     (_bce(0, .6) + _bce(1, .4)) / 2),
    (lambda: metrics.CategoricalCrossentropy(), [[0, 1, 0], [0, 0, 1]],
     [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], (-math.log(0.95) - math.log(0.1)) / 2,
     [0.3, 0.7], -0.3 * math.log(0.95) - 0.7 * math.log(0.1)),
    (lambda: metrics.SparseCategoricalCrossentropy(), [1, 2],
     [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], (-math.log(0.95) - math.log(0.1)) / 2,
     [0.3, 0.7], -0.3 * math.log(0.95) - 0.7 * math.log(0.1)),
    (lambda: metrics.KLDivergence(), YT2, YP2, math.log(1 / 0.4) / 2, [1, 0],
     math.log(1 / 0.4)),
    (lambda: metrics.Poisson(), [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.5, [1, 0], 1.0),
    (lambda: metrics.Hinge(), YT2, YP2, 1.3, [1, 0], 1.1),
    (lambda: metrics.SquaredHinge(), YT2, YP2, 1.86, [1, 0], 1.46),
    (lambda: metrics.CategoricalHinge(), YT2, YP2, 1.4, [1, 0], 1.2),
    (lambda: metrics.CosineSimilarity(), [[0, 1], [1, 1]], [[1, 0], [1, 1]], 0.5,
     [0.3, 0.7], 0.7),
    (lambda: metrics.LogCoshError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]],
     math.log(math.cosh(1)) / 4, [1, 0], math.log(math.cosh(1)) / 2),
    (lambda: metrics.Accuracy(), [[1], [2], [3], [4]], [[0], [2], [3], [4]],
     0.75, [1, 1, 0, 0], 0.5),
    (lambda: metrics.Precision(), [0, 1, 1, 1], [1, 0, 1, 1], 2 / 3, [0, 0, 1, 0], 1.0),
    (lambda: metrics.Recall(), [0, 1, 1, 1], [1, 0, 1, 1], 2 / 3, [0, 0, 1, 0], 1.0),
    (lambda: metrics.TruePositives(), [0, 1, 1, 1], [1, 0, 1, 1], 2.0, [0, 0, 1, 0], 1.0),
    (lambda: metrics.FalsePositives(), [0, 1, 0, 0], [0, 0, 1, 1], 2.0, [0, 0, 1, 0], 1.0),
    (lambda: metrics.TrueNegatives(), [0, 1, 0, 0], [0, 0, 1, 1], 1.0, [2, 0, 1, 0], 2.0),
    (lambda: metrics.FalseNegatives(), [0, 1, 1, 1], [0, 1, 0, 0], 2.0, [0, 0, 1, 0], 1.0),
    (lambda: metrics.AUC(num_thresholds=3), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], 0.75,
     [1, 0, 0, 1], 1.0),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: type(c[0]()).__name__)
def test_hand_computed(case):
    make, y_true, y_pred, expected, sw, expected_w = case
    m = make()
    assert value(m, y_true, y_pred) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    if sw is not None:
        assert value(m, y_true, y_pred, sw) == pytest.approx(expected_w, rel=1e-5, abs=1e-6)
    assert isinstance(m.result(), float)


def test_mean_and_sum():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(2.0, sample_weight=3)
    m.update_state(6.0)
    assert m.result() == pytest.approx((2 * 3 + 6) / 4)
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert s.result() == 4.0
    assert metrics.Mean()(np.array([2.0, 4.0])) == 3.0      # __call__ = update + result


def test_crossentropy_options():
    yt, yp = np.array([[1.0], [0.0]]), np.array([[0.8], [0.3]])
    smooth = metrics.BinaryCrossentropy(label_smoothing=0.2)
    t = np.array([0.9, 0.1])
    expected = np.mean(-(t * np.log([0.8, 0.3]) + (1 - t) * np.log([0.2, 0.7])))
    assert value(smooth, yt, yp) == pytest.approx(expected, rel=1e-5)
    logits = np.array([[2.0], [-1.0]])
    from_logits = metrics.BinaryCrossentropy(from_logits=True)
    p = 1 / (1 + np.exp(-logits[:, 0]))
    expected = np.mean(-(np.array([1, 0]) * np.log(p) + np.array([0, 1]) * np.log(1 - p)))
    assert value(from_logits, yt, logits) == pytest.approx(expected, rel=1e-5)
    z = np.array([[1.0, 2.0, 0.5]])
    lsm = z - np.log(np.exp(z).sum())
    assert value(metrics.SparseCategoricalCrossentropy(from_logits=True), [1], z) == \
        pytest.approx(-lsm[0, 1], rel=1e-5)
    assert value(metrics.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3),
                 [[0, 1, 0]], z) == pytest.approx(-(lsm[0] * np.array([0.1, 0.8, 0.1])).sum(),
                                                  rel=1e-5)


def test_thresholds_top_k_class_id():
    yt = np.array([0, 1, 1, 0, 1])
    yp = np.array([0.2, 0.4, 0.8, 0.6, 0.35])
    p = metrics.Precision(thresholds=[0.3, 0.5, 0.7])
    res = value(p, yt, yp)
    np.testing.assert_allclose(res, [3 / 4, 1 / 2, 1.0])
    r = metrics.Recall(thresholds=[0.7, 0.3])
    np.testing.assert_allclose(value(r, yt, yp), [1 / 3, 1.0])
    tp = metrics.TruePositives(thresholds=[0.0, 0.5, 1.0])
    np.testing.assert_allclose(value(tp, yt, yp), [3, 1, 0])
    # Keras docstring cases for top_k (predictions all tied: first indices win)
    assert value(metrics.Precision(top_k=2), [0, 0, 1, 1], [1, 1, 1, 1]) == 0.0
    assert value(metrics.Precision(top_k=4), [0, 0, 1, 1], [1, 1, 1, 1]) == 0.5
    yt2 = np.array([[0, 0, 1], [0, 1, 0], [0, 0, 1]])
    yp2 = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.1, 0.3]])
    assert value(metrics.Precision(class_id=2), yt2, yp2) == 1.0
    assert value(metrics.Recall(class_id=2), yt2, yp2) == 0.5
    assert value(metrics.Recall(top_k=1), yt2, yp2) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        metrics.Precision(thresholds=[1.5])


def test_f1_and_r2():
    f1 = metrics.F1Score(threshold=0.5)
    yt = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    yp = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    np.testing.assert_allclose(value(f1, yt, yp), [0.5, 0.8, 2 / 3], rtol=1e-5)
    macro = metrics.F1Score(average="macro", threshold=0.5)
    assert value(macro, yt, yp) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3, rel=1e-5)
    micro = metrics.F1Score(average="micro", threshold=0.5)
    tp, fp, fn = 4, 2, 2
    assert value(micro, yt, yp) == pytest.approx(2 * tp / (2 * tp + fp + fn), rel=1e-5)
    r2 = metrics.R2Score()
    assert value(r2, [[1], [4], [3]], [[2], [4], [4]]) == pytest.approx(0.57142854, rel=1e-5)


# ---- accumulation: batches == one big batch ---------------------------------------

def _data(kind, n, rng):
    if kind == "binary":
        return rng.integers(0, 2, (n, 1)), rng.random((n, 1))
    if kind == "categorical":
        labels = rng.integers(0, 4, n)
        return np.eye(4)[labels], rng.dirichlet(np.ones(4), n)
    if kind == "sparse":
        return rng.integers(0, 4, (n, 1)), rng.dirichlet(np.ones(4), n)
    if kind == "multilabel":
        return rng.integers(0, 2, (n, 3)), rng.random((n, 3))
    return rng.random((n, 3)) + 0.1, rng.random((n, 3)) + 0.1     # regression


ACCUMULATING = [
    (metrics.BinaryAccuracy, "binary"), (metrics.CategoricalAccuracy, "categorical"),
    (metrics.SparseCategoricalAccuracy, "sparse"), (metrics.BinaryAccuracy, "multilabel"),
    (lambda: metrics.TopKCategoricalAccuracy(k=2), "categorical"),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=2), "sparse"),
    (metrics.MeanAbsoluteError, "regression"), (metrics.MeanSquaredError, "regression"),
    (metrics.RootMeanSquaredError, "regression"),
    (metrics.MeanAbsolutePercentageError, "regression"),
    (metrics.MeanSquaredLogarithmicError, "regression"), (metrics.LogCoshError, "regression"),
    (metrics.CosineSimilarity, "regression"), (metrics.Poisson, "regression"),
    (metrics.KLDivergence, "categorical"), (metrics.Hinge, "binary"),
    (metrics.SquaredHinge, "multilabel"), (metrics.CategoricalHinge, "categorical"),
    (metrics.BinaryCrossentropy, "binary"), (metrics.CategoricalCrossentropy, "categorical"),
    (metrics.SparseCategoricalCrossentropy, "sparse"),
    (metrics.Precision, "binary"), (metrics.Recall, "multilabel"),
    (metrics.TruePositives, "binary"), (metrics.FalseNegatives, "binary"),
    (metrics.AUC, "binary"), (lambda: metrics.AUC(curve="PR"), "multilabel"),
    (lambda: metrics.AUC(multi_label=True), "multilabel"),
    (lambda: metrics.F1Score(average="weighted"), "categorical"),
    (metrics.R2Score, "regression"),
]


@pytest.mark.parametrize("make,kind", ACCUMULATING,
                         ids=[f"{getattr(m, '__name__', 'lambda')}-{k}" for m, k in ACCUMULATING])
def test_batches_equal_one_big_batch(make, kind):
    rng = np.random.default_rng(0)
    n = 50
    y_true, y_pred = _data(kind, n, rng)
    sw = rng.random(n) * 2
    whole = make()
    whole.update_state(y_true, y_pred, sample_weight=sw)
    batched = make()
    for lo, hi in [(0, 7), (7, 20), (20, 50)]:
        batched.update_state(y_true[lo:hi], y_pred[lo:hi], sample_weight=sw[lo:hi])
    np.testing.assert_allclose(batched.result(), whole.result(), rtol=1e-6, atol=1e-9)
    unweighted = make()
    unweighted.update_state(y_true, y_pred)
    assert not np.allclose(unweighted.result(), whole.result(), rtol=1e-9, atol=0)


def test_epoch_mean_is_sample_weighted_mean():
    rng = np.random.default_rng(1)
    y_true, y_pred = _data("regression", 40, rng)
    sw = rng.random(40)
    per_sample = np.mean((y_true - y_pred) ** 2, axis=-1)
    m = metrics.MeanSquaredError()
    for lo in range(0, 40, 16):
        m.update_state(y_true[lo:lo + 16], y_pred[lo:lo + 16], sample_weight=sw[lo:lo + 16])
    assert m.result() == pytest.approx(np.sum(sw * per_sample) / np.sum(sw), rel=1e-6)


def test_rank1_inputs_are_per_sample():
    m = metrics.BinaryAccuracy()
    m.update_state(np.array([1, 0, 1]), np.array([0.9, 0.2, 0.1]))   # 2/3
    m.update_state(np.array([1]), np.array([0.9]))                    # 1/1
    assert m.result() == pytest.approx(3 / 4)


# ---- AUC against exact computations ----------------------------------------------

def exact_roc_auc(y, s, w=None):
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    pos, neg = y == 1, y == 0
    sp, sn = s[pos][:, None], s[neg][None, :]
    wp, wn = w[pos][:, None], w[neg][None, :]
    pairs = wp * wn
    return float(np.sum(pairs * ((sp > sn) + 0.5 * (sp == sn))) / np.sum(pairs))


def exact_pr_auc_interpolated(y, s):
    """Davis & Goadrich interpolation between every distinct score."""
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(ss)), len(ss) - 1]
    tp = np.r_[0.0, np.cumsum(ys)[last]]
    p = np.r_[0.0, (last + 1.0)]
    total = ys.sum()
    area = 0.0
    for i in range(1, len(tp)):
        dtp, dp = tp[i] - tp[i - 1], p[i] - p[i - 1]
        slope = dtp / dp if dp > 0 else 0.0
        intercept = tp[i - 1] - slope * p[i - 1]
        ratio = p[i] / p[i - 1] if p[i - 1] > 0 else 1.0
        area += slope * (dtp + intercept * math.log(ratio)) / total
    return area


def test_roc_auc_close_to_exact():
    rng = np.random.default_rng(2)
    n = 400
    y = rng.integers(0, 2, n)
    s = np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1).astype(np.float32)
    w = rng.random(n)
    exact = exact_roc_auc(y, s)
    assert 0.6 < exact < 0.99
    assert value(metrics.AUC(), y, s) == pytest.approx(exact, abs=5e-3)
    assert value(metrics.AUC(num_thresholds=2000), y, s) == pytest.approx(exact, abs=5e-4)
    assert value(metrics.AUC(num_thresholds=2000), y, s, w) == \
        pytest.approx(exact_roc_auc(y, s, w), abs=5e-4)
    # a coarse approximation differs: the test can tell
    assert abs(value(metrics.AUC(num_thresholds=4), y, s) - exact) > 5e-3


def test_roc_auc_exact_on_tied_scores():
    # Scores on a coarse grid between the thresholds: bucketing loses nothing.
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = (rng.integers(0, 5, 300) * 0.2 + 0.1 * y).astype(np.float32) / 1.1
    assert value(metrics.AUC(), y, s) == pytest.approx(exact_roc_auc(y, s), abs=1e-6)


def test_pr_auc_close_to_exact_interpolation():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    s = (0.3 * y + 0.7 * rng.random(300)).astype(np.float32)
    exact = exact_pr_auc_interpolated(y, s)
    assert value(metrics.AUC(curve="PR", num_thresholds=5000), y, s) == \
        pytest.approx(exact, abs=2e-3)
    minoring = value(metrics.AUC(curve="PR", summation_method="minoring"), y, s)
    majoring = value(metrics.AUC(curve="PR", summation_method="majoring"), y, s)
    assert minoring < exact < majoring


def test_multilabel_auc_averages_labels():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, (200, 3))
    s = (0.4 * y + 0.6 * rng.random((200, 3))).astype(np.float32)
    per_label = [exact_roc_auc(y[:, k], s[:, k]) for k in range(3)]
    ml = metrics.AUC(multi_label=True, num_thresholds=2000)
    assert value(ml, y, s) == pytest.approx(np.mean(per_label), abs=1e-3)
    weighted = metrics.AUC(multi_label=True, num_thresholds=2000, label_weights=[1, 0, 3])
    assert value(weighted, y, s) == pytest.approx(
        (per_label[0] + 3 * per_label[2]) / 4, abs=1e-3)
    flat = metrics.AUC(num_thresholds=2000)
    assert value(flat, y, s) == pytest.approx(exact_roc_auc(y.ravel(), s.ravel()), abs=1e-3)


def test_auc_from_logits_and_custom_thresholds():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 100)
    logits = (2 * y - 1) + rng.normal(size=100)
    probs = 1 / (1 + np.exp(-logits))
    a = value(metrics.AUC(from_logits=True), y, logits)
    b = value(metrics.AUC(), y, probs)
    assert a == pytest.approx(b, abs=1e-6)
    custom = metrics.AUC(thresholds=[0.5, 0.25, 0.75])
    assert custom.num_thresholds == 5
    assert custom.thresholds[1:-1] == [0.25, 0.5, 0.75]


def test_update_state_is_vectorised():
    rng = np.random.default_rng(7)
    n = 200_000
    y = rng.integers(0, 10, n)
    p = rng.random((n, 10)).astype(np.float32)
    yb = (y % 2)[:, None]
    pb = p[:, :1]
    t0 = time.perf_counter()
    for m, args in [(metrics.SparseCategoricalAccuracy(), (y, p)),
                    (metrics.SparseTopKCategoricalAccuracy(), (y, p)),
                    (metrics.AUC(), (yb, pb)), (metrics.Precision(), (yb, pb)),
                    (metrics.BinaryCrossentropy(), (yb, pb)),
                    (metrics.SparseCategoricalCrossentropy(), (y, p))]:
        m.update_state(*args)
    assert time.perf_counter() - t0 < 3.0


# ---- resolution of "accuracy"/"acc" and names -------------------------------------

N = 6
RESOLUTION_TABLE = [
    (np.zeros(N, int), np.zeros((N, 3)), metrics.SparseCategoricalAccuracy),
    (np.zeros((N, 1), int), np.zeros((N, 3)), metrics.SparseCategoricalAccuracy),
    (np.eye(3)[np.zeros(N, int)], np.zeros((N, 3)), metrics.CategoricalAccuracy),
    (np.zeros(N), np.zeros((N, 1)), metrics.BinaryAccuracy),
    (np.zeros((N, 1)), np.zeros((N, 1)), metrics.BinaryAccuracy),
    (np.zeros((N, 3)), np.zeros((N, 3)), metrics.CategoricalAccuracy),   # multi-label!
]


@pytest.mark.parametrize("y_true,y_pred,cls", RESOLUTION_TABLE)
@pytest.mark.parametrize("ident", ["accuracy", "acc"])
def test_accuracy_resolution_table(ident, y_true, y_pred, cls):
    m = metrics.get(ident, y_true=y_true, y_pred=y_pred)
    assert type(m) is cls
    assert m.name == ident
    shapes = metrics.get(ident, y_true=y_true.shape, y_pred=y_pred.shape)
    assert type(shapes) is cls


@pytest.mark.parametrize("y_true,y_pred,cls", [
    (np.zeros(N, int), np.zeros((N, 3)), metrics.SparseCategoricalCrossentropy),
    (np.eye(3)[np.zeros(N, int)], np.zeros((N, 3)), metrics.CategoricalCrossentropy),
    (np.zeros((N, 1)), np.zeros((N, 1)), metrics.BinaryCrossentropy),
])
@pytest.mark.parametrize("ident", ["crossentropy", "ce"])
def test_crossentropy_resolution(ident, y_true, y_pred, cls):
    m = metrics.get(ident, y_true=y_true, y_pred=y_pred)
    assert type(m) is cls and m.name == ident


def test_accuracy_resolved_on_first_update_without_shapes():
    m = metrics.get("acc")
    assert m.name == "acc"
    m.update_state(np.array([2, 1]), np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
    assert type(m.resolved) is metrics.SparseCategoricalAccuracy
    assert m.result() == 0.5
    m.reset_state()
    assert m.result() == 0.0


def test_names():
    assert metrics.get("AUC").name == "AUC" and isinstance(metrics.get("AUC"), metrics.AUC)
    assert metrics.get("Precision").name == "Precision"
    assert metrics.AUC().name == "auc"
    assert metrics.BinaryAccuracy().name == "binary_accuracy"
    auc = metrics.AUC()
    assert metrics.get(auc) is auc and auc.name == "auc"
    mae = metrics.get("mae")
    assert isinstance(mae, metrics.MeanAbsoluteError) and mae.name == "mae"
    assert metrics.get("mean_squared_error").name == "mean_squared_error"
    assert metrics.LogCoshError().name == "logcosh"
    for ident, cls in [("root_mean_squared_error", metrics.RootMeanSquaredError),
                       ("log_cosh_error", metrics.LogCoshError),
                       ("kl_divergence", metrics.KLDivergence),
                       ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
                       ("true_positives", metrics.TruePositives),
                       ("f1_score", metrics.F1Score), ("r2_score", metrics.R2Score),
                       ("msle", metrics.MeanSquaredLogarithmicError),
                       ("binary_crossentropy", metrics.BinaryCrossentropy),
                       ("BinaryAccuracy", metrics.BinaryAccuracy)]:
        m = metrics.get(ident)
        assert type(m) is cls and m.name == ident
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)


def test_get_function_and_errors():
    def my_error(y_true, y_pred):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred)).max(axis=-1)

    m = metrics.get(my_error)
    assert m.name == "my_error"
    assert value(m, [[0, 1], [0, 0]], [[1, 1], [0, 3]]) == 2.0
    with pytest.raises(ValueError) as err:
        metrics.get("accuracyy")
    assert "binary_accuracy" in str(err.value)
    with pytest.raises(ValueError):
        metrics.get(3.5)
    assert metrics.get(None) is None


# ---- configs ------------------------------------------------------------------------

CONFIGURED = [
    metrics.Mean(name="m"), metrics.Sum(name="s"), metrics.Accuracy(),
    metrics.BinaryAccuracy(threshold=0.3), metrics.CategoricalAccuracy(),
    metrics.SparseCategoricalAccuracy(name="sca"), metrics.TopKCategoricalAccuracy(k=3),
    metrics.SparseTopKCategoricalAccuracy(k=2), metrics.MeanAbsoluteError(),
    metrics.MeanSquaredError(), metrics.RootMeanSquaredError(),
    metrics.MeanAbsolutePercentageError(), metrics.MeanSquaredLogarithmicError(),
    metrics.CosineSimilarity(axis=1), metrics.LogCoshError(), metrics.R2Score(
        class_aggregation=None), metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    metrics.CategoricalCrossentropy(label_smoothing=0.2),
    metrics.SparseCategoricalCrossentropy(from_logits=True), metrics.KLDivergence(),
    metrics.Poisson(), metrics.Hinge(), metrics.SquaredHinge(), metrics.CategoricalHinge(),
    metrics.TruePositives(thresholds=[0.2, 0.8]), metrics.FalsePositives(),
    metrics.TrueNegatives(), metrics.FalseNegatives(thresholds=0.3),
    metrics.Precision(thresholds=0.4, class_id=1), metrics.Recall(top_k=2),
    metrics.AUC(num_thresholds=50, curve="PR", summation_method="minoring"),
    metrics.AUC(thresholds=[0.3, 0.6], multi_label=True, label_weights=[1.0, 2.0]),
    metrics.FBetaScore(average="macro", beta=2.0, threshold=0.4), metrics.F1Score(),
    metrics.MeanMetricWrapper(metrics.mean_absolute_error, name="wrapped"),
]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    config = metric.get_config()
    assert config["name"] == metric.name and config["dtype"] == "float32"
    json.dumps(config)
    clone = type(metric).from_config(config)
    assert clone.get_config() == config
    ser = metrics.serialize(metric)
    assert ser["class_name"] == type(metric).__name__ and ser["module"] == "keras.metrics"
    again = metrics.deserialize(json.loads(json.dumps(ser)))
    assert type(again) is type(metric) and again.get_config() == config


def test_keras_config_keys():
    assert metrics.BinaryAccuracy().get_config() == {
        "name": "binary_accuracy", "dtype": "float32", "threshold": 0.5}
    assert metrics.AUC().get_config() == {
        "name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None,
        "label_weights": None, "from_logits": False}
    assert metrics.Precision().get_config() == {
        "name": "precision", "dtype": "float32", "thresholds": None, "top_k": None,
        "class_id": None}


def test_keras2_mean_metric_wrapper_dict():
    m = metrics.deserialize({"class_name": "MeanMetricWrapper",
                             "config": {"name": "accuracy", "dtype": "float32",
                                        "fn": "sparse_categorical_accuracy"}})
    assert m.name == "accuracy"
    assert value(m, [2, 1], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]) == 0.5
    m3 = metrics.get({"module": "keras.metrics", "class_name": "AUC",
                      "config": {"name": "auc_1", "num_thresholds": 10}, "registered_name": None})
    assert isinstance(m3, metrics.AUC) and m3.name == "auc_1" and m3.num_thresholds == 10


def test_custom_metric_by_name():
    class Zero(metrics.Mean):
        def update_state(self, y_true, y_pred, sample_weight=None):
            super().update_state(np.zeros(len(y_true)))

    with registry.custom_object_scope({"Zero": Zero}):
        m = metrics.get("Zero")
    assert type(m) is Zero and m.name == "Zero"
    assert isinstance(metrics.deserialize({"class_name": "Zero", "config": {}},
                                          custom_objects={"Zero": Zero}), Zero)


# ---- one formula: a metric that is the mean of a loss equals that loss ----------

_LOSS_METRICS = [
    ("MeanSquaredError", {}, "reg"), ("MeanAbsoluteError", {}, "reg"),
    ("MeanAbsolutePercentageError", {}, "reg"), ("MeanSquaredLogarithmicError", {}, "pos"),
    ("Poisson", {}, "pos"), ("Hinge", {}, "pm1"), ("SquaredHinge", {}, "pm1"),
    ("CategoricalHinge", {}, "cat"), ("KLDivergence", {}, "cat"),
    ("BinaryCrossentropy", {}, "bin"), ("BinaryCrossentropy", {"from_logits": True}, "logit"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "bin"),
    ("CategoricalCrossentropy", {}, "cat"),
    ("CategoricalCrossentropy", {"from_logits": True}, "catlogit"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "cat"),
]


def _loss_metric_data(kind, rng):
    if kind in ("cat", "catlogit"):
        t = np.eye(4)[rng.integers(0, 4, 12)]
        p = rng.normal(size=(12, 4)) if kind == "catlogit" else rng.dirichlet(np.ones(4), 12)
        return t, p.astype(np.float32)
    t = {"pm1": rng.choice([-1.0, 1.0], (12, 3)), "bin": rng.integers(0, 2, (12, 3)) * 1.0,
         "logit": rng.integers(0, 2, (12, 3)) * 1.0}.get(kind, rng.uniform(0.1, 2, (12, 3)))
    if kind == "bin":
        p = rng.uniform(0, 1, (12, 3))
        p[0, 0], p[1, 1] = 0.0, 1.0      # clipped ends: where log(p + eps) used to differ
    elif kind in ("logit", "pm1"):
        p = rng.normal(size=(12, 3))
    else:
        p = rng.uniform(0.1, 2, (12, 3))
    return t, p.astype(np.float32)


@pytest.mark.parametrize("name,kwargs,kind", _LOSS_METRICS,
                         ids=[f"{n}-{k}-{sorted(kw)}" for n, kw, k in _LOSS_METRICS])
def test_metric_equals_mean_of_its_loss(name, kwargs, kind):
    """Keras 3's metric classes call the keras.losses function: same value."""
    from ckeras import losses as L
    t, p = _loss_metric_data(kind, np.random.default_rng(7))
    loss_values = getattr(L, name)(reduction="none", **kwargs)(t, p)
    w = np.linspace(0.5, 2.0, len(t))
    assert value(getattr(metrics, name)(**kwargs), t, p) == pytest.approx(
        float(np.mean(loss_values)), rel=1e-6)
    assert value(getattr(metrics, name)(**kwargs), t, p, w) == pytest.approx(
        float(np.sum(w * loss_values) / np.sum(w)), rel=1e-6)


def test_binary_crossentropy_metric_clips_like_keras():
    """Keras 3: -log(clip(p, eps, 1 - eps)), no extra +eps inside the log."""
    eps = np.float32(1e-7)
    got = value(metrics.BinaryCrossentropy(), [[1.0], [0.0]], [[0.0], [1.0]])
    top = np.float32(1.0) - eps          # the float32 clip bound below 1
    expected = (-math.log(eps) - math.log(np.float32(1.0) - top)) / 2
    assert got == pytest.approx(expected, rel=1e-5)
    # (the metric used to take log(p + eps): 15.38 here, not Keras's 16.03)
