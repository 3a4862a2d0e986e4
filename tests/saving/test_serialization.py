"""serialize_keras_object / deserialize_keras_object against Keras 3.15's
own output (tests/data/utils/make_serialization_gold.py)."""
import json
import pathlib

import numpy as np
import pytest

import ckeras as keras
from ckeras.saving import deserialize_keras_object as D, serialize_keras_object as S

GOLD = json.loads((pathlib.Path(__file__).parents[1] / "data" / "utils" /
                   "serialization_gold.json").read_text())


def _envelope(entry):
    return {k: entry.get(k) for k in ("module", "class_name", "registered_name")}


@pytest.mark.parametrize("key, make", [
    ("dense", lambda: keras.layers.Dense(3, name="d")),
    ("adam", lambda: keras.optimizers.Adam()),
    ("relu", lambda: keras.activations.relu),
    ("glorot", lambda: keras.initializers.GlorotUniform(seed=1)),
    ("l2", lambda: keras.regularizers.L2(0.01)),
    ("mse", lambda: keras.losses.MeanSquaredError()),
    ("mse_fn", lambda: keras.losses.mean_squared_error),
    ("acc", lambda: keras.metrics.Accuracy()),
    ("nonneg", lambda: keras.constraints.NonNeg()),
    ("sched", lambda: keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
])
def test_envelope_matches_keras_and_round_trips(key, make):
    obj = make()
    out = S(obj)
    assert _envelope(out) == _envelope(GOLD[key])
    back = D(json.loads(json.dumps(out)))
    if callable(obj) and not hasattr(obj, "get_config"):
        assert back is obj
    else:
        assert type(back) is type(obj)
        assert S(back)["config"] == out["config"]


def test_keras_made_entries_deserialize():
    for key in ("dense", "adam", "glorot", "l2", "mse", "acc", "nonneg", "sched"):
        obj = D(GOLD[key])
        assert type(obj).__name__ == GOLD[key]["class_name"]
    assert D(GOLD["relu"]) is keras.activations.relu
    assert D(GOLD["mse_fn"]) is keras.losses.mean_squared_error
    dense = D(GOLD["dense_built"])
    assert dense.built and dense.kernel.shape == (4, 2)


def test_plain_values_match_keras():
    for key, value in [("tuple", (1, 2.5, "a")),
                       ("nparr", np.array([[1, 2], [3, 4]], "float32")),
                       ("npscalar", np.float32(2.5)), ("bytes", b"ab"),
                       ("slice", slice(1, 5, None))]:
        assert json.loads(json.dumps(S(value))) == GOLD[key], key
    nested = S({"a": [1, {"b": None}], "c": keras.activations.tanh})
    assert nested == GOLD["nested"]
    back = D(GOLD["nparr"])
    assert back.dtype == np.float32 and back.tolist() == [[1, 2], [3, 4]]
    assert D(GOLD["bytes"]) == b"ab" and D(GOLD["slice"]) == slice(1, 5, None)
    assert D(GOLD["nested"])["c"] is keras.activations.tanh


def test_registered_custom_class_and_function():
    @keras.saving.register_keras_serializable(package="pk")
    class Foo:
        def __init__(self, x=1):
            self.x = x

        def get_config(self):
            return {"x": self.x}

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    @keras.saving.register_keras_serializable(package="pk")
    def myfn(x):
        return x

    out = S(Foo(3))
    assert out["registered_name"] == GOLD["foo"]["registered_name"]
    assert out["config"] == GOLD["foo"]["config"]
    assert S(myfn) == GOLD["myfn"]
    assert D(GOLD["foo"]).x == 3
    assert D(GOLD["myfn"]) is myfn


def test_model_round_trip_with_compile_config():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    out = S(model)
    assert out["class_name"] == "Sequential" and out["module"] == "keras"
    assert out["compile_config"]["loss"] in ("mse", "mean_squared_error")
    back = D(json.loads(json.dumps(out)))
    assert [l.name for l in back.layers] == [l.name for l in model.layers]
    assert back.compiled and type(back.optimizer).__name__ == "Adam"
    back.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    a = keras.Input((3,))
    functional = keras.Model(a, keras.layers.Dense(2)(a))
    assert S(functional)["class_name"] == "Functional"
    assert len(D(json.loads(json.dumps(S(functional)))).layers) == 2
    assert back.predict(np.ones((1, 3), "float32"), verbose=0).shape == (1, 2)


def test_lambdas_refused_both_ways():
    with pytest.raises(ValueError, match="lambda"):
        S(lambda x: x)
    with pytest.raises(ValueError, match="lambda"):
        D({"class_name": "__lambda__", "config": {"value": "..."}}, safe_mode=False)


def test_unknown_class_is_a_clear_error():
    with pytest.raises(TypeError, match="Nope"):
        D({"module": "my.module", "class_name": "Nope", "config": {}, "registered_name": None})


def test_legacy_form_matches_keras():
    from ckeras.utils import legacy
    out = legacy.serialize_keras_object(keras.layers.Dense(3, name="d"))
    assert set(out) == {"class_name", "config"} and out["class_name"] == "Dense"
    assert out["config"]["units"] == GOLD["legacy_dense"]["config"]["units"]
    assert legacy.serialize_keras_object(keras.activations.relu) == GOLD["legacy_relu"]
    dense = legacy.deserialize_keras_object(out, module_objects=vars(keras.layers))
    assert type(dense) is keras.layers.Dense and dense.units == 3
    assert legacy.deserialize_keras_object("relu", module_objects=vars(keras.activations)) \
        is keras.activations.relu
    with pytest.raises(ValueError, match="Unknown object"):
        legacy.deserialize_keras_object("nope", module_objects={})
