"""Colour, filter, mixing and geometric augmentations and the RandAugment /
AugMix policies: the transformation Keras drew, replayed here, gives Keras's
images; inference is the identity (AutoContrast: applied); configs as
Keras's. Fixtures: tests/data/keras_layers_more/make_augmentation_fixtures.py."""
import json
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.layers import deserialize

FIX = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data",
                           "keras_layers_more", "augmentation.npz"))
CASES = sorted({k.split("/")[0] for k in FIX.files} - {"inputs", "ops_factor0"})
REPLAYED = [c for c in CASES if c + "/y" in FIX.files and c != "RandomColorJitter"]
OPS = sorted(k.split("/")[1] for k in FIX.files if k.startswith("ops_factor0/"))


def _layer(case):
    config = json.loads(str(FIX[case + "/config"]))
    return deserialize({"class_name": str(FIX[case + "/class"]), "config": config}), config


def _x(case):
    return FIX["inputs/" + str(FIX[case + "/x"])].copy()


def _params(case):
    prefix = case + "/p:"
    keys = [k for k in FIX.files if k.startswith(prefix)]
    return {k[len(prefix):]: FIX[k] for k in keys} or None


@pytest.mark.parametrize("case", REPLAYED)
def test_keras_transformation_replayed(case):
    layer, _ = _layer(case)
    y = layer._transform(_x(case), _params(case))
    np.testing.assert_allclose(y, FIX[case + "/y"], rtol=1e-5, atol=2e-4)


@pytest.mark.parametrize("case", CASES)
def test_inference_and_config(case):
    layer, config = _layer(case)
    np.testing.assert_allclose(layer(_x(case), training=False),
                               FIX[case + "/inference"], rtol=1e-5, atol=2e-4)
    assert json.loads(json.dumps(layer.get_config())) == config


def test_color_jitter_with_fixed_factors_matches_keras():
    layer, _ = _layer("RandomColorJitter")
    np.testing.assert_allclose(layer(_x("RandomColorJitter"), training=True),
                               FIX["RandomColorJitter/y"], rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize("make", [
    lambda: layers.RandomGrayscale(1.0), lambda: layers.RandomInvert(seed=1),
    lambda: layers.RandomPosterization(4, seed=1), lambda: layers.Solarization(0.5, 0.5, seed=1),
    lambda: layers.Equalization(), lambda: layers.RandomColorDegeneration(0.5, seed=1),
    lambda: layers.RandomSaturation(0.5, seed=1), lambda: layers.RandomHue(0.5, seed=1),
    lambda: layers.RandomSharpness(0.5, seed=1), lambda: layers.RandomGaussianBlur(seed=1),
    lambda: layers.RandomErasing(factor=(1, 1), seed=1), lambda: layers.RandomShear(0.3, seed=1),
    lambda: layers.RandomPerspective(seed=1), lambda: layers.MixUp(seed=2),
    lambda: layers.CutMix(seed=1), lambda: layers.RandAugment(seed=1),
    lambda: layers.AugMix(seed=1), lambda: layers.RandomElasticTransform(seed=1),
    lambda: layers.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.3,
                                     saturation_factor=0.4, hue_factor=0.1, seed=1),
])
def test_training_only_seeded_and_in_a_model(make, tmp_path):
    x = np.random.default_rng(0).uniform(0, 255, (2, 6, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(make()(x, training=False), x)
    a, b = make()(x), make()(x)          # called directly: training, as Keras
    np.testing.assert_array_equal(a, b)  # same seed, same images
    assert not np.array_equal(a, x)
    model = keras.Sequential([keras.Input((6, 6, 3)), make()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    path = str(tmp_path / "m.keras")
    model.save(path)
    assert type(keras.models.load_model(path).layers[0]) is type(model.layers[0])


def test_gradients_of_the_linear_ones():
    from ckeras.testing import numeric_gradient
    x = np.random.default_rng(1).uniform(0, 255, (2, 3, 3, 3))
    for layer in (layers.RandomGrayscale(0.5, seed=3), layers.RandomInvert(0.5, seed=3)):
        params = layer._sample(2)
        r = np.random.default_rng(2).standard_normal(x.shape)
        got = layer._augment_backward(r, params)
        num = numeric_gradient(lambda: float((layer._transform(x, params) * r).sum()), x,
                               eps=1e-3)
        np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad, message", [
    (lambda: layers.RandomGrayscale(1.5), "between 0 and 1"),
    (lambda: layers.RandomInvert(2.0), "factor"),
    (lambda: layers.RandomPosterization(9), "factor"),
    (lambda: layers.Solarization(addition_factor=2), "addition_factor"),
    (lambda: layers.AutoContrast(value_range=3), "value_range"),
    (lambda: layers.Equalization(bins=1), "bins"),
    (lambda: layers.RandomSaturation(1.5), "factor"),
])
def test_bad_arguments(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()


@pytest.mark.parametrize("make, warp", [
    (lambda: layers.RandomShear(0.3, 0.2, seed=1), True),
    (lambda: layers.RandomShear(0.3, fill_mode="constant", interpolation="nearest", seed=1),
     True),
    (lambda: layers.RandomPerspective(scale=0.5, seed=2), True),
    (lambda: layers.RandomElasticTransform(seed=5), True),
    (lambda: layers.RandomErasing(seed=3), False), (lambda: layers.CutMix(seed=4), False),
])
def test_training_gradients_are_the_adjoint(make, warp):
    from ckeras.testing import numeric_gradient
    layer = make()
    x = np.random.default_rng(1).uniform(0, 255, (3, 5, 4, 2))
    params = layer._sample(3, 5, 4) if warp else layer._sample(3, x)
    r = np.random.default_rng(2).standard_normal(x.shape)
    got = layer._augment_backward(r, layer._warped(x, params)[1] if warp else params)
    num = numeric_gradient(lambda: float((layer._transform(x, params) * r).sum()), x, eps=1e-3)
    np.testing.assert_allclose(got, num, rtol=1e-4, atol=1e-4)


def test_mixing_layers_mix_labels_too():
    x = np.random.default_rng(0).uniform(0, 255, (4, 5, 5, 3)).astype(np.float32)
    labels = np.eye(4, dtype=np.float32)
    for layer in (layers.MixUp(seed=2), layers.CutMix(seed=2)):
        out = layer({"images": x, "labels": labels})
        assert out["images"].shape == x.shape
        np.testing.assert_allclose(out["labels"].sum(-1), 1.0, rtol=1e-5)
        assert not np.array_equal(out["labels"], labels)
        same = layer({"images": x, "labels": labels}, training=False)
        np.testing.assert_array_equal(same["images"], x)


@pytest.mark.parametrize("op", OPS)
def test_rand_augment_operations_are_keras_ones(op):
    """With factor=0 every operation is deterministic: each must make of the
    images what Keras's makes."""
    layer = layers.RandAugment(factor=0.0)
    y = layer._ops[op]._augment(FIX["inputs/images"].copy())[0]
    np.testing.assert_allclose(y, FIX["ops_factor0/" + op], rtol=1e-5, atol=2e-3)


def test_rand_augment_applies_num_ops_of_them():
    x = FIX["inputs/images"]
    outputs = [FIX["ops_factor0/" + op] for op in OPS]
    for seed in range(6):
        y = layers.RandAugment(num_ops=1, factor=0.0, seed=seed)(x)
        assert any(np.allclose(y, o, rtol=1e-5, atol=2e-3) for o in outputs)
    assert layers.RandAugment(num_ops=0)(x) is not None


def test_aug_mix_blends_within_the_value_range():
    x = FIX["inputs/images"]
    y = layers.AugMix(seed=0)(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 255
    np.testing.assert_array_equal(layers.AugMix(seed=5)(x), layers.AugMix(seed=5)(x))
    with pytest.raises(ValueError, match="num_chains"):
        layers.AugMix(num_chains=0)
    with pytest.raises(ValueError, match="num_ops"):
        layers.RandAugment(num_ops=-1)
