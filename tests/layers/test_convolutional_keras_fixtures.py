"""Models made and saved by real Keras 3 (JAX backend) with the conv family
(tests/data/keras_conv/make_fixtures.py) load in ckeras from .keras and .h5,
hold the same weights and predict the same within 1e-5."""
import os

import numpy as np
import pytest

import ckeras as keras

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "keras_conv")
NAMES = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".npz"))


def test_fixtures_present():
    assert len(NAMES) >= 20


@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("name", NAMES)
def test_keras_fixture_loads_and_predicts(name, ext):
    d = np.load(os.path.join(DATA, name + ".npz"))
    model = keras.models.load_model(os.path.join(DATA, name + ext), compile=False)
    for key in d.files:
        if key.startswith("w__"):
            _, layer, i = key.split("__")
            np.testing.assert_array_equal(model.get_layer(layer).get_weights()[int(i)], d[key])
    y = model.predict(d["x"], verbose=0)
    assert y.shape == d["y"].shape
    np.testing.assert_allclose(y, d["y"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_keras_fixture_round_trips_through_ckeras(name, tmp_path):
    # ckeras saves what it loaded and reads it back to the same predictions.
    d = np.load(os.path.join(DATA, name + ".npz"))
    model = keras.models.load_model(os.path.join(DATA, name + ".keras"), compile=False)
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = keras.models.load_model(path, compile=False)
    np.testing.assert_array_equal(again.predict(d["x"], verbose=0), model.predict(d["x"], verbose=0))
