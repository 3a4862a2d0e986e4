"""Reading what other writers produce: tf.keras 2 files (batch_input_shape,
string dtypes, ":0" names, fixed-length and bytes strings, "Custom>Adam",
metric wrapper objects, Keras 2 inbound nodes) and hand-written files."""
import json

import h5py
import numpy as np
import pytest

import ckeras as keras
from saving_helpers import require_layers

RNG = np.random.default_rng(3)


def _dense_cfg(name, units, activation, **extra):
    cfg = {"name": name, "trainable": True, "dtype": "float32", "units": units,
           "activation": activation, "use_bias": True,
           "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
           "bias_initializer": {"class_name": "Zeros", "config": {}},
           "kernel_regularizer": None, "bias_regularizer": None,
           "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    cfg.update(extra)
    return {"class_name": "Dense", "config": cfg}


def _fixed(strings):
    """Fixed-length byte strings, as older Keras 2 releases wrote."""
    return np.array([s.encode() for s in strings], dtype=f"S{max(len(s) for s in strings)}")


def _write_layers(group, layers):
    """layers: [(group name, [(weight name, array)])]."""
    group.attrs["layer_names"] = _fixed([n for n, _ in layers])
    group.attrs["backend"] = np.bytes_(b"tensorflow")
    group.attrs["keras_version"] = np.bytes_(b"2.21.0")
    for name, weights in layers:
        sub = group.create_group(name)
        sub.attrs["weight_names"] = _fixed([w for w, _ in weights]) if weights else np.zeros(0)
        for wname, value in weights:
            sub.create_dataset(wname, data=value)


def _keras2_mlp_file(path, loss="sparse_categorical_crossentropy", metrics=None, opt_weights=True):
    k1, b1 = RNG.standard_normal((4, 5)).astype("f4"), RNG.standard_normal(5).astype("f4")
    k2, b2 = RNG.standard_normal((5, 3)).astype("f4"), RNG.standard_normal(3).astype("f4")
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "dense_input"}},
        _dense_cfg("dense", 5, "relu", batch_input_shape=[None, 4]),
        _dense_cfg("dense_1", 3, "softmax")]}}
    if metrics is None:
        metrics = [[{"class_name": "MeanMetricWrapper",
                     "config": {"name": "accuracy", "dtype": "float32",
                                "fn": "sparse_categorical_accuracy"}}]]
    training = {"loss": loss, "metrics": metrics, "weighted_metrics": None,
                "loss_weights": None,
                "optimizer_config": {"class_name": "Custom>Adam", "config": {
                    "name": "Adam", "weight_decay": None, "clipnorm": None,
                    "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                    "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                    "jit_compile": True, "is_legacy_optimizer": False,
                    "learning_rate": 0.0010000000474974513, "beta_1": 0.9,
                    "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}
    slots = {name: RNG.random(v.shape).astype("f4")
             for name, v in [("dense/kernel", k1), ("dense/bias", b1),
                             ("dense_1/kernel", k2), ("dense_1/bias", b2)]}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_(b"2.21.0")
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = np.bytes_(json.dumps(config).encode())
        f.attrs["training_config"] = json.dumps(training).encode()
        _write_layers(f.create_group("model_weights"), [
            ("dense", [("dense/kernel:0", k1), ("dense/bias:0", b1)]),
            ("dense_1", [("dense_1/kernel:0", k2), ("dense_1/bias:0", b2)])])
        if opt_weights:
            names, values = ["iteration:0"], [np.array(5, dtype=np.int64)]
            for var, value in slots.items():
                for slot in ("m", "v"):
                    names.append(f"Adam/{slot}/{var}:0")
                    values.append(value * (1 if slot == "m" else 2))
            og = f.create_group("optimizer_weights")
            og.attrs["weight_names"] = _fixed(names)
            for n, v in zip(names, values):
                og.create_dataset(n, data=v)
    return (k1, b1, k2, b2), slots


def _reference(x, k1, b1, k2, b2):
    h = np.maximum(x @ k1 + b1, 0)
    z = h @ k2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_tf_keras2_sequential_file(tmp_path):
    path = tmp_path / "k2.h5"
    weights, slots = _keras2_mlp_file(path)
    model = keras.models.load_model(path)
    x = RNG.random((6, 4)).astype("f4")
    np.testing.assert_allclose(model.predict(x, verbose=0), _reference(x, *weights), atol=1e-5)
    # "Custom>Adam" with tf.keras-only keys became an Adam; its state came across
    # (tf.keras 2 saves no learning-rate variable: the configured one is kept).
    opt = model.optimizer
    assert type(opt).__name__ == "Adam" and opt.iterations == 5
    assert opt.learning_rate == pytest.approx(0.001)
    values = [v for _, v in opt.variables()]
    assert len(values) == 2 + 2 * 4
    np.testing.assert_array_equal(values[2], slots["dense/kernel"])        # m
    np.testing.assert_array_equal(values[3], 2 * slots["dense/kernel"])    # v
    np.testing.assert_array_equal(values[9], 2 * slots["dense_1/bias"])
    # The metric wrapper object became "accuracy", resolved from the shapes.
    logs = model.evaluate(x, np.array([0, 1, 2, 0, 1, 2]), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}


def test_mse_alias_loads_compiled(tmp_path):
    # Keras 3.15.1 itself cannot compile this file (spec §5.1); ckeras can.
    path = tmp_path / "mse.h5"
    _keras2_mlp_file(path, loss="mse", metrics=["mae"], opt_weights=False)
    model = keras.models.load_model(path)
    x = RNG.random((4, 4)).astype("f4")
    logs = model.evaluate(x, np.zeros((4, 3), "f4"), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "mae"}


def test_keras2_functional_inbound_nodes(tmp_path):
    ka, kb = RNG.standard_normal((3, 2)).astype("f4"), RNG.standard_normal((4, 1)).astype("f4")
    config = {"class_name": "Functional", "config": {
        "name": "model", "layers": [
            {"class_name": "InputLayer", "name": "a", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 3], "dtype": "float32", "name": "a"}},
            {"class_name": "InputLayer", "name": "b", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 2], "dtype": "float32", "name": "b"}},
            dict(_dense_cfg("da", 2, "linear"), name="da", inbound_nodes=[[["a", 0, 0, {}]]]),
            {"class_name": "Concatenate", "name": "cat",
             "config": {"name": "cat", "trainable": True, "dtype": "float32", "axis": -1},
             "inbound_nodes": [[["da", 0, 0, {}], ["b", 0, 0, {}]]]},
            dict(_dense_cfg("out", 1, "linear"), name="out",
                 inbound_nodes=[[["cat", 0, 0, {}]]])],
        "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["out", 0, 0]]}}
    with h5py.File(tmp_path / "f2.h5", "w") as f:
        f.attrs["keras_version"] = "2.21.0"
        f.attrs["model_config"] = json.dumps(config)
        _write_layers(f.create_group("model_weights"), [
            ("a", []), ("b", []), ("da", [("da/kernel:0", ka), ("da/bias:0", np.ones(2, "f4"))]),
            ("cat", []), ("out", [("out/kernel:0", kb), ("out/bias:0", np.zeros(1, "f4"))])])
    with pytest.warns(UserWarning, match="not\\* compiled"):
        model = keras.models.load_model(tmp_path / "f2.h5")
    xa, xb = RNG.random((5, 3)).astype("f4"), RNG.random((5, 2)).astype("f4")
    want = np.concatenate([xa @ ka + 1, xb], axis=1) @ kb
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), want, atol=1e-5)


def test_names_in_file_are_only_labels(tmp_path):
    """Pairing is by position: arbitrary group and dataset names load (spec §3.1)."""
    from saving_helpers import mlp
    model = mlp(compile=False)
    ws = [RNG.standard_normal(w.shape).astype("f4") for w in model.weights]
    with h5py.File(tmp_path / "odd.h5", "w") as f:
        f.attrs["model_config"] = model.to_json()
        g = f.create_group("model_weights")
        g.attrs["layer_names0"] = _fixed(["whatever1"])       # chunked attribute form
        g.attrs["layer_names1"] = _fixed(["whatever2"])
        for name, wnames, values in (("whatever1", ["k", "x/y/b2"], ws[:2]),
                                     ("whatever2", ["k2:0", "b"], ws[2:])):
            sub = g.create_group(name)
            sub.attrs["weight_names"] = _fixed(wnames)
            for wn, v in zip(wnames, values):
                sub.create_dataset(wn, data=v)
    with pytest.warns(UserWarning):
        loaded = keras.models.load_model(tmp_path / "odd.h5")
    for got, want in zip(loaded.get_weights(), ws):
        np.testing.assert_array_equal(got, want)


def test_keras2_rnn_config_keys_are_ignored(tmp_path):
    require_layers("LSTM")
    units, dim = 3, 2
    k = RNG.standard_normal((dim, 4 * units)).astype("f4")
    r = RNG.standard_normal((units, 4 * units)).astype("f4")
    b = RNG.standard_normal(4 * units).astype("f4")
    lstm_cfg = {"name": "lstm", "trainable": True, "dtype": "float32",
                "batch_input_shape": [None, 5, dim], "return_sequences": False,
                "return_state": False, "go_backwards": False, "stateful": False,
                "unroll": False, "time_major": False, "units": units, "activation": "tanh",
                "recurrent_activation": "sigmoid", "use_bias": True,
                "unit_forget_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0,
                "implementation": 2}
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 5, dim],
                                                "dtype": "float32", "name": "i"}},
        {"class_name": "LSTM", "config": lstm_cfg}]}}
    with h5py.File(tmp_path / "rnn.h5", "w") as f:
        f.attrs["keras_version"] = "2.21.0"
        f.attrs["model_config"] = json.dumps(config)
        _write_layers(f.create_group("model_weights"), [("lstm", [
            ("lstm/lstm_cell/kernel:0", k), ("lstm/lstm_cell/recurrent_kernel:0", r),
            ("lstm/lstm_cell/bias:0", b)])])
    with pytest.warns(UserWarning):
        model = keras.models.load_model(tmp_path / "rnn.h5")
    x = RNG.random((2, 5, dim)).astype("f4")

    def sig(v):
        return 1 / (1 + np.exp(-v))
    h = c = np.zeros((2, units), "f4")
    for t in range(5):
        z = x[:, t] @ k + h @ r + b
        i, fg, g, o = np.split(z, 4, axis=1)
        c = sig(fg) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
    np.testing.assert_allclose(model.predict(x, verbose=0), h, atol=1e-5)


def test_serialized_loss_and_metric_objects(tmp_path):
    """What Keras 3 writes after compile(loss=BinaryCrossentropy(...), metrics=[AUC(), ...])."""
    path = tmp_path / "objs.h5"
    _keras2_mlp_file(path, opt_weights=False)
    training = {
        "loss": {"class_name": "CategoricalCrossentropy",
                 "config": {"name": "categorical_crossentropy", "reduction": "sum_over_batch_size",
                            "from_logits": False, "label_smoothing": 0.1, "axis": -1}},
        "metrics": [{"class_name": "CategoricalAccuracy",
                     "config": {"name": "categorical_accuracy", "dtype": "float32"}},
                    {"class_name": "MeanAbsoluteError",
                     "config": {"name": "mean_absolute_error", "dtype": "float32"}}],
        "loss_weights": None, "weighted_metrics": None,
        "optimizer_config": {"class_name": "SGD", "config": {"learning_rate": 0.1}}}
    with h5py.File(path, "r+") as f:
        f.attrs["training_config"] = json.dumps(training)
    model = keras.models.load_model(path)
    assert type(model.optimizer).__name__ == "SGD"
    x = RNG.random((4, 4)).astype("f4")
    y = np.eye(3, dtype="f4")[[0, 1, 2, 0]]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "categorical_accuracy", "mean_absolute_error"}
    p = np.clip(model.predict(x, verbose=0), 1e-7, 1 - 1e-7)
    smoothed = y * 0.9 + 0.1 / 3
    assert logs["loss"] == pytest.approx(float(np.mean(-(smoothed * np.log(p)).sum(1))), rel=1e-4)
