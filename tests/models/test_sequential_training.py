"""Sequential + compile/fit/evaluate/predict: learning, Keras-measured
behaviours (spec/training_loop.md) and errors on bad input."""
import io
import math
import re
import sys

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.testing import numeric_gradient, to_float64


def blobs(n=300, classes=3, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, dim)) * 3
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.standard_normal((n, dim))
    return x.astype(np.float32), y


def mlp(hidden=16, classes=3, dim=4, activation="softmax", name=None):
    return keras.Sequential([keras.Input(shape=(dim,)),
                             layers.Dense(hidden, activation="relu"),
                             layers.Dense(classes, activation=activation)], name=name)


def test_mlp_learns_blobs():
    keras.utils.set_random_seed(1)
    x, y = blobs()
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9


def test_predict_matches_call_and_predict_on_batch():
    x, _ = blobs(50)
    model = mlp()
    p = model.predict(x, batch_size=7, verbose=0)
    assert p.shape == (50, 3) and p.dtype == np.float32
    np.testing.assert_allclose(model(x), p, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict_on_batch(x), p, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)


def test_history_keys_sorted_params_and_epochs():
    x, y = blobs(100)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["acc"])
    h = model.fit(x, y, epochs=5, initial_epoch=3, validation_split=0.2, verbose=0)
    assert list(h.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert h.epoch == [3, 4]
    assert h.params == {"verbose": 0, "epochs": 5, "steps": math.ceil(80 / 32)}
    assert model.history is h


def test_validation_split_uses_last_samples_and_matches_evaluate():
    x, y = blobs(100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=1, validation_split=0.23, verbose=0)
    assert h.params["steps"] == 3  # floor(100 * 0.77) = 77 -> ceil(77/32)
    val = model.evaluate(x[77:], y[77:], verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(val, rel=1e-6)


def test_evaluate_return_shapes():
    x, y = blobs(40)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_crossentropy", "accuracy"])
    out = model.evaluate(x, y, verbose=0)
    assert isinstance(out, list) and len(out) == 3
    assert out[1] == pytest.approx(out[0], rel=1e-5)  # the loss, as a metric
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["accuracy", "loss", "sparse_categorical_crossentropy"]
    assert d["loss"] == pytest.approx(out[0]) and d["accuracy"] == pytest.approx(out[2])


def test_evaluate_is_independent_of_batch_size():
    x, y = blobs(100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    a = model.evaluate(x, y, batch_size=32, verbose=0)
    b = model.evaluate(x, y, batch_size=100, verbose=0)
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_sample_weight_reduction_is_sum_over_batch_size():
    x, y = blobs(20)
    w = np.linspace(0.1, 2.0, 20).astype(np.float32)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    p = model.predict(x, verbose=0).astype(np.float64)
    per = -np.log(np.clip(p[np.arange(20), y], 1e-7, 1))
    got = model.evaluate(x, y, sample_weight=w, batch_size=20, verbose=0)
    assert got == pytest.approx((w * per).sum() / 20, rel=1e-5)


def test_batch_size_none_means_32():
    x, y = blobs(100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    assert model.fit(x, y, batch_size=None, verbose=0).params["steps"] == 4


def test_fused_and_unfused_paths_give_the_same_gradient():
    """softmax+CE fused on logits == loss on probabilities, both == numeric."""
    keras.utils.set_random_seed(3)
    x, y = blobs(12)
    model = mlp(hidden=5)
    model.compile("sgd", "sparse_categorical_crossentropy")
    to_float64(model)
    x64 = x.astype(np.float64)
    grads = {}
    for fuse in (True, False):
        model._plan_fusion()
        for spec in model._outputs_spec:
            spec.fuse = fuse
            spec.metrics = []
        outs, backward = model._run_forward([x64], training=True, fuse=[fuse])
        _, _, douts = model._losses_and_grads([y], outs, None, True)
        for w in model.trainable_weights:
            w.grad = np.zeros_like(w.value)
        backward(douts)
        grads[fuse] = [w.grad.copy() for w in model.trainable_weights]

    def loss():
        p = model._run_forward([x64], training=False, fuse=[False])[0][0]
        return float(-np.log(p[np.arange(12), y]).mean())

    for w, g_fused, g_plain in zip(model.trainable_weights, grads[True], grads[False]):
        np.testing.assert_allclose(g_fused, g_plain, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(g_fused, numeric_gradient(loss, w.value), rtol=1e-5, atol=1e-8)


def test_same_seed_same_bits():
    def train():
        keras.utils.set_random_seed(123)
        x, y = blobs(64)
        model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8, activation="relu"),
                                  layers.Dropout(0.5), layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return model.get_weights()
    for a, b in zip(train(), train()):
        assert np.array_equal(a, b)


def test_lazy_build_without_input():
    model = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(1)])
    assert not model.built
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    model.fit(x, x[:, :1], verbose=0)
    assert model.built and model.layers[0].kernel.shape == (3, 4)


def test_input_shape_on_first_layer_builds():
    model = keras.Sequential()
    model.add(layers.Dense(4, input_shape=(6,)))
    model.add(layers.Dense(2))
    assert model.built and model.count_params() == 6 * 4 + 4 + 4 * 2 + 2
    model2 = keras.Sequential([layers.Dense(3, input_dim=5)])
    assert model2.layers[0].kernel.shape == (5, 3)


def test_summary_matches_keras_format():
    model = keras.Sequential([keras.Input(shape=(8,)),
                              layers.Dense(16, activation="relu", name="dense"),
                              layers.Dense(3, activation="softmax", name="dense_1")], name="mlp")
    out = []
    model.summary(print_fn=out.append)
    expected = """\
Model: "mlp"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 16)             │           144 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 3)              │            51 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 195 (780.00 B)
 Trainable params: 195 (780.00 B)
 Non-trainable params: 0 (0.00 B)"""
    assert out[0] == expected


def test_summary_after_training_counts_optimizer_and_unbuilt():
    model = keras.Sequential([layers.Dense(4, name="d")], name="lazy")
    out = []
    model.summary(print_fn=out.append)
    assert "0 (unbuilt)" in out[0] and "?" in out[0]
    model = mlp(hidden=16, dim=8)
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = blobs(8, dim=8)
    model.fit(x, y, verbose=0)
    out = []
    model.summary(print_fn=out.append)
    # Adam: 2 slots per weight + iteration (int64) + learning_rate.
    assert " Optimizer params: 392 (1.54 KB)" in out[0]
    assert " Total params: 587 (2.30 KB)" in out[0]


def run_fit_capturing(verbose, monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stdout", buf)
    x, y = blobs(100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, validation_split=0.2, verbose=verbose)
    return buf.getvalue()


def test_verbose_2_prints_one_line_per_epoch(monkeypatch):
    out = run_fit_capturing(2, monkeypatch)
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    pattern = (r"^3/3 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}"
               r" - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$")
    assert re.match(pattern, lines[1]), lines[1]
    assert "\r" not in out and "\x1b" not in out


def test_verbose_1_draws_keras_bar(monkeypatch):
    out = run_fit_capturing(1, monkeypatch)
    assert out.startswith("Epoch 1/2\n\r\x1b[1m")
    final = out.split("\r")[-1]
    plain = re.sub(r"\x1b\[\d+m", "", final).replace("\b", "")
    assert re.match(r"^3/3 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}"
                    r" - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4} *\n$", plain), repr(plain)


def test_verbose_auto_is_one_line_per_epoch_in_a_pipe(monkeypatch):
    out = run_fit_capturing("auto", monkeypatch)  # StringIO is not a terminal
    assert "\r" not in out and len(out.splitlines()) == 4


# ---- bad input ----------------------------------------------------------------

def compiled_mlp(loss="sparse_categorical_crossentropy"):
    model = mlp()
    model.compile("adam", loss)
    return model


def test_length_mismatch_is_clear():
    x, y = blobs(10)
    with pytest.raises(ValueError, match=r"x sizes \[10\], y sizes \[9\]"):
        compiled_mlp().fit(x, y[:9], verbose=0)


def test_empty_x_is_clear():
    with pytest.raises(ValueError, match="0 samples"):
        compiled_mlp().fit(np.zeros((0, 4), np.float32), np.zeros(0), verbose=0)


def test_integer_labels_with_categorical_crossentropy_suggest_the_fix():
    x, y = blobs(10)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy|to_categorical"):
        compiled_mlp("categorical_crossentropy").fit(x, y, verbose=0)


def test_unknown_names_list_accepted_ones():
    model = mlp()
    with pytest.raises(ValueError, match="adam"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_squared_error"):
        model.compile(optimizer="adam", loss="mean_sqared_error")
    with pytest.raises(ValueError, match="relu"):
        layers.Dense(3, activation="rellu")


def test_plain_python_lists_are_accepted_like_tf_keras2():
    # tf.keras 2 converted lists of samples (Keras 3 refuses them); see test_data_inputs.py.
    compiled_mlp().fit([[0.0] * 4] * 3, [0, 1, 2], verbose=0)


def test_fit_before_compile_is_clear():
    x, y = blobs(10)
    with pytest.raises(RuntimeError, match="compile"):
        mlp().fit(x, y, verbose=0)


def test_out_of_range_sparse_label_is_clear():
    x, y = blobs(10)
    y = y.copy()
    y[4] = 7
    with pytest.raises(ValueError, match="7"):
        compiled_mlp().fit(x, y, verbose=0)
