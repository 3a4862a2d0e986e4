"""Files written by real Keras 3.15.1 load in ckeras and predict the same.

``a_``..``f_``: legacy ``.h5`` from shared/fixtures (TensorFlow backend);
``k3_``: ``.keras`` archives and ``.weights.h5`` files (JAX backend), made by
tests/data/keras_h5/make_keras3_fixtures.py.
"""
import json
import os

import numpy as np
import pytest

import ckeras as keras
from saving_helpers import DATA, load_npz, manifest, multi, require_layers

H5_FIXTURES = {
    "a_mlp": (),
    "f_functional_2in_2out": ("Concatenate",),
    "b_emb_lstm": ("Embedding", "LSTM"),
    "d_cnn": ("Conv2D", "MaxPooling2D", "Flatten"),
}
K3_FIXTURES = {
    "mlp": (),
    "functional": ("Concatenate",),
    "emb_lstm": ("Embedding", "LSTM"),
    "cnn": ("Conv2D", "MaxPooling2D", "Flatten"),
}


def _check_predictions(model, d, atol=1e-5):
    pred = model.predict(multi(d, "x"), verbose=0)
    want = multi(d, "y")
    pred = pred if isinstance(pred, list) else [pred]
    want = want if isinstance(want, list) else [want]
    assert len(pred) == len(want)
    for p, w in zip(pred, want):
        np.testing.assert_allclose(p, w, atol=atol, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(H5_FIXTURES))
def test_h5_fixture_loads_and_predicts(name):
    require_layers(*H5_FIXTURES[name])
    model = keras.models.load_model(os.path.join(DATA, f"{name}.h5"))
    d = load_npz(f"{name}.npz")
    _check_predictions(model, d)
    # Weights match Keras's layer.get_weights() after training.
    for key, value in d.items():
        if key.startswith("w__"):
            _, layer, i = key.split("__")
            np.testing.assert_array_equal(model.get_layer(layer).get_weights()[int(i)], value)
    # Compiled from training_config, optimizer state restored (2 steps taken).
    assert model.optimizer.iterations == 2
    assert type(model.optimizer).__name__ == "Adam"


@pytest.mark.parametrize("name", sorted(H5_FIXTURES))
def test_h5_fixture_compile_false(name):
    require_layers(*H5_FIXTURES[name])
    model = keras.models.load_model(os.path.join(DATA, f"{name}.h5"), compile=False)
    assert not getattr(model, "compiled", False)
    _check_predictions(model, load_npz(f"{name}.npz"))


def test_a_mlp_evaluate_matches_keras():
    model = keras.models.load_model(os.path.join(DATA, "a_mlp.h5"))
    d = load_npz("a_mlp.npz")
    want = manifest()["models"]["a_mlp"]["evaluate_on_test_batch"]
    got = model.evaluate(d["x"], d["y_true"], verbose=0, return_dict=True)
    assert got["loss"] == pytest.approx(want["loss"], abs=1e-5)
    assert got["accuracy"] == pytest.approx(want["accuracy"], abs=1e-6)


def test_functional_fixture_evaluate_matches_keras():
    require_layers("Concatenate")
    model = keras.models.load_model(os.path.join(DATA, "f_functional_2in_2out.h5"))
    d = load_npz("f_functional_2in_2out.npz")
    want = manifest()["models"]["f_functional_2in_2out"]["evaluate_on_test_batch"]
    got = model.evaluate(multi(d, "x"), multi(d, "y_true"), verbose=0, return_dict=True)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-5), key


def test_a_mlp_training_continues_from_restored_adam_state():
    # The restored slots are used: the next step differs from a fresh Adam's.
    d = load_npz("a_mlp.npz")
    restored = keras.models.load_model(os.path.join(DATA, "a_mlp.h5"))
    fresh = keras.models.load_model(os.path.join(DATA, "a_mlp.h5"))
    fresh.compile("adam", "sparse_categorical_crossentropy")
    restored.train_on_batch(d["x"], d["y_true"])
    fresh.train_on_batch(d["x"], d["y_true"])
    assert restored.optimizer.iterations == 3
    diff = np.abs(restored.get_weights()[0] - fresh.get_weights()[0]).max()
    assert diff > 1e-6


@pytest.mark.parametrize("name", sorted(K3_FIXTURES))
def test_keras3_archive_loads_and_predicts(name):
    require_layers(*K3_FIXTURES[name])
    model = keras.models.load_model(os.path.join(DATA, f"k3_{name}.keras"))
    d = load_npz(f"k3_{name}.npz")
    _check_predictions(model, d)
    assert model.optimizer.iterations == int(d["iterations"])
    with open(os.path.join(DATA, "k3_manifest.json")) as f:
        want = json.load(f)[name]["evaluate"]
    got = model.evaluate(multi(d, "x"), multi(d, "y_true"), verbose=0, return_dict=True)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-5), key


@pytest.mark.parametrize("name", sorted(K3_FIXTURES))
def test_keras3_weights_file_loads(name):
    require_layers(*K3_FIXTURES[name])
    model = keras.models.load_model(os.path.join(DATA, f"k3_{name}.keras"), compile=False)
    for w in model.weights:
        w.assign(np.zeros(w.shape))
    model.load_weights(os.path.join(DATA, f"k3_{name}.weights.h5"))
    _check_predictions(model, load_npz(f"k3_{name}.npz"))


def test_keras3_weights_into_model_built_in_code():
    from saving_helpers import mlp
    model = mlp(compile=False)
    model.load_weights(os.path.join(DATA, "k3_mlp.weights.h5"))
    _check_predictions(model, load_npz("k3_mlp.npz"))
