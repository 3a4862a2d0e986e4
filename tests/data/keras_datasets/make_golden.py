"""Tiny files in the formats of Keras's dataset downloads (files/) and what
real Keras's load_data functions return for them (golden.json), for
tests/datasets/test_against_keras.py.

Run with real Keras (not needed by the tests):
    KERAS_BACKEND=jax /work/venvs/peers/bin/python tests/data/keras_datasets/make_golden.py
Keras's get_file is replaced by a function returning the local file, so
nothing is downloaded. (cifar10 is left out: Keras's loader insists on
10,000 images per batch file.)
"""
import gzip
import hashlib
import io
import json
import os
import pickle
import tarfile
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")


def obj(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


def tar_gz(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))


def idx(array):
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big")
                                                    for d in array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def make_files():
    os.makedirs(FILES, exist_ok=True)
    rng = np.random.default_rng(7)
    seqs = lambda n: [rng.integers(0, 30, rng.integers(1, 12)).tolist() for _ in range(n)]  # noqa
    np.savez(os.path.join(FILES, "imdb.npz"), x_train=obj(seqs(9)),
             y_train=rng.integers(0, 2, 9), x_test=obj(seqs(7)), y_test=rng.integers(0, 2, 7))
    np.savez(os.path.join(FILES, "reuters.npz"), x=obj(seqs(13)), y=rng.integers(0, 46, 13))
    np.savez(os.path.join(FILES, "boston_housing.npz"), x=rng.normal(size=(17, 13)),
             y=rng.normal(size=17))
    np.savez(os.path.join(FILES, "california_housing.npz"),
             x=rng.normal(size=(610, 3)).astype("float32"),
             y=rng.normal(size=610).astype("float32"))
    np.savez(os.path.join(FILES, "mnist.npz"),
             x_train=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, 3, dtype=np.uint8),
             x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, 2, dtype=np.uint8))
    members = {}
    for split, n in (("train", 4), ("test", 2)):
        members[f"cifar-100-python/{split}"] = pickle.dumps(
            {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"fine_labels": rng.integers(0, 100, n).tolist(),
             b"coarse_labels": rng.integers(0, 20, n).tolist()}, protocol=4)
    tar_gz(os.path.join(FILES, "cifar-100-python.tar.gz"), members)
    fashion = {"train-labels-idx1-ubyte.gz": idx(rng.integers(0, 10, 4)),
               "train-images-idx3-ubyte.gz": idx(rng.integers(0, 256, (4, 28, 28))),
               "t10k-labels-idx1-ubyte.gz": idx(rng.integers(0, 10, 2)),
               "t10k-images-idx3-ubyte.gz": idx(rng.integers(0, 256, (2, 28, 28)))}
    for name, data in fashion.items():
        with open(os.path.join(FILES, name), "wb") as f:
            f.write(data)


def fake_get_file(fname=None, origin=None, extract=False, **kwargs):
    name = os.path.basename(origin)
    path = os.path.join(FILES, name)
    if extract:
        target = tempfile.mkdtemp()
        with tarfile.open(path) as tar:
            tar.extractall(target, filter="data")
        return target
    return path


def encode(value):
    """Arrays as {dtype, shape, sha256 of the C-order bytes}; object arrays
    of lists as the lists."""
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    value = np.asarray(value)
    if value.dtype == object:
        return {"dtype": "object", "values": [list(map(int, v)) for v in value]}
    return {"dtype": str(value.dtype), "shape": list(value.shape),
            "sha256": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()}


CALLS = {
    "imdb": [{}, {"num_words": 20, "skip_top": 3}, {"maxlen": 8, "seed": 5},
             {"start_char": None, "oov_char": None, "index_from": 0, "num_words": 15}],
    "reuters": [{}, {"num_words": 20, "test_split": 0.3}, {"maxlen": 9, "skip_top": 2,
                                                           "oov_char": None}],
    "boston_housing": [{}, {"test_split": 0.3, "seed": 1}],
    "california_housing": [{}, {"version": "small", "test_split": 0.1, "seed": 3}],
    "mnist": [{}], "fashion_mnist": [{}],
    "cifar100": [{"label_mode": "fine"}, {"label_mode": "coarse"}],
}


def main():
    make_files()
    import importlib
    golden = {}
    for name, calls in CALLS.items():
        mod = importlib.import_module(f"keras.src.datasets.{name}")
        mod.get_file = fake_get_file
        golden[name] = []
        for kwargs in calls:
            golden[name].append({"kwargs": kwargs, "result": encode(mod.load_data(**kwargs))})
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main()
