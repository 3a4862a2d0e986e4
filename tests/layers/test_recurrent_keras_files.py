"""Golden recurrent models made by real Keras 3 (tests/data/keras_rnn/,
make_fixtures.py there): ckeras loads the .keras and .h5 files and matches
Keras's outputs; ckeras's own save of the loaded model writes the same weight
layout (dataset paths and shapes) as Keras's file."""
import os

import h5py
import numpy as np
import pytest

import ckeras

HERE = os.path.join(os.path.dirname(__file__), "..", "data", "keras_rnn")
NAMES = ["gru_reset_after", "gru_reset_before", "simple_rnn", "bidirectional",
         "time_distributed", "masked_lstm", "masking_gru", "repeat_permute", "seq2seq"]


def _data(name):
    d = np.load(os.path.join(HERE, name + ".npz"))
    xs = [d[k] for k in sorted(k for k in d.files if k.startswith("x"))]
    ys = [d[k] for k in sorted(k for k in d.files if k.startswith("y"))]
    return (xs if len(xs) > 1 else xs[0]), ys


@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("name", NAMES)
def test_keras_file_loads_and_matches(name, ext):
    model = ckeras.models.load_model(os.path.join(HERE, name + ext), compile=False)
    xs, ys = _data(name)
    out = model.predict(xs, verbose=0)
    out = out if isinstance(out, list) else [out]
    for got, want in zip(out, ys):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _h5_weights(path):
    found = {}
    with h5py.File(path, "r") as f:
        f["model_weights"].visititems(
            lambda k, v: found.__setitem__(k, v.shape) if isinstance(v, h5py.Dataset) else None)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_saved_h5_weight_layout_is_keras(name, tmp_path):
    src = os.path.join(HERE, name + ".h5")
    model = ckeras.models.load_model(src, compile=False)
    path = str(tmp_path / (name + ".h5"))
    model.save(path)
    assert _h5_weights(path) == _h5_weights(src)
