"""Helpers for the saving tests: fixture paths, small models, layer checks."""
import json
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras.layers import BUILTIN_LAYERS
from ckeras.saving.model_config import import_layer_modules

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "data", "keras_h5")

import_layer_modules()   # register every ckeras layer class, wired or not


def layer_cls(name):
    return BUILTIN_LAYERS[name]


def require_layers(*names):
    """Skip (with the reason) until the colleagues' layer classes exist."""
    missing = [n for n in names if n not in BUILTIN_LAYERS]
    if missing:
        pytest.skip(f"ckeras.layers has no {missing} registered yet")


def manifest():
    with open(os.path.join(DATA, "manifest.json")) as f:
        return json.load(f)


def load_npz(name):
    with np.load(os.path.join(DATA, name)) as d:
        return {k: d[k] for k in d.files}


def multi(d, key):
    """``x`` or ``[x0, x1, ...]`` from a fixture npz."""
    if key in d:
        return d[key]
    out, i = [], 0
    while f"{key}{i}" in d:
        out.append(d[f"{key}{i}"])
        i += 1
    return out


def mlp(name="mlp", compile=True, optimizer="adam"):
    keras.backend.clear_session()   # Keras's default names: dense, dense_1
    L = keras.layers
    model = keras.Sequential([keras.Input((8,)), L.Dense(16, activation="relu"),
                              L.Dense(3, activation="softmax")], name=name)
    if compile:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model


def functional(compile=True, loss=("sparse_categorical_crossentropy", "mse")):
    L = keras.layers
    Concatenate = layer_cls("Concatenate")
    a = keras.Input((6,), name="in_a")
    b = keras.Input((4,), name="in_b")
    h = Concatenate(name="concat")([L.Dense(8, activation="relu", name="branch_a")(a),
                                    L.Dense(8, activation="tanh", name="branch_b")(b)])
    h = L.Dense(10, activation="relu", name="trunk")(h)
    model = keras.Model([a, b], [L.Dense(3, activation="softmax", name="cls")(h),
                                 L.Dense(1, name="reg")(h)], name="two_in_two_out")
    if compile:
        model.compile(optimizer="adam", loss=list(loss), loss_weights=[1.0, 0.5],
                      metrics=[["accuracy"], ["mae"]])
    return model


def mlp_data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8), dtype=np.float32), rng.integers(0, 3, n)


def functional_data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.random((n, 6), dtype=np.float32), rng.random((n, 4), dtype=np.float32)],
            [rng.integers(0, 3, n), rng.random((n, 1), dtype=np.float32)])


def assert_same_predictions(a, b, x, atol=1e-6):
    pa, pb = a.predict(x, verbose=0), b.predict(x, verbose=0)
    pa = pa if isinstance(pa, list) else [pa]
    pb = pb if isinstance(pb, list) else [pb]
    assert len(pa) == len(pb)
    for u, v in zip(pa, pb):
        np.testing.assert_allclose(u, v, atol=atol, rtol=0)
