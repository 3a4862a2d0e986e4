"""clone_model, Sequential's symbolic inputs/outputs (feature extraction from
model.layers[i].output) and model.metrics_names."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.models import clone_model


def _seq():
    return keras.Sequential([keras.Input((6,), name="pixels"),
                             layers.Dense(5, activation="relu", name="hidden"),
                             layers.Dropout(0.3), layers.Dense(3, activation="softmax")],
                            name="net")


def test_clone_sequential_fresh_weights_same_architecture(rng):
    model = _seq()
    clone = clone_model(model)
    assert type(clone) is keras.Sequential and clone.name == "net"
    assert clone.get_config() == model.get_config()
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert not np.allclose(clone.layers[0].get_weights()[0], model.layers[0].get_weights()[0])
    x = rng.normal(size=(4, 6)).astype(np.float32)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    before = model.get_weights()
    clone.compile("sgd", "categorical_crossentropy")
    clone.fit(x, np.eye(3)[[0, 1, 2, 0]], epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # the original did not train


def test_clone_sequential_without_input_and_with_input_tensors():
    model = keras.Sequential([layers.Dense(4), layers.Dense(2)])
    clone = clone_model(model)
    assert not clone.built
    clone.build((None, 3))
    assert clone.output_shape == (None, 2)
    inp = keras.Input((7,))
    clone = clone_model(model, input_tensors=inp)
    assert clone.inputs[0] is inp and clone.output_shape == (None, 2)
    with pytest.raises(ValueError, match="call_function"):
        clone_model(model, call_function=lambda layer, x: layer(x))


def test_clone_functional_shared_layer_and_two_inputs(rng):
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = layers.Dense(3, name="shared")
    merged = layers.Concatenate()([shared(a), shared(b)])
    out = layers.Dense(1, name="out")(merged)
    model = keras.Model([a, b], out, name="siamese")
    clone = clone_model(model)
    assert clone.name == "siamese" and clone.get_config() == model.get_config()
    assert len(clone.weights) == len(model.weights) == 4  # the shared layer stays shared
    assert clone.get_layer("shared") is not shared
    xa, xb = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict([xa, xb], verbose=0),
                               model.predict([xa, xb], verbose=0), rtol=1e-6)


def test_clone_function_and_call_function():
    model = _seq()
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        config = layer.get_config()
        if isinstance(layer, layers.Dropout):
            config["rate"] = 0.5
        return layer.__class__.from_config(config)
    clone = clone_model(model, clone_function=clone_function)
    assert seen == [l.name for l in model.layers]
    assert clone.layers[1].rate == 0.5 and model.layers[1].rate == 0.3

    inp = keras.Input((3,))
    fmodel = keras.Model(inp, layers.Dense(2, name="d")(layers.Dense(4, name="c")(inp)))
    calls = []

    def call_function(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)
    same = clone_model(fmodel, clone_function=lambda layer: layer, call_function=call_function)
    assert calls == ["c", "d"] and same.layers[1] is fmodel.layers[1]


def test_clone_of_compiled_model_is_compiled_with_own_optimizer(rng):
    model = _seq()
    model.compile(keras.optimizers.Adam(0.01), "categorical_crossentropy",
                  metrics=["accuracy"])
    clone = clone_model(model)
    assert clone.compiled and clone.optimizer is not model.optimizer
    assert clone.optimizer.get_config() == model.optimizer.get_config()
    clone.fit(rng.normal(size=(4, 6)), np.eye(3)[[0, 1, 2, 0]], verbose=0)
    assert clone.metrics_names == ["loss", "accuracy"]


def test_clone_rejects_unknown_kwargs():
    with pytest.raises(ValueError, match="Unexpected"):
        clone_model(_seq(), foo=1)


# ---- Sequential's symbolic graph ---------------------------------------------------------

def test_feature_extraction_from_sequential_layers(rng):
    model = _seq()
    assert model.input_shape == (None, 6) and model.output_shape == (None, 3)
    assert model.input is model.inputs[0] and model.output is model.outputs[0]
    assert model.layers[0].output.shape == (None, 5)
    features = keras.Model(inputs=model.inputs, outputs=model.layers[-2].output)
    assert [l.name for l in features.layers] == ["pixels", "hidden", model.layers[1].name]
    x = rng.normal(size=(3, 6)).astype(np.float32)
    kernel, bias = model.layers[0].get_weights()
    np.testing.assert_allclose(features.predict(x, verbose=0),
                               np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    two = keras.Model(model.input, [model.layers[0].output, model.output])
    hidden, probs = two.predict(x, verbose=0)
    np.testing.assert_allclose(probs, model.predict(x, verbose=0), rtol=1e-6)


def test_sequential_outputs_need_a_built_model(rng):
    model = keras.Sequential([layers.Dense(2)])
    for attr in ("inputs", "outputs", "output", "output_shape"):
        with pytest.raises(AttributeError, match="no defined"):
            getattr(model, attr)
    model.compile("sgd", "mse")
    model.fit(rng.normal(size=(4, 5)), rng.normal(size=(4, 2)), verbose=0)
    assert model.output_shape == (None, 2) and model.layers[0].output.shape == (None, 2)


def test_add_and_pop_keep_one_node_per_layer():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4)])
    first = model.layers[0]
    model.add(layers.Dense(2))
    model.add(layers.Dense(1))
    assert len(first._inbound_nodes) == 1 and model.output_shape == (None, 1)
    model.pop()
    assert model.output_shape == (None, 2) and len(first._inbound_nodes) == 1


# ---- metrics_names -----------------------------------------------------------------------

def test_metrics_names_follow_evaluate_order(rng):
    model = _seq()
    assert model.metrics_names == []
    model.compile("adam", "categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    assert model.metrics_names == ["loss", "accuracy", "auc"]
    x, y = rng.normal(size=(8, 6)), np.eye(3)[rng.integers(0, 3, 8)]
    scores = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert dict(zip(model.metrics_names, scores)) == pytest.approx(logs)


def test_metrics_names_multi_output(rng):
    inp = keras.Input((3,))
    out1 = layers.Dense(1, name="reg")(inp)
    out2 = layers.Dense(2, activation="softmax", name="cls")(inp)
    model = keras.Model(inp, [out1, out2])
    model.compile("adam", ["mse", "sparse_categorical_crossentropy"],
                  metrics=[["mae"], ["accuracy"]])
    x = rng.normal(size=(6, 3))
    y = [rng.normal(size=(6, 1)), rng.integers(0, 2, 6)]
    scores = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert model.metrics_names == ["loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy"]
    assert dict(zip(model.metrics_names, scores)) == pytest.approx(logs)


def test_recursive_clone_reaches_nested_models(rng):
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="in1"),
                              layers.Dense(2, name="in2")], name="inner")
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(1, name="head")(inner(inp)))
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        return layer.__class__.from_config(layer.get_config())
    flat = clone_model(model, clone_function=clone_function)
    assert seen == ["inner", "head"]
    seen.clear()
    deep = clone_model(model, clone_function=clone_function, recursive=True)
    assert seen == ["in1", "in2", "head"]
    for clone in (flat, deep):
        nested = clone.get_layer("inner")
        assert nested is not inner and isinstance(nested, keras.Sequential)
        clone.set_weights(model.get_weights())
        x = rng.normal(size=(3, 4))
        np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-6)
