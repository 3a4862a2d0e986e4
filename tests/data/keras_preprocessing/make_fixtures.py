"""Golden outputs of Keras 3 preprocessing layers (numerical and image).

Run with real Keras (the tests never import it):
    KERAS_BACKEND=jax /work/venvs/peers/bin/python make_fixtures.py
Writes golden.npz: inputs, outputs and JSON configs. Augmentation layers are
run in training with degenerate factor ranges (a fixed angle / zoom / shift
/ delta) so their outputs are deterministic. The lookup / text layers need
TensorFlow in Keras 3 and are not covered here.
"""
import json

import numpy as np
import keras

L = keras.layers
rng = np.random.default_rng(0)
img = (rng.random((2, 6, 8, 3)) * 255).astype(np.float32)
tab = (rng.standard_normal((50, 4)) * 3 + 1).astype(np.float32)
ids = rng.integers(0, 5, (4, 3))
vals = (rng.standard_normal((200,)) * 2).astype(np.float32)
out = {"img": img, "tab": tab, "ids": ids, "vals": vals}


def rec(name, layer, x, training=False, **kw):
    y = layer(x, training=training, **kw)
    out[name + "/y"] = np.asarray(y)
    out[name + "/config"] = np.array(json.dumps(layer.get_config()))
    for i, w in enumerate(layer.get_weights()):
        out[f"{name}/w{i}"] = np.asarray(w)


n = L.Normalization()
n.adapt(tab)
rec("norm_adapt", n, tab)
n = L.Normalization(axis=None)
n.adapt(tab)
rec("norm_axis_none", n, tab)
rec("norm_given", L.Normalization(mean=[1.0, 2.0, 3.0, 4.0], variance=[1.0, 4.0, 9.0, 0.0]), tab)
rec("norm_invert", L.Normalization(mean=2.0, variance=4.0, invert=True), tab)
n = L.Normalization(axis=(1, 2))
n.adapt(img[..., 0])
rec("norm_axes12", n, img[..., 0])
rec("rescale", L.Rescaling(1 / 127.5, offset=-1), img)
rec("resize_bilinear", L.Resizing(4, 5), img)
rec("resize_up", L.Resizing(9, 11), img)
rec("resize_nearest", L.Resizing(4, 5, interpolation="nearest"), img)
rec("resize_crop", L.Resizing(4, 4, crop_to_aspect_ratio=True), img)
rec("resize_pad", L.Resizing(4, 4, pad_to_aspect_ratio=True), img)
rec("center_crop", L.CenterCrop(3, 5), img)
rec("center_crop_up", L.CenterCrop(8, 8), img)
rec("random_crop_inference", L.RandomCrop(4, 4), img)
rec("cat_multi", L.CategoryEncoding(5), ids)
rec("cat_count", L.CategoryEncoding(5, output_mode="count"), ids)
rec("cat_onehot", L.CategoryEncoding(5, output_mode="one_hot"), ids[:, :1])
rec("cat_count_w", L.CategoryEncoding(5, output_mode="count"), ids,
    count_weights=np.linspace(0.5, 2, ids.size).reshape(ids.shape).astype(np.float32))
rec("disc_bins", L.Discretization(bin_boundaries=[-1.0, 0.0, 1.5]), vals)
# Discretization.adapt checks for tf.data (needs TensorFlow): run its two steps.
d = L.Discretization(num_bins=4, epsilon=0.01)
d.reset_state()
d.update_state(vals[:120])
d.update_state(vals[120:])
d.finalize_state()
rec("disc_adapt", d, vals)
d = L.Discretization(num_bins=5, epsilon=0.1, output_mode="one_hot")
d.reset_state()
d.update_state(vals)
d.finalize_state()
rec("disc_adapt_onehot", d, vals[:20])
rec("rot90", L.RandomRotation((0.25, 0.25), fill_mode="constant"), img, training=True)
rec("rot30_reflect", L.RandomRotation((1 / 12, 1 / 12)), img, training=True)
rec("zoom_out", L.RandomZoom((0.5, 0.5), fill_mode="constant"), img, training=True)
rec("zoom_in_nearest", L.RandomZoom((-0.3, -0.3), (-0.2, -0.2), interpolation="nearest",
                                    fill_mode="nearest"), img, training=True)
rec("translate", L.RandomTranslation((0.25, 0.25), (-0.125, -0.125), fill_mode="wrap"), img,
    training=True)
rec("brightness", L.RandomBrightness((0.1, 0.1)), img, training=True)
rec("contrast_cfg", L.RandomContrast(0.3), img)
rec("flip_cfg", L.RandomFlip("horizontal"), img)
# Whole models saved by Keras: ckeras must load them and predict the same.
norm = L.Normalization()
norm.adapt(tab)
model = keras.Sequential([keras.Input((4,)), norm, L.Dense(3, name="d"), L.LeakyReLU(),
                          L.UnitNormalization()])
out["tab_model/y"] = np.asarray(model(tab))
model.save("norm_model.keras")
model.save("norm_model.h5")
model = keras.Sequential([keras.Input((6, 8, 3)), L.Rescaling(1 / 255.0), L.Resizing(4, 4),
                          L.RandomFlip(), L.RandomRotation(0.1), L.CenterCrop(3, 3),
                          L.GroupNormalization(3), L.Flatten(), L.Dense(2), L.Softmax()])
out["img_model/y"] = np.asarray(model.predict(img, verbose=0))
model.save("image_model.keras")
np.savez("golden.npz", **out)
print(len(out))
