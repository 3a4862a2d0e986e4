"""InputSpec checks on layer calls, the Wrapper base class, and the
Convolution1DTranspose alias."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.testing import check_layer_gradients


class _Spec(layers.Layer):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec

    def call(self, x):
        return x


def _call(spec, x, name="checked"):
    return _Spec(spec, name=name)(x)


def test_input_spec_accepts_matching_inputs():
    x = np.zeros((2, 28, 28, 1), np.float32)
    _call(layers.InputSpec(shape=(None, 28, 28, 1)), x)
    _call(layers.InputSpec(ndim=4, axes={-1: 1, 1: 28}), x)
    _call(layers.InputSpec(min_ndim=2, max_ndim=4, dtype="float32"), x)
    # a trailing axis of size 1 more or less than the spec
    _call(layers.InputSpec(shape=(None, 28, 28, 1), allow_last_axis_squeeze=True), x[..., 0])
    _call(layers.InputSpec(shape=(None, 28, 28), allow_last_axis_squeeze=True), x)
    assert keras.InputSpec is layers.InputSpec


@pytest.mark.parametrize("spec, x, message", [
    (dict(ndim=3), np.zeros((2, 4)), "expected ndim=3, found ndim=2"),
    (dict(min_ndim=3), np.zeros((2, 4)), "expected min_ndim=3, found ndim=2"),
    (dict(max_ndim=2), np.zeros((2, 4, 1)), "expected max_ndim=2, found ndim=3"),
    (dict(dtype="int32"), np.zeros((2, 4), np.float32), "expected dtype=int32, found dtype=float32"),
    (dict(axes={-1: 5}), np.zeros((2, 4)), "expected axis -1 of input shape to have value 5"),
    (dict(shape=(None, 3)), np.zeros((2, 4)), "expected shape=(None, 3), found shape=(2, 4)"),
])
def test_input_spec_errors_name_the_layer(spec, x, message):
    with pytest.raises(ValueError, match="layer 'checked'") as err:
        _call(layers.InputSpec(**spec), x)
    assert message in str(err.value)


def test_input_spec_checks_symbolic_calls_and_counts_inputs():
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        _call(layers.InputSpec(axes={-1: 3}), keras.Input((4,)))
    specs = [layers.InputSpec(ndim=2), layers.InputSpec(ndim=2)]
    with pytest.raises(ValueError, match='Layer "two" expects 2 input'):
        _call(specs, np.zeros((2, 3)), name="two")
    named = [layers.InputSpec(name="a"), layers.InputSpec(name="b", ndim=3)]
    with pytest.raises(ValueError, match='Missing data for input "b"'):
        _call(named, {"a": np.zeros((1, 2))})
    with pytest.raises(ValueError, match="expected ndim=3"):
        _call(named, {"a": np.zeros((1, 2)), "b": np.zeros((1, 2))})


def test_input_spec_config_and_bad_axes():
    spec = layers.InputSpec(shape=(None, 4), axes={"-1": 4}, dtype="float32")
    assert spec.ndim == 2 and spec.axes == {-1: 4}
    config = spec.get_config()
    assert config == {"dtype": "float32", "shape": (None, 4), "ndim": 2, "max_ndim": None,
                      "min_ndim": None, "axes": {-1: 4}, "optional": False}
    assert layers.InputSpec.from_config(config).get_config() == config
    with pytest.raises(TypeError, match="integer keys"):
        layers.InputSpec(axes={"x": 1})
    with pytest.raises(ValueError, match="greater than the maximum"):
        layers.InputSpec(ndim=2, axes={2: 1})
    assert repr(layers.InputSpec(ndim=2)) == "InputSpec(ndim=2)"


@keras.saving.register_keras_serializable(package="test_wrapper")
class Doubler(layers.Wrapper):
    """A custom wrapper, as users write them: twice the wrapped layer."""

    def call(self, x):
        return self.layer(x) * 2.0


def test_wrapper_subclass_builds_trains_and_round_trips(tmp_path):
    wrapped = Doubler(layers.Dense(3, name="inner"), name="doubler")
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    y = wrapped(x)
    inner = wrapped.layer
    np.testing.assert_allclose(y, 2 * (x @ inner.kernel.numpy() + inner.bias.numpy()),
                               rtol=1e-6)
    assert [w.name for w in wrapped.weights] == ["kernel", "bias"]
    config = wrapped.get_config()
    assert config["layer"]["class_name"] == "Dense"
    assert config["layer"]["config"]["units"] == 3
    clone = Doubler.from_config(config)
    assert clone.layer.units == 3 and clone.name == "doubler"
    model = keras.Sequential([keras.Input((5,)), wrapped])
    path = str(tmp_path / "w.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), y, rtol=1e-6)
    check_layer_gradients(Doubler(layers.Dense(2)), x[:2])
    wrapped.trainable = False
    assert inner.trainable is False and wrapped.trainable_weights == []


def test_wrapper_rejects_non_layers():
    with pytest.raises(ValueError, match="isn't a supported layer type"):
        layers.Wrapper("dense")


def test_convolution1d_transpose_is_conv1d_transpose():
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose
    y = layers.Convolution1DTranspose(2, 3)(np.zeros((1, 5, 4), np.float32))
    assert np.shape(y) == (1, 7, 2)
