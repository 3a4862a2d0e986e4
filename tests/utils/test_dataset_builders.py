"""utils.timeseries_dataset_from_array, image_/text_dataset_from_directory and
split_dataset: Keras's windows, file order, splits and label encodings, and
the results feed fit/evaluate/predict."""
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers, utils


def batches(ds):
    return list(ds)


# ---- timeseries -------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [
    dict(sequence_length=3), dict(sequence_length=4, sequence_stride=2, sampling_rate=2),
    dict(sequence_length=2, start_index=3, end_index=15, batch_size=4)])
def test_timeseries_windows_match_definition(kw):
    data = np.arange(20 * 2).reshape(20, 2)
    targets = np.arange(20) * 10
    ds = utils.timeseries_dataset_from_array(data, targets, **kw)
    L, stride, rate = kw["sequence_length"], kw.get("sequence_stride", 1), kw.get("sampling_rate", 1)
    start, end = kw.get("start_index") or 0, kw.get("end_index") or 20
    xs = np.concatenate([b[0] for b in ds])
    ys = np.concatenate([b[1] for b in ds])
    expect_x, expect_y = [], []
    s = 0
    while start + s + (L - 1) * rate < end:
        expect_x.append(data[start + s:start + s + L * rate:rate])
        expect_y.append(targets[start + s])
        s += stride
    np.testing.assert_array_equal(xs, np.array(expect_x))
    np.testing.assert_array_equal(ys, np.array(expect_y))
    assert all(len(b[0]) <= kw.get("batch_size", 128) for b in ds)


def test_timeseries_shuffle_and_no_targets_and_fit():
    data = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    a = utils.timeseries_dataset_from_array(data, None, 5, batch_size=8, shuffle=True, seed=1)
    b = utils.timeseries_dataset_from_array(data, None, 5, batch_size=8, shuffle=True, seed=1)
    first = np.concatenate(batches(a))
    np.testing.assert_array_equal(first, np.concatenate(batches(b)))
    plain = np.concatenate(batches(utils.timeseries_dataset_from_array(data, None, 5)))
    assert not np.array_equal(first, plain)
    assert sorted(map(bytes, first)) == sorted(map(bytes, plain))  # a permutation
    ds = utils.timeseries_dataset_from_array(data, data[:, 0], 5, batch_size=8)
    model = keras.Sequential([keras.Input((5, 3)), layers.Flatten(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(ds, epochs=2, verbose=0)
    assert model.predict(ds, verbose=0).shape == (46, 1)


def test_timeseries_argument_errors():
    data = np.zeros((10, 1))
    with pytest.raises(ValueError, match="start_index"):
        utils.timeseries_dataset_from_array(data, None, 2, start_index=10)
    with pytest.raises(ValueError, match="sampling_rate"):
        utils.timeseries_dataset_from_array(data, None, 2, sampling_rate=0)
    with pytest.raises(ValueError, match="No window"):
        utils.timeseries_dataset_from_array(data, None, 20)


# ---- folders of images / texts ---------------------------------------------------------------

COLORS = {"cat": (255, 0, 0), "dog": (0, 0, 255), "eel": (0, 255, 0)}


@pytest.fixture
def image_dir(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    root = tmp_path / "pets"
    for k, (name, color) in enumerate(COLORS.items()):
        (root / name / "sub").mkdir(parents=True)
        for i in range(3 + k):
            folder = root / name / ("sub" if i == 0 else "")
            Image.new("RGB", (6 + i, 4), color).save(folder / f"{i}.png")
        (root / name / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return root


def test_image_dataset_classes_labels_and_pixels(image_dir, capsys):
    ds = utils.image_dataset_from_directory(image_dir, image_size=(5, 7), batch_size=4,
                                            seed=3)
    assert "Found 12 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["cat", "dog", "eel"] and len(ds) == 3
    x, y = ds[0]
    assert x.shape == (4, 5, 7, 3) and x.dtype == np.float32 and y.dtype == np.int32
    xs = np.concatenate([b[0] for b in ds])
    ys = np.concatenate([b[1] for b in ds])
    assert np.bincount(ys).tolist() == [3, 4, 5]
    for img, label in zip(xs, ys):  # solid colours survive resizing
        np.testing.assert_allclose(img, np.broadcast_to(COLORS[ds.class_names[label]],
                                                        img.shape), atol=1e-3)
    assert all(os.path.basename(os.path.dirname(p)) in COLORS or
               os.path.basename(os.path.dirname(p)) == "sub" for p in ds.file_paths)


def test_image_dataset_order_matches_keras_shuffle(image_dir):
    ds = utils.image_dataset_from_directory(image_dir, image_size=(4, 4), seed=11,
                                            verbose=False)
    paths = []
    for name in sorted(COLORS):
        for root, _, files in sorted(os.walk(image_dir / name), key=lambda w: w[0]):
            paths += [os.path.join(root, f) for f in sorted(files) if f.endswith(".png")]
    np.random.RandomState(11).shuffle(paths)
    assert ds.file_paths == paths


def test_image_dataset_validation_split(image_dir):
    train, val = utils.image_dataset_from_directory(
        image_dir, image_size=(4, 4), validation_split=0.25, subset="both", seed=5,
        verbose=False)
    assert len(train.file_paths) == 9 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    only_val = utils.image_dataset_from_directory(
        image_dir, image_size=(4, 4), validation_split=0.25, subset="validation", seed=5,
        verbose=False)
    assert only_val.file_paths == val.file_paths
    with pytest.raises(ValueError, match="seed"):
        utils.image_dataset_from_directory(image_dir, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="subset"):
        utils.image_dataset_from_directory(image_dir, validation_split=0.2, seed=1)


def test_image_dataset_label_modes_and_fit(image_dir):
    ds = utils.image_dataset_from_directory(image_dir, image_size=(4, 4), batch_size=5,
                                            label_mode="categorical", color_mode="grayscale",
                                            seed=1, verbose=False)
    x, y = ds[0]
    assert x.shape == (5, 4, 4, 1) and y.shape == (5, 3) and y.dtype == np.float32
    assert (y.sum(axis=1) == 1).all()
    model = keras.Sequential([keras.Input((4, 4, 1)), layers.Flatten(),
                              layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(ds, epochs=2, verbose=0)
    assert len(model.evaluate(ds, verbose=0)) == 2
    with pytest.raises(ValueError, match="exactly 2"):
        utils.image_dataset_from_directory(image_dir, label_mode="binary", seed=1)
    unlabeled = utils.image_dataset_from_directory(image_dir, labels=None, image_size=(3, 3),
                                                   shuffle=False, verbose=False)
    assert unlabeled.class_names is None and unlabeled[0].shape == (12, 3, 3, 3)
    listed = utils.image_dataset_from_directory(image_dir, labels=list(range(12)),
                                                image_size=(3, 3), shuffle=False,
                                                verbose=False)
    assert listed[0][1].tolist() == list(range(12))


def test_text_dataset(tmp_path, capsys):
    for label, texts in (("neg", ["bad", "awful film"]), ("pos", ["great", "fine", "superb!"])):
        (tmp_path / label).mkdir()
        for i, t in enumerate(texts):
            (tmp_path / label / f"{i}.txt").write_text(t, encoding="utf-8")
    (tmp_path / "pos" / "skip.md").write_text("x")
    ds = utils.text_dataset_from_directory(tmp_path, batch_size=2, max_length=5, seed=2)
    assert "Found 5 files belonging to 2 classes." in capsys.readouterr().out
    texts = np.concatenate([b[0] for b in ds]).tolist()
    labels = np.concatenate([b[1] for b in ds]).tolist()
    assert sorted(zip(texts, labels)) == sorted(
        [("bad", 0), ("awful", 0), ("great", 1), ("fine", 1), ("super", 1)])
    assert ds.class_names == ["neg", "pos"] and len(ds) == 3


def test_missing_pillow_message(image_dir, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match=r"ckeras\[image\]"):
        utils.image_dataset_from_directory(image_dir)
    with pytest.raises(ImportError, match="pip install pillow"):
        utils.load_img(str(image_dir / "cat" / "1.png"))


# ---- split_dataset ------------------------------------------------------------------------

def test_split_dataset_arrays_and_tuples():
    x = np.arange(10).reshape(10, 1)
    y = np.arange(10) * 2
    left, right = utils.split_dataset((x, y), left_size=0.7)
    assert len(left) == 7 and len(right) == 3
    lx, ly = left[0]
    assert lx.tolist() == [0] and ly == 0
    batched = left.batch(4)
    assert len(batched) == 2 and batched[1][0].tolist() == [[4], [5], [6]]
    a, b = utils.split_dataset(x, right_size=4, shuffle=True, seed=0)
    got = sorted([int(s[0]) for s in a] + [int(s[0]) for s in b])
    assert got == list(range(10)) and len(b) == 4
    order = np.arange(10)
    np.random.RandomState(0).shuffle(order)
    assert [int(s[0]) for s in a] == order[:6].tolist()
    with pytest.raises(ValueError, match="larger"):
        utils.split_dataset(x, left_size=6, right_size=5)
    with pytest.raises(ValueError, match="non-empty"):
        utils.split_dataset(x, left_size=10)


def test_tf_data_style_chaining(image_dir):
    ds = utils.image_dataset_from_directory(image_dir, image_size=(4, 4), batch_size=5,
                                            seed=2, verbose=False)
    ds = ds.cache().shuffle(100, seed=4).prefetch(buffer_size=8)
    scaled = ds.map(lambda x, y: (x / 255.0, y))
    for (x, y), (sx, sy) in zip(ds.take(-1), scaled.take(-1)):
        np.testing.assert_allclose(sx, x / 255.0)
        np.testing.assert_array_equal(sy, y)
    assert sorted(np.concatenate([b[1] for b in ds]).tolist()) == [0] * 3 + [1] * 4 + [2] * 5
    only_x = scaled.map(lambda x, y: x)
    assert only_x[0].shape == (5, 4, 4, 3) and only_x[0].max() <= 1.0
    with pytest.raises(NotImplementedError, match="batch"):
        scaled.batch(2)
    model = keras.Sequential([keras.Input((4, 4, 3)), layers.Flatten(),
                              layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(scaled, epochs=1, verbose=0)
    from ckeras import preprocessing
    assert preprocessing.image_dataset_from_directory is utils.image_dataset_from_directory


def test_epoch_reshuffle_keeps_pairs():
    x = np.arange(12)
    ds = utils.split_dataset((x, x * 10), left_size=11)[0].batch(4).shuffle(seed=1)
    first = [b for b in ds]
    ds.on_epoch_end()
    second = [b for b in ds]
    flat = lambda bs: np.concatenate([b[0] for b in bs]).tolist()  # noqa: E731
    assert flat(first) != flat(second) and sorted(flat(first)) == sorted(flat(second))
    for b in first + second:
        np.testing.assert_array_equal(b[1], b[0] * 10)
