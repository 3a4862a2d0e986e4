"""Golden values of Keras 3's colour and geometry augmentation layers.

Keras's random draws (JAX) cannot be reproduced, so each case stores the
transformation Keras drew (``get_random_transformation``) with the images
Keras made from it (``transform_images``); ckeras replays the same
transformation. Also the output at inference and the config.
    KERAS_BACKEND=jax /work/venvs/peers/bin/python make_augmentation_fixtures.py
Writes augmentation.npz.
"""
import json

import numpy as np
import keras

rng = np.random.default_rng(0)
images = rng.uniform(0, 255, (2, 4, 5, 3)).astype(np.float32)
images[1, :, :, 2] = 40.0                  # a flat channel
unit = images / 255.0
L = keras.layers
CASES = {
    "RandomGrayscale": (L.RandomGrayscale(factor=0.5, seed=1), images),
    "RandomInvert": (L.RandomInvert(factor=0.5, seed=1), images),
    "RandomInvert_unit": (L.RandomInvert(value_range=(0, 1), seed=2), unit),
    "RandomPosterization": (L.RandomPosterization(factor=(2, 7), seed=1), images),
    "RandomPosterization_unit": (L.RandomPosterization(factor=3, value_range=(0, 1)), unit),
    "Solarization": (L.Solarization(addition_factor=0.2, threshold_factor=0.6, seed=1), images),
    "Solarization_unit": (L.Solarization(threshold_factor=(0.3, 0.5), value_range=(0, 1)),
                          unit),
    "AutoContrast": (L.AutoContrast(), images * 0.5 + 20),
    "AutoContrast_unit": (L.AutoContrast(value_range=(0, 1)), unit * 0.5),
    "Equalization": (L.Equalization(), images),
    "Equalization_bins": (L.Equalization(bins=16, value_range=(0, 1)), unit),
    "ContrastLimitedAdaptiveHistogramEqualization": (
        L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 3)), images),
    "ContrastLimitedAdaptiveHistogramEqualization_unit": (
        L.ContrastLimitedAdaptiveHistogramEqualization(value_range=(0, 1), clip_limit=2.0,
                                                       tile_grid_size=(3, 2)), unit),
    "RandomColorDegeneration": (L.RandomColorDegeneration(0.7, seed=1), images),
    "RandomSaturation": (L.RandomSaturation((0.2, 0.9), seed=1), images),
    "RandomHue": (L.RandomHue(0.6, seed=1), images),
    "RandomHue_unit": (L.RandomHue(0.3, value_range=(0, 1), seed=3), unit),
    "RandomSharpness": (L.RandomSharpness(0.8, seed=1), images),
    "RandomGaussianBlur": (L.RandomGaussianBlur(factor=0.8, kernel_size=3, sigma=(0.3, 0.9),
                                                seed=1), images),
    "RandomGaussianBlur_k5": (L.RandomGaussianBlur(kernel_size=5, seed=2), images),
    "RandomErasing": (L.RandomErasing(factor=0.9, seed=1), images),
    "RandomErasing_fill": (L.RandomErasing(scale=(0.2, 0.5), fill_value=7.0, seed=2), images),
    "MixUp": (L.MixUp(alpha=0.4, seed=1), images),
    "CutMix": (L.CutMix(factor=0.8, seed=1), images),
    "RandomShear": (L.RandomShear(x_factor=0.3, y_factor=0.2, seed=1), images),
    "RandomShear_constant": (L.RandomShear(x_factor=(0.1, 0.4), fill_mode="constant",
                                           fill_value=3.0, interpolation="nearest", seed=2),
                             images),
    "RandomPerspective": (L.RandomPerspective(factor=0.9, scale=0.6, seed=1), images),
    "RandomPerspective_nearest": (L.RandomPerspective(scale=0.3, interpolation="nearest",
                                                      fill_value=9.0, seed=2), images),
}
out = {"inputs/images": images, "inputs/unit": unit}
for name, (layer, x) in CASES.items():
    t = layer.get_random_transformation(x, training=True)
    y = layer.transform_images(x, t, training=True)
    out[f"{name}/x"] = np.array("unit" if x is unit else "images" if x is images else name)
    if x is not unit and x is not images:
        out[f"inputs/{name}"] = x
    out[f"{name}/y"] = np.asarray(y)
    out[f"{name}/inference"] = np.asarray(layer(x, training=False))
    if t is not None and not isinstance(t, dict):   # RandomGrayscale: the mask itself
        t = {"should_apply": t}
    for key, value in (t or {}).items():
        if key == "input_shape":
            continue
        out[f"{name}/p:{key}"] = np.asarray(value)
    out[f"{name}/config"] = np.array(json.dumps(layer.get_config()))
    out[f"{name}/class"] = np.array(type(layer).__name__)

jitter = L.RandomColorJitter(value_range=(0, 255), brightness_factor=(0.1, 0.1),
                             saturation_factor=(0.7, 0.7), seed=1)
out["RandomColorJitter/x"] = np.array("images")
out["RandomColorJitter/y"] = np.asarray(jitter(images, training=True))
out["RandomColorJitter/inference"] = np.asarray(jitter(images, training=False))
out["RandomColorJitter/config"] = np.array(json.dumps(jitter.get_config()))
out["RandomColorJitter/class"] = np.array("RandomColorJitter")
# RandomElasticTransform draws its noise inside transform_images from the
# transformation's seed: give it an integer seed and draw the same noise here.
import jax  # noqa: E402
from keras.src.random.seed_generator import draw_seed  # noqa: E402
big = rng.uniform(0, 255, (2, 16, 12, 3)).astype(np.float32)
out["inputs/big"] = big
for name, layer in (
        ("RandomElasticTransform", L.RandomElasticTransform(factor=0.9, scale=0.8, seed=1)),
        ("RandomElasticTransform_constant", L.RandomElasticTransform(
            scale=(0.5, 1.0), fill_mode="constant", fill_value=5.0, interpolation="nearest",
            seed=2))):
    t = layer.get_random_transformation(big, training=True)
    t["seed"] = 42
    out[f"{name}/y"] = np.asarray(layer.transform_images(big, t, training=True))
    out[f"{name}/p:apply_transform"] = np.asarray(t["apply_transform"])
    out[f"{name}/p:distortion_factor"] = np.asarray(t["distortion_factor"])
    out[f"{name}/p:noise"] = np.asarray(jax.random.normal(draw_seed(42), big.shape[:3],
                                                          dtype="float32"))
    out[f"{name}/x"] = np.array("big")
    out[f"{name}/inference"] = np.asarray(layer(big, training=False))
    out[f"{name}/config"] = np.array(json.dumps(layer.get_config()))
    out[f"{name}/class"] = np.array(name.split("_")[0])

# RandAugment / AugMix: configs and inference; with factor=0 each of their
# operations is deterministic, so store what each one makes of the images.
for name, layer in (("RandAugment", L.RandAugment(num_ops=3, factor=0.4, seed=1)),
                    ("AugMix", L.AugMix(num_chains=2, chain_depth=2, all_ops=False, seed=1))):
    out[f"{name}/x"] = np.array("images")
    out[f"{name}/inference"] = np.asarray(layer(images, training=False))
    out[f"{name}/config"] = np.array(json.dumps(layer.get_config()))
    out[f"{name}/class"] = np.array(name)
policy = L.RandAugment(factor=0.0)
for op in policy._AUGMENT_LAYERS:
    sub = getattr(policy, op)
    t = sub.get_random_transformation(images, training=True)
    out[f"ops_factor0/{op}"] = np.asarray(sub.transform_images(images, t, training=True))
np.savez_compressed("augmentation.npz", **out)
print(sorted(k for k in out if "/p:" in k))
