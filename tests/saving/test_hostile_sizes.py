"""Crafted sizes and types: declared shapes are checked before anything is
allocated, odd dtypes are refused, deep or huge configs fail fast (or load in
linear time)."""
import json
import shutil
import time
import warnings

import h5py
import numpy as np
import pytest

import ckeras as keras
from ckeras.saving.safety import UnsafeFileError
from saving_helpers import mlp


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.h5"
    mlp(compile=False).save(path)
    return path


def _mutated(saved, tmp_path, fn, name="bad.h5"):
    path = tmp_path / name
    shutil.copy(saved, path)
    with h5py.File(path, "r+") as f:
        fn(f)
    return path


def _set_config(change):
    def fn(f):
        config = json.loads(f.attrs["model_config"])
        change(config)
        f.attrs["model_config"] = json.dumps(config)
    return fn


def _layers(config):
    return config["config"]["layers"]


def _load_fails(path, *words, cls=ValueError):
    t = time.perf_counter()
    with pytest.raises(cls) as e, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras.models.load_model(path)
    assert time.perf_counter() - t < 5
    for w in words:
        assert w in str(e.value), str(e.value)
    return str(e.value)


def _dense(config, **kw):
    dense = next(l for l in _layers(config) if l["class_name"] == "Dense")
    dense["config"].update(kw)


@pytest.mark.parametrize("units, words", [
    (10**9, ["'dense'", "(8, 1000000000)", "memory"]),       # more than RAM
    (10**6, ["'dense'", "(8, 1000000)", "largest dataset", "128"]),   # more than the file
])
def test_dense_units_checked_before_allocating(saved, tmp_path, units, words):
    path = _mutated(saved, tmp_path, _set_config(lambda c: _dense(c, units=units)))
    _load_fails(path, *words)


def test_embedding_input_dim(saved, tmp_path):
    def change(c):
        _layers(c).insert(1, {"class_name": "Embedding",
                              "config": {"name": "emb", "input_dim": 10**12, "output_dim": 4}})
    path = _mutated(saved, tmp_path, _set_config(change))
    _load_fails(path, "'emb'", "Embedding", "(1000000000000, 4)")


def test_conv_filters(saved, tmp_path):
    def change(c):
        _layers(c)[0]["config"]["batch_shape"] = [None, 8, 8, 1]
        _layers(c)[1] = {"class_name": "Conv2D",
                         "config": {"name": "conv", "filters": 10**9, "kernel_size": 3}}
    path = _mutated(saved, tmp_path, _set_config(change))
    _load_fails(path, "'conv'", "Conv2D", "(3, 3, 1, 1000000000)")


def _replace_kernel(fn):
    def mutate(f):
        found = []
        f["model_weights"].visititems(lambda n, o: found.append(o.name)
                                      if isinstance(o, h5py.Dataset) and o.shape == (8, 16)
                                      else None)
        value = f[found[0]][()]
        del f[found[0]]
        fn(f, found[0], value)
    return mutate


def test_huge_declared_dataset(saved, tmp_path):
    def fn(f, name, value):
        f.create_dataset(name, shape=(10**7, 10**7), dtype="f4", chunks=(64, 64))
    path = _mutated(saved, tmp_path, _replace_kernel(fn))
    _load_fails(path, "(10000000, 10000000)", "memory", cls=UnsafeFileError)
    with pytest.raises(UnsafeFileError):
        mlp(compile=False).load_weights(path)


def test_large_declared_dataset_not_read_when_shape_differs(saved, tmp_path):
    # 4 GB declared (fits in no model weight): refused from its shape, unread.
    def fn(f, name, value):
        f.create_dataset(name, shape=(10**4, 10**5), dtype="f4", chunks=(64, 64))
    path = _mutated(saved, tmp_path, _replace_kernel(fn))
    _load_fails(path, "expects shape (8, 16)", "(10000, 100000)")


@pytest.mark.parametrize("dtype, words", [
    (np.complex64, "complex"), ("S8", "fixed-length strings"),
    (h5py.string_dtype(), "strings"),
])
def test_weights_of_non_real_dtype(saved, tmp_path, dtype, words):
    def fn(f, name, value):
        data = value.astype(dtype) if dtype != h5py.string_dtype() else \
            np.full(value.shape, "x", dtype=object)
        f.create_dataset(name, data=data, dtype=dtype)
    path = _mutated(saved, tmp_path, _replace_kernel(fn))
    _load_fails(path, words, "real numbers")
    with pytest.raises(ValueError, match="real numbers"):
        mlp(compile=False).load_weights(path)


def test_set_weights_refuses_complex():
    model = mlp(compile=False)
    w = model.layers[0].get_weights()
    with pytest.raises(TypeError, match="complex"):
        model.layers[0].set_weights([w[0].astype(np.complex64), w[1]])
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], w[0])


def test_complex64_keras3_weights_never_load_as_real(tmp_path):
    path = tmp_path / "w.weights.h5"
    model = mlp(compile=False)
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        ds = "layers/dense/vars/0"
        value = f[ds][()]
        del f[ds]
        f[ds] = value.astype(np.complex64) * (1 + 1j)
    with pytest.raises(ValueError, match="complex"):
        model.load_weights(path)


@pytest.mark.parametrize("value, words", [
    (np.bytes_(b"\xff\xfe{}"), "UTF-8"),
    (np.complex64(1 + 2j), "text string"),
    (np.arange(3), "text string"),
])
def test_bad_model_config_attribute(saved, tmp_path, value, words):
    path = _mutated(saved, tmp_path, lambda f: f.attrs.__setitem__("model_config", value))
    _load_fails(path, "model_config", words)


def test_non_utf8_layer_names(saved, tmp_path):
    path = _mutated(saved, tmp_path,
                    lambda f: f["model_weights"].attrs.__setitem__("layer_names",
                                                                   np.array([b"\xff\xfe"])))
    _load_fails(path, "layer_names", "UTF-8")


def test_deeply_nested_config(saved, tmp_path):
    text = '{"class_name": "Sequential", "config": ' + "[" * 5000 + "]" * 5000 + "}"
    path = _mutated(saved, tmp_path, lambda f: f.attrs.__setitem__("model_config", text))
    _load_fails(path, "nested more than", cls=UnsafeFileError)
    with pytest.raises(UnsafeFileError, match="nested"):
        keras.models.model_from_json("[" * 100000 + "]" * 100000)


def test_nested_models_load(saved, tmp_path):
    # 100 Sequential models inside each other: deep but legitimate.
    def change(c):
        inner = dict(c)
        for i in range(100):
            inner = {"class_name": "Sequential", "config": {"name": f"s{i}", "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 8]}}, inner]}}
        c.clear()
        c.update(inner)
    path = _mutated(saved, tmp_path, _set_config(change))
    msg = _load_fails(path, "Layer count mismatch")
    assert "s98" in msg


def _chain(n):
    return keras.Sequential([keras.Input((2,))] + [keras.layers.Dense(2) for _ in range(n)])


def test_load_time_linear_in_layer_count(tmp_path, monkeypatch):
    # Counts the per-layer build work (deterministic, unlike a timing): the
    # old Sequential rebuilt every layer on each add(), n^2/2 builds.
    from ckeras.layers.layer import Layer
    calls = []
    real = Layer._maybe_build
    monkeypatch.setattr(Layer, "_maybe_build",
                        lambda self, shape: (calls.append(1), real(self, shape))[1])
    for n in (50, 200):
        path = tmp_path / f"chain{n}.keras"
        _chain(n).save(path)
        calls.clear()
        t = time.process_time()
        model = keras.models.load_model(path)
        assert len(model.layers) == n
        assert len(calls) <= 2 * n, (n, len(calls))


def test_many_layers_each_within_the_largest_dataset(saved, tmp_path):
    # Each layer alone is no larger than the file's largest dataset, but 400
    # of them would allocate far more than the file holds.
    def change(c):
        layers = _layers(c)
        layers[0]["config"]["batch_shape"] = [None, 1000]
        extra = [{"class_name": "Dense", "config": {"name": f"big{i}", "units": 1000}}
                 for i in range(400)]
        c["config"]["layers"] = layers[:1] + extra + layers[1:]
    path = _mutated(saved, tmp_path, _set_config(change))
    msg = _load_fails(path, "already declare", "in all", cls=UnsafeFileError)
    assert "'big" in msg


def test_unsupported_feature_is_not_called_corruption(saved, tmp_path):
    # NotImplementedError is a RuntimeError, like h5py's corruption errors:
    # it must pass through unchanged.
    def change(c):
        _layers(c).insert(1, {"class_name": "Hashing", "config": {"name": "h", "num_bins": 3,
                                                                 "sparse": True}})
    path = _mutated(saved, tmp_path, _set_config(change))
    with pytest.raises(NotImplementedError, match="sparse") as e:
        keras.models.load_model(path)
    assert "corrupted" not in str(e.value)
