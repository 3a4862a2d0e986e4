"""Pipeline: layers in a row as one layer (outputs against Keras:
test_layers_more_keras_golden.py)."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.testing import check_layer_gradients

rng = np.random.default_rng(4)


def test_gradients_through_the_chain():
    pipe = layers.Pipeline([layers.Dense(4, activation="tanh"), layers.LayerNormalization(),
                            layers.Dense(2)])
    check_layer_gradients(pipe, rng.standard_normal((3, 5)))
    assert len(pipe.trainable_weights) == 6


def test_training_default_is_true_when_called_directly():
    pipe = layers.Pipeline([layers.Dropout(0.5, seed=1)])
    x = np.ones((4, 100), np.float32)
    assert (np.asarray(pipe(x)) == 0).any()                    # training by default
    np.testing.assert_array_equal(pipe(x, training=False), x)
    model = keras.Sequential([keras.Input((100,)), pipe])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)   # a model: inference


def test_masks_flow_through():
    pipe = layers.Pipeline([layers.Embedding(5, 3, mask_zero=True), layers.Dense(2)])
    ids = np.array([[1, 0, 2]])
    np.testing.assert_array_equal(pipe.compute_mask(ids), [[True, False, True]])


def test_trains_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((5,)),
                              layers.Pipeline([layers.Dense(8, activation="relu"),
                                               layers.GaussianNoise(0.01),
                                               layers.Dense(1)])])
    model.compile("adam", "mse")
    x, y = rng.standard_normal((32, 5)), rng.standard_normal((32, 1))
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"p.{ext}")
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-6)
    config = model.layers[0].get_config()
    assert sorted(config) == ["layers", "name"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="list of layers"):
        layers.Pipeline(layers.Dense(2))
    with pytest.raises(ValueError, match="`layers` key"):
        layers.Pipeline.from_config({"name": "p"})
