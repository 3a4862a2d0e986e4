"""RMSNormalization and SpectralNormalization: gradients, weights, Keras files
(outputs against Keras: test_layers_more_keras_golden.py)."""
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.testing import check_layer_gradients

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "keras_layers_more")
rng = np.random.default_rng(2)


def _x(*shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("axis", [-1, [1, 2], [2]])
def test_rms_normalization_gradients(axis):
    layer = layers.RMSNormalization(axis=axis)
    layer.build((None, 3, 4))
    layer.scale.assign(_x(*layer.scale.shape))
    check_layer_gradients(layer, _x(2, 3, 4))
    assert layer.get_config()["axis"] == (axis if isinstance(axis, list) else [axis])


def test_rms_normalization_formula_and_errors():
    x = _x(2, 5)
    y = layers.RMSNormalization(epsilon=0.0)(x)
    np.testing.assert_allclose(y, x / np.sqrt((x * x).mean(-1, keepdims=True)), rtol=1e-5)
    assert layers.RMSNormalization().get_config()["axis"] == -1   # before build, as Keras
    with pytest.raises(ValueError, match="'rn'.*out of bounds"):
        layers.RMSNormalization(axis=3, name="rn")(x)
    with pytest.raises(ValueError, match="'rb'.*does not broadcast"):
        layers.RMSNormalization(axis=1, name="rb")(_x(2, 3, 4))
    with pytest.raises(TypeError, match="axis"):
        layers.RMSNormalization(axis="x")


def test_spectral_normalization_divides_by_the_top_singular_value():
    layer = layers.SpectralNormalization(layers.Dense(4), power_iterations=50)
    x = _x(3, 6)
    layer(x)
    for _ in range(3):
        layer(x, training=True)
    assert np.linalg.svd(layer.layer.kernel.numpy(), compute_uv=False)[0] == \
        pytest.approx(1.0, rel=1e-4)
    assert [w.name for w in layer.weights] == ["kernel", "vector_u", "bias"]
    assert [w.name for w in layer.trainable_weights] == ["kernel", "bias"]
    assert [w.name for w in layer.non_trainable_weights] == ["vector_u"]
    frozen = layer.layer.kernel.numpy().copy()
    layer(x)    # inference leaves the kernel alone
    np.testing.assert_array_equal(layer.layer.kernel.numpy(), frozen)


def test_spectral_normalization_gradients_are_the_wrapped_layers():
    layer = layers.SpectralNormalization(layers.Conv1D(2, 3, activation="tanh"))
    check_layer_gradients(layer, _x(2, 6, 3))


def test_spectral_normalization_errors():
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="'sn'.*nor 'embeddings'"):
        layers.SpectralNormalization(layers.LayerNormalization(), name="sn")(_x(2, 3))
    layer = layers.SpectralNormalization(layers.Dense(2), name="sd")
    layer(_x(2, 3))
    with pytest.raises(ValueError, match="layer 'sd'.*expected axis -1.*value 3"):
        layer(_x(2, 4))


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_keras_model_file_loads_and_saves_back(ext, tmp_path):
    fix = np.load(os.path.join(DATA, "layers_more.npz"))
    model = keras.models.load_model(os.path.join(DATA, f"layers_more.{ext}"))
    np.testing.assert_allclose(model.predict(fix["model/x"], verbose=0), fix["model/y"],
                               rtol=1e-5, atol=1e-6)
    path = str(tmp_path / f"again.{ext}")
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(fix["model/x"], verbose=0), fix["model/y"],
                               rtol=1e-5, atol=1e-6)
    if ext == "keras":   # the same variable layout as Keras's file
        import io
        import zipfile
        import h5py

        def names(p):
            with zipfile.ZipFile(p) as z:
                f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
                found = []
                f.visititems(lambda n, o: found.append((n, getattr(o, "shape", None))))
                return sorted(n for n in found if "optimizer" not in n[0])
        assert names(path) == names(os.path.join(DATA, "layers_more.keras"))


def test_spectral_normalization_trains():
    model = keras.Sequential([keras.Input((4,)),
                              layers.SpectralNormalization(layers.Dense(8, activation="relu")),
                              layers.Dense(1)])
    model.compile("adam", "mse")
    x, y = _x(32, 4), _x(32, 1)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
