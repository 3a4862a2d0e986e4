"""keras.datasets loaders: Keras's origins, cache layout, formats, dtypes,
shapes and index handling, on tiny files built in Keras's exact formats."""
import hashlib
import json
import os
import pickle

import numpy as np
import pytest

from ckeras import datasets
from builders import cifar_batch, idx_gz, npz_bytes, object_array, tar_gz

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def leftovers(folder):
    return [f for f in os.listdir(folder) if f.endswith(".part")]


# ---- mnist: download, cache, hash, offline --------------------------------------------

def _mnist(rng):
    return dict(x_train=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
                y_train=rng.integers(0, 10, 5, dtype=np.uint8),
                x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
                y_test=rng.integers(0, 10, 3, dtype=np.uint8))


def test_mnist_downloads_once_into_keras_cache(keras_home, origin, monkeypatch, rng, capsys):
    arrays = _mnist(rng)
    data = npz_bytes(**arrays)
    monkeypatch.setattr(datasets.mnist, "_SHA256", origin.put("mnist.npz", data))
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    assert origin.requested == [ORIGIN + "mnist.npz"]
    out = capsys.readouterr().out
    assert "Downloading data from " + ORIGIN + "mnist.npz" in out
    assert f"{len(data)}/{len(data)}" in out  # the progress bar counts bytes
    assert (keras_home / "datasets" / "mnist.npz").is_file()
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                     (y_test, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])
    datasets.mnist.load_data()  # cached: no second request
    assert len(origin.requested) == 1
    assert leftovers(keras_home / "datasets") == []


def test_mnist_real_hash_is_keras(keras_home, origin, rng):
    # The shipped hash is Keras's: a file with other content is refused.
    origin.put("mnist.npz", npz_bytes(**_mnist(rng)))
    with pytest.raises(ValueError, match="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"):
        datasets.mnist.load_data()
    assert os.listdir(keras_home / "datasets") == []  # no partial or corrupt file kept


def test_mnist_stale_cache_file_is_redownloaded(keras_home, origin, monkeypatch, rng):
    arrays = _mnist(rng)
    monkeypatch.setattr(datasets.mnist, "_SHA256", origin.put("mnist.npz", npz_bytes(**arrays)))
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "mnist.npz").write_bytes(b"truncated")
    (x_train, _), _ = datasets.mnist.load_data()
    assert len(origin.requested) == 1
    np.testing.assert_array_equal(x_train, arrays["x_train"])


def test_mnist_offline_error_names_file_and_place(keras_home, offline):
    with pytest.raises(ConnectionError) as err:
        datasets.mnist.load_data()
    msg = str(err.value)
    assert "mnist.npz" in msg and ORIGIN + "mnist.npz" in msg
    assert str(keras_home / "datasets" / "mnist.npz") in msg
    assert os.listdir(keras_home / "datasets") == []


def test_keras_home_default_is_dot_keras(monkeypatch, tmp_path):
    from ckeras.utils.file_utils import keras_home
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keras_home() == os.path.join(str(tmp_path), ".keras")


# ---- fashion-mnist ----------------------------------------------------------------------

def _fashion_files(rng, n_train=4, n_test=2):
    x_train = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, n_train, dtype=np.uint8)
    x_test = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    y_test = rng.integers(0, 10, n_test, dtype=np.uint8)
    files = {"train-labels-idx1-ubyte.gz": idx_gz(y_train),
             "train-images-idx3-ubyte.gz": idx_gz(x_train),
             "t10k-labels-idx1-ubyte.gz": idx_gz(y_test),
             "t10k-images-idx3-ubyte.gz": idx_gz(x_test)}
    return files, (x_train, y_train, x_test, y_test)


def _check_fashion(result, expected):
    (x_train, y_train), (x_test, y_test) = result
    for got, want in zip((x_train, y_train, x_test, y_test), expected):
        assert got.dtype == np.uint8 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_fashion_mnist_download_layout(keras_home, origin, monkeypatch, rng, tmp_path):
    monkeypatch.setattr(datasets.fashion_mnist, "DEBIAN_DIR", str(tmp_path / "absent"))
    files, expected = _fashion_files(rng)
    for name, data in files.items():
        origin.put(name, data)
    _check_fashion(datasets.fashion_mnist.load_data(), expected)
    assert origin.requested == [ORIGIN + f for f in datasets.fashion_mnist.FILES]
    assert sorted(os.listdir(keras_home / "datasets" / "fashion-mnist")) == sorted(files)


def test_fashion_mnist_reads_debian_copy_without_network(keras_home, offline, monkeypatch,
                                                         rng, tmp_path):
    files, expected = _fashion_files(rng)
    debian = tmp_path / "debian"
    debian.mkdir()
    for name, data in files.items():
        (debian / name).write_bytes(data)
    monkeypatch.setattr(datasets.fashion_mnist, "DEBIAN_DIR", str(debian))
    _check_fashion(datasets.fashion_mnist.load_data(), expected)


def test_fashion_mnist_truncated_idx_is_reported(keras_home, offline, monkeypatch, rng,
                                                 tmp_path):
    files, _ = _fashion_files(rng)
    import gzip
    raw = gzip.decompress(files["train-images-idx3-ubyte.gz"])
    files["train-images-idx3-ubyte.gz"] = gzip.compress(raw[:-10])
    cache = keras_home / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name, data in files.items():
        (cache / name).write_bytes(data)
    with pytest.raises(ValueError, match="truncated"):
        datasets.fashion_mnist.load_data()


@pytest.mark.skipif(not os.path.isfile("/usr/share/datasets/fashion-mnist/"
                                       "train-images-idx3-ubyte.gz"),
                    reason="Debian package dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian_package(keras_home, offline):
    (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    # Fashion-MNIST's well-known first training labels (ankle boot, T-shirt, ...).
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert np.bincount(y_train).tolist() == [6000] * 10


# ---- cifar --------------------------------------------------------------------------------

def _cifar10_archive(rng, per_batch=3, n_test=2):
    batches, members = [], {}
    for i in range(1, 6):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        batches.append((data, labels))
        members[f"cifar-10-batches-py/data_batch_{i}"] = cifar_batch(data, labels)
    test = (rng.integers(0, 256, (n_test, 3072), dtype=np.uint8),
            rng.integers(0, 10, n_test).tolist())
    members["cifar-10-batches-py/test_batch"] = cifar_batch(*test)
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({b"label_names": []})
    return members, batches, test


def _check_cifar10(result, batches, test):
    (x_train, y_train), (x_test, y_test) = result
    data = np.concatenate([b[0] for b in batches])
    n = len(data)
    assert x_train.shape == (n, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (n, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (len(test[0]), 32, 32, 3) and y_test.dtype == np.uint8
    # rows are channel planes (R then G then B, each 32x32 row-major)
    np.testing.assert_array_equal(x_train[:, 5, 7, 2], data[:, 2 * 1024 + 5 * 32 + 7])
    np.testing.assert_array_equal(y_train[:, 0], sum((b[1] for b in batches), []))
    np.testing.assert_array_equal(x_test[:, 0, 1, 1], test[0][:, 1024 + 1])
    np.testing.assert_array_equal(y_test[:, 0], test[1])


def test_cifar10_download_extract_and_layout(keras_home, origin, monkeypatch, rng):
    members, batches, test = _cifar10_archive(rng)
    monkeypatch.setattr(datasets.cifar10, "_SHA256",
                        origin.put("cifar-10-python.tar.gz", tar_gz(members)))
    _check_cifar10(datasets.cifar10.load_data(), batches, test)
    assert origin.requested == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    base = keras_home / "datasets"
    assert (base / "cifar-10-batches-py-target_archive").is_file()
    assert (base / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "test_batch").is_file()
    _check_cifar10(datasets.cifar10.load_data(), batches, test)
    assert len(origin.requested) == 1


def test_cifar10_uses_tf_keras2_extracted_cache(keras_home, offline, rng):
    members, batches, test = _cifar10_archive(rng)
    for name, data in members.items():
        path = keras_home / "datasets" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    _check_cifar10(datasets.cifar10.load_data(), batches, test)


def test_cifar10_refuses_pickled_code(keras_home, offline):
    folder = keras_home / "datasets" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({b"data": os.getcwd}))
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        datasets.cifar10.load_data()


@pytest.mark.parametrize("mode", ["fine", "coarse"])
def test_cifar100_label_modes(keras_home, origin, monkeypatch, rng, mode):
    parts = {}
    for split, n in (("train", 4), ("test", 2)):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        fine, coarse = rng.integers(0, 100, n).tolist(), rng.integers(0, 20, n).tolist()
        d = {b"data": data, b"fine_labels": fine, b"coarse_labels": coarse}
        parts[split] = (data, fine if mode == "fine" else coarse)
        parts[f"cifar-100-python/{split}"] = pickle.dumps(d, protocol=2)
    members = {k: v for k, v in parts.items() if "/" in k}
    monkeypatch.setattr(datasets.cifar100, "_SHA256",
                        origin.put("cifar-100-python.tar.gz", tar_gz(members)))
    (x_train, y_train), (x_test, y_test) = datasets.cifar100.load_data(label_mode=mode)
    assert x_train.shape == (4, 32, 32, 3) and y_train.shape == (4, 1)
    assert y_train.dtype == np.int64  # Keras: a reshaped Python list
    np.testing.assert_array_equal(y_train[:, 0], parts["train"][1])
    np.testing.assert_array_equal(y_test[:, 0], parts["test"][1])
    np.testing.assert_array_equal(x_test[:, 31, 31, 0], parts["test"][0][:, 1023])
    assert (keras_home / "datasets" / "cifar-100-python-target" / "cifar-100-python").is_dir()


def test_cifar100_bad_label_mode():
    with pytest.raises(ValueError, match="label_mode"):
        datasets.cifar100.load_data(label_mode="medium")


# ---- imdb / reuters -----------------------------------------------------------------------

def _keras_words(seqs, labels, seed, num_words, skip_top, maxlen, start_char, oov_char,
                 index_from, rng_state=None):
    """The documented Keras transformation, written out longhand per sequence."""
    out_x, out_y = [], []
    for s, y in zip(seqs, labels):
        s = [w + index_from for w in s]
        if start_char is not None:
            s = [start_char] + s
        if maxlen and not len(s) < maxlen:
            continue
        out_x.append(s)
        out_y.append(y)
    return out_x, out_y


def _limit(xs, num_words, skip_top, oov_char):
    top = num_words or max(max(x) for x in xs)
    if oov_char is None:
        return [[w for w in x if skip_top <= w < top] for x in xs]
    return [[w if skip_top <= w < top else oov_char for w in x] for x in xs]


IMDB_TRAIN = [[1, 2, 3, 4], [5, 6], [7, 8, 9, 10, 11], [1], [2, 2, 2]]
IMDB_TEST = [[3, 4, 5], [9, 9], [12, 1, 1, 1, 1, 1]]


@pytest.fixture
def imdb_files(keras_home, origin, monkeypatch):
    data = npz_bytes(x_train=object_array(IMDB_TRAIN), y_train=np.array([1, 0, 1, 0, 1]),
                     x_test=object_array(IMDB_TEST), y_test=np.array([0, 1, 1]))
    monkeypatch.setattr(datasets.imdb, "_SHA256", origin.put("imdb.npz", data))
    return origin


@pytest.mark.parametrize("kw", [
    {}, {"num_words": 8}, {"num_words": 8, "skip_top": 5, "oov_char": None},
    {"maxlen": 5}, {"start_char": None, "index_from": 0}, {"seed": 7, "oov_char": 0}])
def test_imdb_matches_keras_indexing(imdb_files, kw):
    p = dict(seed=113, num_words=None, skip_top=0, maxlen=None, start_char=1, oov_char=2,
             index_from=3)
    p.update(kw)
    rs = np.random.RandomState(p["seed"])
    tr = np.arange(5)
    rs.shuffle(tr)
    te = np.arange(3)
    rs.shuffle(te)
    args = {k: p[k] for k in ("num_words", "skip_top", "maxlen", "start_char", "oov_char",
                              "index_from")}
    xtr, ytr = _keras_words([IMDB_TRAIN[i] for i in tr], np.array([1, 0, 1, 0, 1])[tr],
                            p["seed"], **args)
    xte, yte = _keras_words([IMDB_TEST[i] for i in te], np.array([0, 1, 1])[te],
                            p["seed"], **args)
    xs = _limit(xtr + xte, p["num_words"], p["skip_top"], p["oov_char"])
    (x_train, y_train), (x_test, y_test) = datasets.imdb.load_data(**kw)
    assert x_train.dtype == object and x_train.ndim == 1
    assert [list(x) for x in x_train] == xs[:len(xtr)]
    assert [list(x) for x in x_test] == xs[len(xtr):]
    assert y_train.tolist() == list(ytr) and y_test.tolist() == list(yte)
    assert imdb_files.requested[0] == ORIGIN + "imdb.npz"


def test_imdb_maxlen_too_small(imdb_files):
    with pytest.raises(ValueError, match="Increase maxlen"):
        datasets.imdb.load_data(maxlen=2)


def test_imdb_refuses_pickled_objects(keras_home, origin, monkeypatch):
    class Evil:
        pass
    import builders
    builders.Evil = Evil
    Evil.__module__, Evil.__qualname__ = "builders", "Evil"
    bad = object_array([[1]])
    bad[0] = Evil()
    data = npz_bytes(x_train=bad, y_train=np.array([1]), x_test=bad, y_test=np.array([1]))
    monkeypatch.setattr(datasets.imdb, "_SHA256", origin.put("imdb.npz", data))
    with pytest.raises(pickle.UnpicklingError, match="builders.Evil"):
        datasets.imdb.load_data()


def test_imdb_word_index(keras_home, origin, monkeypatch):
    index = {"the": 1, "and": 2}
    data = json.dumps(index).encode()
    origin.put("imdb_word_index.json", data)
    monkeypatch.setattr(datasets.imdb, "_INDEX_MD5", hashlib.md5(data).hexdigest())
    assert datasets.imdb.get_word_index() == index
    assert origin.requested == [ORIGIN + "imdb_word_index.json"]


def test_imdb_unknown_kwarg():
    with pytest.raises(TypeError, match="nb_words"):
        datasets.imdb.load_data(nb_words=10)


def test_reuters_split_and_labels(keras_home, origin, monkeypatch):
    seqs = [[1, 2], [3, 4, 5], [6], [7, 8, 9, 1], [2, 2], [4], [5, 5, 5], [1, 3], [9], [8, 8]]
    labels = np.arange(10) % 4
    data = npz_bytes(x=object_array(seqs), y=labels)
    monkeypatch.setattr(datasets.reuters, "_SHA256", origin.put("reuters.npz", data))
    (x_train, y_train), (x_test, y_test) = datasets.reuters.load_data(num_words=10,
                                                                      test_split=0.3)
    order = np.arange(10)
    np.random.RandomState(113).shuffle(order)
    xs = _limit([[1] + [w + 3 for w in seqs[i]] for i in order], 10, 0, 2)
    assert len(x_train) == 7 and len(x_test) == 3
    assert [list(x) for x in x_train] + [list(x) for x in x_test] == xs
    assert y_train.tolist() + y_test.tolist() == labels[order].tolist()
    assert origin.requested == [ORIGIN + "reuters.npz"]
    names = datasets.reuters.get_label_names()
    assert len(names) == 46 and names[3] == "earn" and names[-1] == "lead"


# ---- boston / california ------------------------------------------------------------------

@pytest.mark.parametrize("module,fname", [("boston_housing", "boston_housing.npz"),
                                          ("california_housing", "california_housing.npz")])
def test_housing_split(keras_home, origin, monkeypatch, rng, module, fname):
    mod = getattr(datasets, module)
    x = rng.normal(size=(23, 4))
    y = rng.normal(size=23)
    monkeypatch.setattr(mod, "_SHA256", origin.put(fname, npz_bytes(x=x, y=y)))
    (x_train, y_train), (x_test, y_test) = mod.load_data(test_split=0.25, seed=5)
    order = np.arange(23)
    np.random.RandomState(5).shuffle(order)
    cut = int(23 * 0.75)
    np.testing.assert_array_equal(x_train, x[order[:cut]])
    np.testing.assert_array_equal(y_test, y[order[cut:]])
    assert x_train.dtype == x.dtype and len(x_test) == 23 - cut
    assert origin.requested == [ORIGIN + fname]
    with pytest.raises(ValueError, match="test_split"):
        mod.load_data(test_split=1.0)


def test_california_small_version(keras_home, origin, monkeypatch, rng):
    x = rng.normal(size=(700, 8)).astype(np.float32)
    y = rng.normal(size=700).astype(np.float32)
    monkeypatch.setattr(datasets.california_housing, "_SHA256",
                        origin.put("california_housing.npz", npz_bytes(x=x, y=y)))
    (x_train, _), (x_test, _) = datasets.california_housing.load_data(version="small")
    assert len(x_train) == 480 and len(x_test) == 120
    assert set(map(tuple, np.concatenate([x_train, x_test]))) == set(map(tuple, x[:600]))
    with pytest.raises(ValueError, match="version"):
        datasets.california_housing.load_data(version="tiny")
