"""Adaptive average / max pooling: windows, gradients, configs, errors
(outputs against Keras: test_layers_more_keras_golden.py)."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.layers.adaptive_pooling import adaptive_windows
from ckeras.testing import check_layer_gradients

rng = np.random.default_rng(5)


def test_windows_are_floor_ceil_bins():
    starts, ends = adaptive_windows(5, 3)
    assert starts.tolist() == [0, 1, 3] and ends.tolist() == [2, 4, 5]
    starts, ends = adaptive_windows(3, 5)        # more cells than inputs: windows repeat
    assert starts.tolist() == [0, 0, 1, 1, 2] and ends.tolist() == [1, 2, 2, 3, 3]


@pytest.mark.parametrize("cls, shape, size", [
    ("AdaptiveAveragePooling1D", (2, 7, 3), 3), ("AdaptiveMaxPooling1D", (2, 7, 3), 3),
    ("AdaptiveAveragePooling1D", (2, 3, 2), 5), ("AdaptiveMaxPooling1D", (2, 3, 2), 5),
    ("AdaptiveAveragePooling2D", (2, 5, 4, 2), (2, 3)),
    ("AdaptiveMaxPooling2D", (2, 5, 4, 2), (2, 3)),
    ("AdaptiveAveragePooling3D", (1, 3, 4, 5, 2), 2),
    ("AdaptiveMaxPooling3D", (1, 3, 4, 5, 2), (2, 3, 2)),
])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_gradients_and_shapes(cls, shape, size, data_format):
    layer = getattr(layers, cls)(size, data_format=data_format)
    x = rng.standard_normal(shape)
    y = layer(x.astype(np.float32))
    assert np.shape(y) == (shape[0],) + layer.compute_output_shape((None,) + shape[1:])[1:]
    check_layer_gradients(layer, x)


def test_equals_mean_and_max_when_it_divides():
    x = rng.standard_normal((2, 8, 6, 3)).astype(np.float32)
    blocks = x.reshape(2, 4, 2, 3, 2, 3)
    np.testing.assert_allclose(layers.AdaptiveAveragePooling2D((4, 3))(x),
                               blocks.mean(axis=(2, 4)), rtol=1e-5)
    np.testing.assert_allclose(layers.AdaptiveMaxPooling2D((4, 3))(x), blocks.max(axis=(2, 4)))


def test_in_a_model_saved_and_loaded(tmp_path):
    model = keras.Sequential([keras.Input((9, 9, 2)), layers.Conv2D(3, 3),
                              layers.AdaptiveMaxPooling2D(2), layers.Flatten(),
                              layers.Dense(1)])
    assert model.output_shape == (None, 1)
    x = rng.standard_normal((4, 9, 9, 2)).astype(np.float32)
    path = str(tmp_path / "m.keras")
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
    config = model.layers[1].get_config()
    assert config["output_size"] == (2, 2) and config["data_format"] == "channels_last"


def test_bad_arguments_and_inputs():
    with pytest.raises(TypeError, match="output_size"):
        layers.AdaptiveAveragePooling2D((2, 2, 2))
    with pytest.raises(ValueError, match="output_size"):
        layers.AdaptiveMaxPooling1D(0)
    with pytest.raises(ValueError, match="data_format"):
        layers.AdaptiveMaxPooling1D(2, data_format="nhwc")
    with pytest.raises(ValueError, match="'ap'.*expected ndim=4"):
        layers.AdaptiveAveragePooling2D(2, name="ap")(np.zeros((1, 4, 4), np.float32))
