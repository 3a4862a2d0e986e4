"""HashedCrossing against Keras 3 on TensorFlow (the fixture script:
tests/data/keras_layers_more/make_hashed_crossing.py)."""
import json
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.layers import deserialize

with open(os.path.join(os.path.dirname(__file__), "..", "..", "data", "keras_layers_more",
                       "hashed_crossing.json"), encoding="utf-8") as f:
    GOLDEN = json.load(f)


def _arrays(features):
    out = []
    for f in features:
        a = np.array(f, dtype=object)
        out.append(a.astype(str) if isinstance(a.reshape(-1)[0], str) else a.astype(np.int64))
    return out


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_matches_keras(case):
    g = GOLDEN[case]
    layer = deserialize({"class_name": "HashedCrossing", "config": g["config"]})
    y = layer(_arrays(g["features"]))
    assert str(np.asarray(y).dtype) == g["dtype"]
    np.testing.assert_array_equal(y, np.array(g["y"]))
    assert layer.get_config() == g["config"]


def test_python_values_and_tuples():
    layer = layers.HashedCrossing(num_bins=5)
    np.testing.assert_array_equal(layer(([1, 2, 3], ["a", "b", "c"])), [0, 4, 3])
    assert layer.compute_output_shape([(None, 1), (None, 1)]) == (None, 1)
    assert layers.HashedCrossing(5, output_mode="one_hot").compute_output_shape(
        [(None, 1), (None, 1)]) == (None, 5)


def test_in_a_functional_model(tmp_path):
    a = keras.Input((1,), dtype="int64")
    b = keras.Input((1,), dtype="int64")
    model = keras.Model([a, b], layers.HashedCrossing(9, output_mode="one_hot")([a, b]))
    x = [np.array([[1], [2]]), np.array([[3], [4]])]
    y = model.predict(x, verbose=0)
    assert y.shape == (2, 9) and np.all(y.sum(-1) == 1)
    path = str(tmp_path / "m.keras")
    model.save(path)
    np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0), y)


@pytest.mark.parametrize("inputs, message", [
    (np.array([1, 2]), "list or tuple"),
    ([np.array([1, 2])], "at least two"),
    ([np.array([1, 2]), np.array([1, 2, 3])], "equal shape"),
    ([np.zeros((2, 2), np.int64), np.zeros((2, 2), np.int64)], "shape"),
    ([np.array([1.0]), np.array([2])], "integer or string dtype"),
])
def test_bad_inputs(inputs, message):
    with pytest.raises(ValueError, match=f"'hc'.*{message}"):
        layers.HashedCrossing(3, name="hc")(inputs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="output_mode"):
        layers.HashedCrossing(3, output_mode="multi_hot")
    with pytest.raises(ValueError, match="num_bins"):
        layers.HashedCrossing(0)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        layers.HashedCrossing(3, sparse=True)
