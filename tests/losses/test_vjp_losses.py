"""Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy and CTC: values and
gradients against Keras 3 on JAX (tests/data/keras_losses_more/golden.npz),
gradients against float64 central differences, configs, names and errors."""
import os

import numpy as np
import pytest

from ckeras import losses as L
from ckeras import ops
from ckeras.ops.tape import GradientTape, Tensor
from ckeras.testing import numeric_gradient

GOLDEN = np.load(os.path.join(os.path.dirname(__file__), "..", "data", "keras_losses_more",
                              "golden.npz"))

CASES = {
    "dice_default": L.Dice(),
    "dice_axis": L.Dice(axis=(1, 2, 3), reduction=None),
    "dice_axis_sw": L.Dice(axis=(1, 2, 3)),
    "dice_axis_last": L.Dice(axis=-1, reduction="sum"),
    "dice_default_sw": L.Dice(),
    "tversky_default": L.Tversky(),
    "tversky_ab": L.Tversky(alpha=0.3, beta=0.7, axis=(1, 2)),
    "tversky_none": L.Tversky(alpha=0.8, beta=0.1, axis=(1, 2, 3), reduction="none"),
    "cgce_default": L.CategoricalGeneralizedCrossEntropy(),
    "cgce_q": L.CategoricalGeneralizedCrossEntropy(q=0.8, reduction="sum"),
    "cgce_none": L.CategoricalGeneralizedCrossEntropy(q=0.3, reduction=None),
    "circle_default": L.Circle(),
    "circle_args": L.Circle(gamma=10.0, margin=0.25, remove_diagonal=False, reduction=None),
    "circle_sw": L.Circle(gamma=5.0, reduction="mean_with_sample_weight"),
    "ctc_default": L.CTC(),
    "ctc_none": L.CTC(reduction=None),
    "ctc_sw": L.CTC(reduction="sum"),
}


def _case(key):
    sw = GOLDEN.get(key + "/sample_weight")
    return GOLDEN[key + "/y_true"], GOLDEN[key + "/y_pred"], sw


def _gradient_on_tape(loss, y_true, y_pred, sw):
    """d (Keras's reduction of loss.call's values) / d y_pred, through the tape."""
    _, mask = loss._values_and_mask(y_true, y_pred)
    with GradientTape() as tape:
        x = Tensor(np.array(y_pred, np.float32))
        tape.watch([x])
        values = loss.call(y_true, x)
        shape = values.value.shape
        if sw is None:
            w = np.ones(shape, np.float32)
        elif not shape:                      # one value for the batch, weighted per sample
            w, values = sw, ops.multiply(values, np.ones_like(sw))
        else:
            w = np.broadcast_to(sw.reshape(sw.shape + (1,) * (len(shape) - sw.ndim)), shape)
        if mask is not None:
            w = w * mask
        total = ops.sum(ops.multiply(values, w))
        if loss.reduction == "sum_over_batch_size":
            count = np.size(w) if mask is None else mask.sum()
            total = ops.multiply(total, 1.0 / count)
        elif loss.reduction == "mean_with_sample_weight":
            total = ops.multiply(total, 1.0 / float(w.sum()))
    return tape.gradient(total, [x])[0]


@pytest.mark.parametrize("key", sorted(CASES))
def test_value_and_gradient_match_keras(key):
    loss = CASES[key]
    y_true, y_pred, sw = _case(key)
    got = loss(y_true, y_pred, sample_weight=sw)
    np.testing.assert_allclose(got, GOLDEN[key + "/value"], rtol=2e-5, atol=2e-5)
    grad = _gradient_on_tape(loss, y_true, y_pred, sw)
    np.testing.assert_allclose(grad, GOLDEN[key + "/grad"], rtol=1e-4, atol=1e-5)


def test_circle_with_reference_embeddings_matches_keras():
    key = "circle_default"
    got = L.circle(GOLDEN[key + "/y_true"], GOLDEN[key + "/y_pred"],
                   ref_labels=GOLDEN["circle_ref/ref_labels"],
                   ref_embeddings=GOLDEN["circle_ref/ref_embeddings"], gamma=20.0, margin=0.3)
    np.testing.assert_allclose(got, GOLDEN["circle_ref/value"], rtol=2e-5, atol=2e-5)


def _fd_check(loss, y_true, y_pred, coords=None):
    """forward_backward's gradient == central differences of sum(scale * losses)."""
    p = np.array(y_pred, np.float64)
    n = p.shape[0]
    scale = np.linspace(0.3, 1.6, n) / n
    losses, grad = loss.forward_backward(y_true, p, scale)
    assert losses.shape == (n,) and grad.shape == p.shape

    def f():
        return float(np.dot(loss.forward_backward(y_true, p, scale)[0], scale))
    num = numeric_gradient(f, p, coords=coords)
    if coords is not None:
        grad = grad.reshape(-1)[list(coords)]
        num = num.reshape(-1)[list(coords)]
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss", [L.Dice(), L.Dice(axis=(1, 2)), L.Tversky(alpha=0.2, beta=0.9),
                                  L.Tversky(axis=-1)], ids=repr)
def test_overlap_gradients_central_differences(loss):
    rng = np.random.default_rng(3)
    t = (rng.random((3, 4, 2)) > 0.4).astype(np.float64)
    _fd_check(loss, t, rng.random((3, 4, 2)))


def test_cgce_gradient_central_differences_and_bad_labels():
    rng = np.random.default_rng(4)
    p = rng.random((5, 3)) + 0.1
    labels = np.array([0, 2, 1, 5, -1])   # 5 and -1 pick no class: 1 / q, no gradient
    loss = L.CategoricalGeneralizedCrossEntropy(q=0.4)
    _fd_check(loss, labels, p)
    values = loss.call(labels, p)
    np.testing.assert_allclose(values[3:], 1 / 0.4)
    np.testing.assert_allclose(loss.call(labels[:, None], p), values)   # (N, 1) labels


@pytest.mark.parametrize("kwargs", [{}, {"gamma": 3.0, "margin": 0.1, "remove_diagonal": False}])
def test_circle_gradient_central_differences(kwargs):
    rng = np.random.default_rng(5)
    e = rng.normal(size=(6, 3))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    _fd_check(L.Circle(**kwargs), np.array([0, 1, 0, 1, 2, 2]), e)


def test_circle_masks_queries_without_positives():
    rng = np.random.default_rng(6)
    e = rng.normal(size=(4, 3))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    labels = np.array([0, 0, 1, 2])          # 1 and 2 have no positive: loss 0, masked
    loss = L.Circle(gamma=4.0, reduction=None)
    values = loss(labels, e)
    assert values[2] == 0 and values[3] == 0 and values[0] > 0
    np.testing.assert_allclose(L.Circle(gamma=4.0)(labels, e), values[:2].mean(), rtol=1e-6)
    _fd_check(L.Circle(gamma=4.0), labels, e)


def _ctc_brute_force(labels, logits):
    """-log of the summed probability of every alignment that collapses to labels."""
    import itertools
    t_len, c = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    total = 0.0
    for path in itertools.product(range(c), repeat=t_len):
        collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]
        if collapsed == list(labels):
            total += np.prod(prob[np.arange(t_len), path])
    return -np.log(total)


def test_ctc_matches_brute_force_and_central_differences():
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(3, 5, 3))
    y_true = np.array([[1, 1, 0], [2, 1, 0], [1, 0, 0]])
    values = L.CTC(reduction=None)(y_true, logits)
    for i, row in enumerate(y_true):
        assert values[i] == pytest.approx(_ctc_brute_force(row[row != 0], logits[i]), rel=1e-10)
    _fd_check(L.CTC(), y_true, logits)


def test_ctc_errors():
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\)"):
        L.CTC()(np.array([1, 2, 0]), np.zeros((3, 4, 3)))
    with pytest.raises(ValueError, match="y_pred.shape"):
        L.CTC()(np.ones((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="labels must be in"):
        L.CTC()(np.array([[1, 5]]), np.zeros((1, 4, 3)))


def test_function_forms_and_names():
    rng = np.random.default_rng(8)
    t = (rng.random((2, 3)) > 0.5).astype(np.float32)
    p = rng.random((2, 3)).astype(np.float32)
    np.testing.assert_allclose(L.dice(t, p, axis=1), L.Dice(axis=1, reduction=None)(t, p))
    np.testing.assert_allclose(L.tversky(t, p, 0.3, 0.6), L.Tversky(0.3, 0.6)(t, p))
    for name, cls in [("dice", L.Dice), ("Tversky", L.Tversky), ("circle", L.Circle),
                      ("ctc", L.CTC), ("CTC", L.CTC),
                      ("CategoricalGeneralizedCrossEntropy", L.CategoricalGeneralizedCrossEntropy)]:
        assert type(L.get(name)) is cls


@pytest.mark.parametrize("loss", [
    L.Dice(axis=(1, 2), name="d", reduction="sum"), L.Tversky(alpha=0.1, beta=0.3, axis=None),
    L.Circle(gamma=7.0, margin=0.2, remove_diagonal=False),
    L.CategoricalGeneralizedCrossEntropy(q=0.25), L.CTC(reduction=None)], ids=repr)
def test_config_round_trip(loss):
    config = loss.get_config()
    again = type(loss).from_config(config)
    assert again.get_config() == config
    assert L.deserialize(L.serialize(loss)).get_config() == config


def test_keras_config_keys():
    assert L.Tversky().get_config() == {"name": "tversky", "reduction": "sum_over_batch_size",
                                        "alpha": 0.5, "beta": 0.5, "axis": None}
    assert L.Circle().get_config() == {"name": "circle", "reduction": "sum_over_batch_size",
                                       "gamma": 80.0, "margin": 0.4, "remove_diagonal": True}
    assert L.CTC().get_config() == {"name": "ctc", "reduction": "sum_over_batch_size"}


def test_bad_arguments():
    with pytest.raises(ValueError, match="q must be in the interval"):
        L.CategoricalGeneralizedCrossEntropy(q=1.0)
    with pytest.raises(ValueError, match="axis=5 is out of range"):
        L.Dice(axis=5)(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="no batch axis"):
        L.Dice(axis=0).forward_backward(np.ones((2, 3)), np.ones((2, 3)), None)


def test_trains_in_a_model():
    import ckeras
    rng = np.random.default_rng(9)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    y = (x[:, :2] > 0).astype(np.float32)
    model = ckeras.Sequential([ckeras.Input((4,)), ckeras.layers.Dense(2, activation="sigmoid")])
    model.compile(optimizer=ckeras.optimizers.SGD(0.5), loss="dice")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
