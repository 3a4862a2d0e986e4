"""get_config/from_config round-trips for every built-in layer, loss, metric and
optimizer, and custom classes through custom_objects and the register decorator."""
import json

import numpy as np
import pytest

import ckeras as keras
from ckeras import losses, metrics, optimizers
from ckeras.layers import BUILTIN_LAYERS
from saving_helpers import layer_cls, mlp_data

# Constructor arguments for layers that have required ones.
SAMPLE_ARGS = {
    "Activation": lambda: {"activation": "tanh"},
    "AlphaDropout": lambda: {"rate": 0.2}, "Dropout": lambda: {"rate": 0.3},
    "GaussianDropout": lambda: {"rate": 0.2}, "GaussianNoise": lambda: {"stddev": 0.1},
    "SpatialDropout1D": lambda: {"rate": 0.2}, "SpatialDropout2D": lambda: {"rate": 0.2},
    "SpatialDropout3D": lambda: {"rate": 0.2},
    "Conv1D": lambda: {"filters": 4, "kernel_size": 3, "activation": "relu"},
    "Conv2D": lambda: {"filters": 4, "kernel_size": (3, 2), "padding": "same"},
    "Convolution1D": lambda: {"filters": 2, "kernel_size": 2},
    "Convolution2D": lambda: {"filters": 2, "kernel_size": 2},
    "Dense": lambda: {"units": 5, "activation": "relu", "use_bias": False},
    "Dot": lambda: {"axes": 1},
    "Embedding": lambda: {"input_dim": 10, "output_dim": 4, "mask_zero": True},
    "GRU": lambda: {"units": 3, "reset_after": False}, "GRUCell": lambda: {"units": 3},
    "LSTM": lambda: {"units": 3, "return_sequences": True}, "LSTMCell": lambda: {"units": 3},
    "SimpleRNN": lambda: {"units": 3}, "SimpleRNNCell": lambda: {"units": 3},
    "RNN": lambda: {"cell": layer_cls("LSTMCell")(2)},
    "Bidirectional": lambda: {"layer": layer_cls("LSTM")(2)},
    "Reshape": lambda: {"target_shape": (2, 3)},
    "InputLayer": lambda: {"shape": (3, 4)},
    "Lambda": lambda: {"function": _double},
    "Permute": lambda: {"dims": (2, 1)}, "RepeatVector": lambda: {"n": 3},
    "StackedRNNCells": lambda: {"cells": [layer_cls("LSTMCell")(2), layer_cls("GRUCell")(3)]},
    "TimeDistributed": lambda: {"layer": layer_cls("Dense")(2)},
    "TensorOp": lambda: {"function": "mean", "arguments": ((_slot(0),), {"axis": 1})},
}
NOT_STANDALONE = {"Model", "Functional", "Sequential"}   # tested below with real graphs


@keras.saving.register_keras_serializable(package="ck_test")
def _double(x):
    return 2 * x


def _slot(i):
    from ckeras.layers.tensor_op import _Slot   # where an op's symbolic input goes
    return _Slot(i)


def _json(obj):
    return json.loads(json.dumps(obj))


@pytest.mark.parametrize("name", sorted(n for n in BUILTIN_LAYERS
                                        if not n.startswith("_") and n not in NOT_STANDALONE))
def test_layer_config_roundtrip(name):
    cls = BUILTIN_LAYERS[name]
    kwargs = SAMPLE_ARGS.get(name, dict)()
    try:
        layer = cls(**kwargs)
    except TypeError as e:
        pytest.skip(f"no sample constructor arguments for {name} ({e}); add them to SAMPLE_ARGS")
    config = _json(layer.get_config())            # JSON-serializable
    clone = cls.from_config(config)
    assert type(clone) is cls
    assert _json(clone.get_config()) == config
    assert clone.name == layer.name


def test_sequential_and_functional_configs_roundtrip():
    from saving_helpers import functional, mlp
    for model in (mlp(compile=False), functional(compile=False)):
        config = _json(model.get_config())
        clone = type(model).from_config(config)
        assert _json(clone.get_config()) == config
        assert clone.count_params() == model.count_params()


@pytest.mark.parametrize("cls", losses._CLASSES, ids=lambda c: c.__name__)
def test_loss_config_roundtrip(cls):
    loss = cls()
    config = _json(loss.get_config())
    clone = cls.from_config(config)
    assert _json(clone.get_config()) == config
    again = losses.deserialize(_json(losses.serialize(loss)))
    assert type(again) is cls and _json(again.get_config()) == config


METRIC_ARGS = {
    "SensitivityAtSpecificity": {"specificity": 0.4}, "SpecificityAtSensitivity": {
        "sensitivity": 0.6}, "PrecisionAtRecall": {"recall": 0.3},
    "RecallAtPrecision": {"precision": 0.7},
    "IoU": {"num_classes": 3, "target_class_ids": [0, 2]}, "MeanIoU": {"num_classes": 3},
    "OneHotIoU": {"num_classes": 4, "target_class_ids": [1]}, "OneHotMeanIoU": {"num_classes": 2},
}


def _metric(cls):
    if cls is metrics.MeanMetricWrapper:
        return cls(fn="mean_absolute_error", name="mae_wrapper")
    return cls(**METRIC_ARGS.get(cls.__name__, {}))


@pytest.mark.parametrize("cls", metrics._CLASSES, ids=lambda c: c.__name__)
def test_metric_config_roundtrip(cls):
    metric = _metric(cls)
    config = _json(metric.get_config())
    clone = cls.from_config(config)
    assert _json(clone.get_config()) == config
    again = metrics.deserialize(_json(metrics.serialize(metric)))
    assert type(again) is cls and _json(again.get_config()) == config


@pytest.mark.parametrize("cls", optimizers._CLASSES, ids=lambda c: c.__name__)
def test_optimizer_config_roundtrip(cls):
    if cls is optimizers.LossScaleOptimizer:
        opt = cls(optimizers.SGD(learning_rate=0.0125))
    elif cls is optimizers.MultiOptimizer:
        opt = cls(optimizers.OptimizerMap(optimizers.SGD(learning_rate=0.0125),
                                          {"dense/.*": optimizers.Adam(name="head_adam")}))
    else:
        opt = cls(learning_rate=0.0125)
    config = _json(opt.get_config())
    clone = cls.from_config(config)
    assert _json(clone.get_config()) == config
    again = optimizers.deserialize(_json(optimizers.serialize(opt)))
    assert type(again) is cls and _json(again.get_config()) == config


def test_optimizer_with_schedule_roundtrips_through_a_file(tmp_path):
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    model.compile(optimizers.SGD(schedule, momentum=0.9), "mse")
    for ext in (".h5", ".keras"):
        model.save(tmp_path / f"s{ext}")
        opt = keras.models.load_model(tmp_path / f"s{ext}").optimizer
        assert type(opt._schedule).__name__ == "ExponentialDecay"
        assert opt.get_config() == model.optimizer.get_config()


# ---- custom classes ---------------------------------------------------------------------

class Scale(keras.layers.Layer):
    """x * w * factor, with its own backward (the ckeras custom-layer contract)."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, x):
        return x * self.w.value * self.factor

    def backward(self, dy, x, y):
        self.w.grad += (dy * x * self.factor).sum(axis=0)
        return dy * self.w.value * self.factor

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="ck_test")
class RegisteredScale(Scale):
    pass


def _custom_model(cls):
    model = keras.Sequential([keras.Input((8,)), cls(factor=3.0, name="scale"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = mlp_data(16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    return model, x


@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_unregistered_custom_layer_needs_custom_objects(tmp_path, ext):
    model, x = _custom_model(Scale)
    path = tmp_path / f"c{ext}"
    model.save(path)
    with pytest.raises(ValueError, match=r"Unknown layer class 'Scale'.*custom_objects"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(path, custom_objects={"Scale": Scale})
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].factor == 3.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with keras.saving.custom_object_scope({"Scale": Scale}):
        assert isinstance(keras.models.load_model(path).layers[0], Scale)


@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_registered_custom_layer_loads_by_itself(tmp_path, ext):
    model, x = _custom_model(RegisteredScale)
    assert keras.saving.get_registered_name(RegisteredScale) == "ck_test>RegisteredScale"
    path = tmp_path / f"r{ext}"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[0]) is RegisteredScale
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == 2


def test_custom_metric_function_through_a_file(tmp_path):
    def mean_pred(y_true, y_pred):
        return np.mean(y_pred, axis=-1)

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[mean_pred])
    model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="compile=False"):
        keras.models.load_model(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5", custom_objects={"mean_pred": mean_pred})
    x, y = mlp_data(8)
    logs = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["mean_pred"] == pytest.approx(1 / 3, abs=1e-6)
    assert keras.models.load_model(tmp_path / "m.h5", compile=False) is not None
