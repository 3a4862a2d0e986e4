"""Layers added from Keras 3 (EinsumDense, RMSNormalization, ...): each built
from the config real Keras wrote, given Keras's weights, must give Keras's
output, and write back the same config keys and values.
Fixtures: tests/data/keras_layers_more/make_fixtures.py."""
import json
import os

import numpy as np
import pytest

from ckeras.layers import deserialize

FIX = np.load(os.path.join(os.path.dirname(__file__), "..", "data", "keras_layers_more",
                           "layers_more.npz"))
CASES = sorted({k.split("/")[0] for k in FIX.files} - {"model", "lm"})
# Keras class of each case (the config has no class name).
CLASS = {"einsum": "EinsumDense", "rmsnorm": "RMSNormalization",
         "spectral": "SpectralNormalization", "reversible": "ReversibleEmbedding",
         "hashed": "HashedCrossing", "adaptive": None, "pipeline": "Pipeline"}


def _arrays(case, kind):
    keys = sorted((k for k in FIX.files if k.startswith(f"{case}/{kind}")),
                  key=lambda k: int(k.rsplit(kind, 1)[1]))
    return [FIX[k] for k in keys]


def build_from_keras(case):
    config = json.loads(str(FIX[case + "/config"]))
    cls = str(FIX[case + "/class"]) if case + "/class" in FIX.files else \
        CLASS[case.split("_")[0]]
    layer = deserialize({"class_name": cls, "config": config})
    return layer, config


def _call(layer, case, xs):
    kwargs = json.loads(str(FIX[case + "/kwargs"])) if case + "/kwargs" in FIX.files else {}
    return layer(xs[0] if len(xs) == 1 else xs, **kwargs)


@pytest.mark.parametrize("case", CASES)
def test_output_matches_keras(case):
    layer, _ = build_from_keras(case)
    xs = _arrays(case, "x")
    weights = _arrays(case, "w")
    if weights:
        shapes = [(None,) + x.shape[1:] for x in xs]
        layer._maybe_build(shapes[0] if len(shapes) == 1 else shapes)
        layer.set_weights(weights)
    y = _call(layer, case, xs)
    for got, want in zip(layer.get_weights(), _arrays(case, "a")):   # weights it updated
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    ys = _arrays(case, "y")
    for got, want in zip(y if isinstance(y, list) else [y], ys):
        if want.dtype.kind in "iub":
            np.testing.assert_array_equal(np.asarray(got), want)
        else:
            np.testing.assert_allclose(np.asarray(got), want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("case", CASES)
def test_config_matches_keras(case):
    layer, config = build_from_keras(case)
    ours = json.loads(json.dumps(layer.get_config()))
    assert sorted(ours) == sorted(config)
    for key, value in config.items():
        if key in ("name", "dtype"):
            continue
        if key == "layer":   # a wrapped layer: Keras adds its build_config
            assert ours[key]["class_name"] == value["class_name"]
            inner, want = ours[key]["config"], value["config"]
            # (the wrapped layer's own config is that layer's business; e.g.
            # ckeras's Dense does not write Keras's quantization_config)
            assert all(inner[k] == want[k] for k in inner if k != "name"), key
            continue
        if key == "layers":   # a Pipeline's layers: class names and their own keys
            assert [l["class_name"] for l in ours[key]] == [l["class_name"] for l in value]
            for mine, theirs in zip(ours[key], value):
                assert all(mine["config"][k] == theirs["config"][k]
                           for k in mine["config"] if k != "name")
            continue
        assert ours[key] == value, key
