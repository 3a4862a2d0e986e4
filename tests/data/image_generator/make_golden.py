"""Golden outputs of Keras's (legacy) ImageDataGenerator for
tests/preprocessing/test_image_data_generator.py.

Run with real Keras (not needed by the tests):
    KERAS_BACKEND=jax PYTHONPATH=<dir holding only Pillow> \
        /work/venvs/peers/bin/python tests/data/image_generator/make_golden.py
Writes golden.npz beside this file.
"""
import json
import os

import numpy as np
from keras.src.legacy.preprocessing.image import ImageDataGenerator

HERE = os.path.dirname(os.path.abspath(__file__))

# (name, generator kwargs, transform parameters)
CASES = [
    ("rotate", {"fill_mode": "nearest"}, {"theta": 30}),
    ("shift", {"fill_mode": "constant", "cval": 7.0}, {"tx": 2.0, "ty": -3.0}),
    ("shear", {"fill_mode": "reflect"}, {"shear": 20}),
    ("zoom", {"fill_mode": "wrap"}, {"zx": 0.8, "zy": 1.3}),
    ("all", {"fill_mode": "nearest", "interpolation_order": 3},
     {"theta": -15, "tx": 1.0, "ty": 2.0, "shear": 10, "zx": 1.1, "zy": 0.9,
      "flip_horizontal": True, "flip_vertical": True, "channel_shift_intensity": 20.0}),
    ("brightness", {}, {"brightness": 1.4}),
    ("channels_first", {"data_format": "channels_first"}, {"theta": 45, "tx": 1.0}),
]

RANDOM = {"rotation_range": 40, "width_shift_range": 0.2, "height_shift_range": [1, 2, 3],
          "shear_range": 0.2, "zoom_range": 0.2, "horizontal_flip": True,
          "vertical_flip": True, "channel_shift_range": 5.0, "brightness_range": [0.5, 1.5],
          "fill_mode": "nearest"}


def main():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (9, 11, 3)).astype("float32")
    out = {"image": image}
    for name, kwargs, params in CASES:
        gen = ImageDataGenerator(**kwargs)
        x = image.transpose(2, 0, 1) if kwargs.get("data_format") == "channels_first" else image
        out[name] = gen.apply_transform(x.copy(), params)
    gen = ImageDataGenerator(**RANDOM)
    draws = {str(seed): {k: (None if v is None else float(v))
                         for k, v in gen.get_random_transform((9, 11, 3), seed=seed).items()}
             for seed in (1, 7, 123)}
    out["random_params"] = np.array(json.dumps(draws))
    # A seeded flow(): the whole augmentation path, batch by batch.
    images = rng.uniform(0, 255, (5, 9, 11, 3)).astype("float32")
    labels = np.arange(5)
    it = ImageDataGenerator(rescale=1 / 255.0, **RANDOM).flow(images, labels, batch_size=2,
                                                              seed=42, shuffle=True)
    out["flow_images"] = images
    for i in range(len(it)):
        bx, by = it[i]
        out[f"flow_x{i}"], out[f"flow_y{i}"] = bx, by
    # Feature-wise statistics and ZCA from fit().
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(images)
    out["fit_mean"], out["fit_std"] = gen.mean, gen.std
    out["fit_standardized"] = gen.standardize(images[0].copy())
    gen = ImageDataGenerator(zca_whitening=True)
    gen.fit(images[:, :3, :3])
    out["zca_matrix"] = gen.zca_whitening_matrix
    np.savez_compressed(os.path.join(HERE, "golden.npz"), **out)


if __name__ == "__main__":
    main()
