"""ckeras.datasets returns exactly what real Keras returns for the same files
(tests/data/keras_datasets: tiny files in Keras's formats and the results of
Keras's own loaders on them, from make_golden.py)."""
import hashlib
import json
import os

import numpy as np
import pytest

from ckeras import datasets

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "keras_datasets")
with open(os.path.join(DATA, "golden.json")) as f:
    GOLDEN = json.load(f)
HASHED = {"imdb": "imdb.npz", "reuters": "reuters.npz", "mnist": "mnist.npz",
          "boston_housing": "boston_housing.npz",
          "california_housing": "california_housing.npz",
          "cifar100": "cifar-100-python.tar.gz"}  # fashion_mnist: Keras checks no hash
CASES = [(name, i) for name, calls in GOLDEN.items() for i in range(len(calls))]


def encode(value):
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    value = np.asarray(value)
    if value.dtype == object:
        return {"dtype": "object", "values": [list(map(int, v)) for v in value]}
    return {"dtype": str(value.dtype), "shape": list(value.shape),
            "sha256": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()}


@pytest.mark.parametrize("name,index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_loader_matches_keras(name, index, keras_home, origin, monkeypatch, tmp_path):
    hashes = {}
    for fname in os.listdir(os.path.join(DATA, "files")):
        with open(os.path.join(DATA, "files", fname), "rb") as f:
            hashes[fname] = origin.put(fname, f.read())
    if name in HASHED:  # the tiny file stands in for Keras's: accept its hash
        monkeypatch.setattr(getattr(datasets, name), "_SHA256", hashes[HASHED[name]])
    monkeypatch.setattr(datasets.fashion_mnist, "DEBIAN_DIR", str(tmp_path / "absent"))
    call = GOLDEN[name][index]
    got = encode(getattr(datasets, name).load_data(**call["kwargs"]))
    assert got == call["result"]
