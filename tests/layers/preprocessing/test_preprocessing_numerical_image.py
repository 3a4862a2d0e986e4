"""Numerical and image preprocessing layers against real Keras
(tests/data/keras_preprocessing/golden.npz), plus configs, adapt, training-only
augmentation and gradients."""
import json
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers as L
from ckeras.layers import deserialize, serialize
from ckeras.testing import check_layer_gradients

G = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data", "keras_preprocessing",
                         "golden.npz"))
IMG, TAB, IDS, VALS = G["img"], G["tab"], G["ids"], G["vals"]


def _close(got, name, rtol=1e-5, atol=1e-4):
    want = G[name + "/y"]
    assert np.shape(got) == want.shape, (np.shape(got), want.shape)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=atol)


def _config(name):
    return json.loads(str(G[name + "/config"]))


def test_normalization_adapt_matches_keras():
    n = L.Normalization()
    n.adapt(TAB)
    _close(n(TAB), "norm_adapt")
    for got, want in zip(n.get_weights(), [G["norm_adapt/w0"], G["norm_adapt/w1"],
                                           G["norm_adapt/w2"]]):
        np.testing.assert_allclose(got, want, rtol=1e-5)
        assert np.shape(got) == np.shape(want)
    n = L.Normalization(axis=None)
    n.adapt(TAB)
    _close(n(TAB), "norm_axis_none")
    n = L.Normalization(axis=(1, 2))
    n.adapt(IMG[..., 0])
    _close(n(IMG[..., 0]), "norm_axes12", atol=1e-3)


def test_normalization_adapt_over_batches_equals_one_pass():
    a, b = L.Normalization(), L.Normalization()
    a.adapt(TAB)
    b.adapt([TAB[:7], TAB[7:30], TAB[30:]])
    np.testing.assert_allclose(b.get_weights()[0], a.get_weights()[0], rtol=1e-5)
    np.testing.assert_allclose(b.get_weights()[1], a.get_weights()[1], rtol=1e-5)


def test_normalization_given_stats_and_invert():
    n = deserialize({"class_name": "Normalization", "config": _config("norm_given")})
    _close(n(TAB), "norm_given")
    assert n.get_weights() == []
    n = deserialize({"class_name": "Normalization", "config": _config("norm_invert")})
    _close(n(TAB), "norm_invert")


def test_normalization_in_a_model_saves_its_statistics(tmp_path):
    n = L.Normalization()
    n.adapt(TAB)
    model = keras.Sequential([keras.Input((4,)), n, L.Dense(2)])
    y = model.predict(TAB, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path).predict(TAB, verbose=0), y,
                               rtol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(TAB, np.zeros((50, 2)), epochs=1, verbose=0)      # statistics do not train
    np.testing.assert_allclose(n.get_weights()[0], G["norm_adapt/w0"], rtol=1e-5)


@pytest.mark.parametrize("name,make", [
    ("rescale", lambda: L.Rescaling(1 / 127.5, offset=-1)),
    ("resize_bilinear", lambda: L.Resizing(4, 5)),
    ("resize_up", lambda: L.Resizing(9, 11)),
    ("resize_nearest", lambda: L.Resizing(4, 5, interpolation="nearest")),
    ("resize_crop", lambda: L.Resizing(4, 4, crop_to_aspect_ratio=True)),
    ("resize_pad", lambda: L.Resizing(4, 4, pad_to_aspect_ratio=True)),
    ("center_crop", lambda: L.CenterCrop(3, 5)),
    ("center_crop_up", lambda: L.CenterCrop(8, 8)),
])
def test_image_layers_match_keras(name, make):
    _close(make()(IMG, training=False), name, atol=2e-3)


@pytest.mark.parametrize("name,make,training", [
    ("rot90", lambda: L.RandomRotation((0.25, 0.25), fill_mode="constant"), True),
    ("rot30_reflect", lambda: L.RandomRotation((1 / 12, 1 / 12)), True),
    ("zoom_out", lambda: L.RandomZoom((0.5, 0.5), fill_mode="constant"), True),
    ("zoom_in_nearest", lambda: L.RandomZoom((-0.3, -0.3), (-0.2, -0.2),
                                             interpolation="nearest", fill_mode="nearest"), True),
    ("translate", lambda: L.RandomTranslation((0.25, 0.25), (-0.125, -0.125),
                                              fill_mode="wrap"), True),
    ("brightness", lambda: L.RandomBrightness((0.1, 0.1)), True),
])
def test_fixed_augmentations_match_keras(name, make, training):
    _close(make()(IMG, training=training), name, atol=2e-2)


@pytest.mark.parametrize("name,ids,kw", [
    ("cat_multi", IDS, {}), ("cat_count", IDS, {}), ("cat_onehot", IDS[:, :1], {}),
])
def test_category_encoding_matches_keras(name, ids, kw):
    layer = deserialize({"class_name": "CategoryEncoding", "config": _config(name)})
    _close(layer(ids), name)


def test_category_encoding_count_weights_and_bad_ids():
    w = np.linspace(0.5, 2, IDS.size).reshape(IDS.shape).astype(np.float32)
    _close(L.CategoryEncoding(5, output_mode="count")(IDS, count_weights=w), "cat_count_w")
    with pytest.raises(ValueError, match="out of range for 5 tokens"):
        L.CategoryEncoding(5)(np.array([[1, 5]]))
    with pytest.raises(TypeError, match="num_tokens"):
        L.CategoryEncoding()
    with pytest.raises(ValueError, match="num_tokens"):
        L.CategoryEncoding(0)


def test_discretization_matches_keras():
    _close(L.Discretization(bin_boundaries=[-1.0, 0.0, 1.5])(VALS), "disc_bins")
    d = L.Discretization(num_bins=4, epsilon=0.01)
    d.adapt([VALS[:120], VALS[120:]])
    np.testing.assert_allclose(d.bin_boundaries, _config("disc_adapt")["bin_boundaries"],
                               rtol=1e-5)
    _close(d(VALS), "disc_adapt")
    d = L.Discretization(num_bins=5, epsilon=0.1, output_mode="one_hot")
    d.adapt(VALS)
    np.testing.assert_allclose(d.bin_boundaries,
                               _config("disc_adapt_onehot")["bin_boundaries"], rtol=1e-5)
    _close(d(VALS[:20]), "disc_adapt_onehot")
    clone = deserialize(serialize(d))
    assert clone.bin_boundaries == d.bin_boundaries


@pytest.mark.parametrize("name,make", [
    ("norm_adapt", lambda: L.Normalization()), ("rescale", lambda: L.Rescaling(0.5)),
    ("resize_bilinear", lambda: L.Resizing(4, 5)), ("center_crop", lambda: L.CenterCrop(3, 5)),
    ("cat_multi", lambda: L.CategoryEncoding(5)),
    ("disc_bins", lambda: L.Discretization(bin_boundaries=[-1.0, 0.0, 1.5])),
    ("rot90", lambda: L.RandomRotation(0.25)), ("zoom_out", lambda: L.RandomZoom(0.5)),
    ("translate", lambda: L.RandomTranslation(0.25, 0.1)),
    ("brightness", lambda: L.RandomBrightness(0.1)),
    ("contrast_cfg", lambda: L.RandomContrast(0.3)),
    ("flip_cfg", lambda: L.RandomFlip("horizontal")),
    ("random_crop_inference", lambda: L.RandomCrop(4, 4)),
])
def test_config_keys_match_keras(name, make):
    keras_cfg = _config(name)
    ours = make().get_config()
    assert set(keras_cfg) - {"seed"} <= set(ours), set(keras_cfg) - set(ours)
    cls = type(make()).__name__
    layer = deserialize({"class_name": cls, "config": keras_cfg})
    for key, value in keras_cfg.items():
        if key not in ("name", "dtype", "seed"):
            got = layer.get_config()[key]
            assert got == value or np.allclose(got, value), (key, got, value)


@pytest.mark.parametrize("make", [
    lambda: L.RandomFlip(seed=1), lambda: L.RandomRotation(0.2, seed=1),
    lambda: L.RandomZoom(0.3, seed=1), lambda: L.RandomTranslation(0.2, 0.2, seed=1),
    lambda: L.RandomContrast(0.5, seed=1), lambda: L.RandomBrightness(0.3, seed=1),
])
def test_augmentation_only_in_training(make):
    layer = make()
    np.testing.assert_array_equal(layer(IMG, training=False), IMG)
    model = keras.Sequential([keras.Input(IMG.shape[1:]), layer])
    np.testing.assert_array_equal(model.predict(IMG, verbose=0), IMG)
    assert not np.allclose(layer(IMG), IMG)      # a direct call augments, as in Keras
    y = layer(IMG, training=True)
    assert y.shape == IMG.shape and not np.allclose(y, IMG)
    assert y.min() >= -1e-3 and y.max() <= 255 + 1e-3
    single = layer(IMG[0], training=True)
    assert single.shape == IMG[0].shape


def test_random_flip_modes_and_gradient():
    flip = L.RandomFlip("horizontal", seed=3)
    y = flip(IMG, training=True)
    for a, b in zip(y, IMG):
        assert np.array_equal(a, b) or np.array_equal(a, b[:, ::-1])
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 2))
    # Fixed noise for a fixed seed: each layer is then affine in x, so the
    # backward must equal the directional derivative (brightness: no clipping).
    makers = [lambda: L.RandomFlip(seed=5),
              lambda: L.RandomBrightness(0.2, value_range=(-30, 30), seed=5),
              lambda: L.RandomRotation(0.2, seed=5),
              lambda: L.RandomZoom(0.3, fill_mode="constant", seed=5),
              lambda: L.RandomZoom(-0.3, interpolation="nearest", seed=5),
              lambda: L.RandomTranslation(0.3, 0.2, fill_mode="wrap", seed=5)]
    d = np.random.default_rng(2).standard_normal(x.shape)
    for make in makers:
        y, back = make().forward(x, training=True)
        y2, _ = make().forward(x + d, training=True)
        r = np.random.default_rng(1).standard_normal(y.shape)
        np.testing.assert_allclose((r * (y2 - y)).sum(), (back(r) * d).sum(), rtol=1e-9)


def test_random_crop_training_windows_come_from_the_image():
    crop = L.RandomCrop(3, 4, seed=2)
    y = crop(IMG, training=True)
    assert y.shape == (2, 3, 4, 3)
    for win, img in zip(y, IMG):
        assert any(np.array_equal(win, img[t:t + 3, l:l + 4])
                   for t in range(4) for l in range(5))


def test_channels_first():
    x = np.moveaxis(IMG, -1, 1)
    y = L.Resizing(4, 5, data_format="channels_first")(x)
    _close(np.moveaxis(y, 1, -1), "resize_bilinear", atol=2e-3)


def test_differentiable_layers_gradients():
    x = np.random.default_rng(0).standard_normal((3, 4))
    n = L.Normalization(mean=[1.0, 2.0, 0.0, 1.0], variance=[4.0, 1.0, 2.0, 9.0])
    check_layer_gradients(n, x)
    check_layer_gradients(L.Normalization(mean=1.0, variance=4.0, invert=True), x)
    check_layer_gradients(L.Rescaling(0.5, offset=2.0), x)
    check_layer_gradients(L.RandomRotation(0.2, seed=1), x[None, :, :, None])  # inference


def test_contrast_has_no_training_gradient():
    layer = L.RandomContrast(0.2, seed=1)
    _, back = layer.forward(IMG, training=True)
    with pytest.raises(NotImplementedError, match="before the trainable layers"):
        back(np.ones_like(IMG))


def test_bad_arguments():
    for bad in (lambda: L.RandomRotation(2.0), lambda: L.RandomFlip("diagonal"),
                lambda: L.RandomZoom(0.1, fill_mode="bogus"),
                lambda: L.RandomContrast(0.1, value_range=(1, 0)),
                lambda: L.Normalization(mean=1.0),
                lambda: L.Discretization(bin_boundaries=[1.0, 0.0])):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(ValueError, match="rank 3 or 4"):
        L.RandomFlip()(np.zeros((2, 3)), training=True)
    with pytest.raises(ValueError, match="adapt"):
        L.Discretization(num_bins=3)(VALS)


def test_sequential_image_pipeline_trains():
    model = keras.Sequential([keras.Input((6, 8, 3)), L.Rescaling(1 / 255.0),
                              L.RandomFlip("horizontal", seed=1), L.RandomZoom(0.1, seed=1),
                              L.Flatten(), L.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(IMG, np.array([0, 1]), epochs=2, verbose=0)
    assert model.predict(IMG, verbose=0).shape == (2, 2)


@pytest.mark.parametrize("fname,x,key", [("norm_model.keras", TAB, "tab_model/y"),
                                         ("norm_model.h5", TAB, "tab_model/y"),
                                         ("image_model.keras", IMG, "img_model/y")])
def test_models_saved_by_keras_load_and_predict_the_same(fname, x, key):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "keras_preprocessing", fname)
    model = keras.models.load_model(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), G[key], rtol=1e-5, atol=1e-5)
