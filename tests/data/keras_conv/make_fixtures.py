"""Generate the conv-family golden fixtures with real Keras 3 (JAX backend).

    KERAS_BACKEND=jax /work/venvs/peers/bin/python tests/data/keras_conv/make_fixtures.py

Each fixture NAME is a tiny functional model saved as NAME.keras and NAME.h5,
plus NAME.npz holding its input ``x``, Keras's prediction ``y`` and every
layer's weights (``w__<layer>__<i>``). The tests only read these files.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def model(shape, *stack):
    inp = keras.Input(shape)
    out = inp
    for layer in stack:
        out = layer(out)
    return keras.Model(inp, out)


FIXTURES = {
    "conv1d": lambda: model(
        (11, 3), L.Conv1D(4, 3, padding="causal", dilation_rate=2, name="c1"),
        L.Conv1D(3, 4, strides=2, padding="same", activation="tanh", name="c2"),
        L.Conv1D(2, 2, data_format="channels_first", name="c3")),
    "conv2d": lambda: model(
        (7, 6, 4), L.Conv2D(4, 3, groups=2, padding="same", activation="relu", name="c1"),
        L.Conv2D(3, (2, 3), strides=(2, 1), padding="same", name="c2"),
        L.Conv2D(2, 2, dilation_rate=(1, 2), data_format="channels_first", name="c3")),
    "conv3d": lambda: model(
        (4, 6, 5, 2), L.Conv3D(3, (2, 3, 2), strides=(1, 2, 1), padding="same", name="c1"),
        L.Conv3D(2, 2, activation="sigmoid", name="c2")),
    "conv2d_transpose": lambda: model(
        (5, 4, 3), L.Conv2DTranspose(3, 3, strides=2, padding="same", name="t1"),
        L.Conv2DTranspose(2, (3, 2), strides=(2, 3), name="t2")),
    "conv2d_transpose_b": lambda: model(
        (3, 4, 2), L.Conv2DTranspose(2, 3, dilation_rate=2, padding="same",
                                     activation="relu", name="t3"),
        L.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=1, name="t4"),
        L.Conv2DTranspose(1, 3, strides=2, output_padding=(1, 0), name="t5"),
        L.Conv2DTranspose(1, (2, 3), strides=(3, 2), padding="same", output_padding=(2, 1),
                          name="t6")),
    "conv2d_transpose_cf": lambda: model(
        (3, 5, 4), L.Conv2DTranspose(2, 3, strides=2, padding="same",
                                     data_format="channels_first", name="t1")),
    "conv1d_transpose": lambda: model(
        (6, 3), L.Conv1DTranspose(3, 5, strides=2, padding="same", name="t1"),
        L.Conv1DTranspose(2, 2, strides=3, name="t2"),
        L.Conv1DTranspose(2, 4, strides=1, padding="same", name="t3")),
    "conv3d_transpose": lambda: model(
        (3, 3, 2, 2), L.Conv3DTranspose(2, (2, 3, 2), strides=(2, 1, 2), padding="same",
                                        name="t1")),
    "depthwise": lambda: model(
        (7, 6, 3), L.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same",
                                     name="d1"),
        L.DepthwiseConv2D((2, 2), dilation_rate=(1, 2), activation="relu", name="d2")),
    "depthwise1d": lambda: model(
        (9, 4), L.DepthwiseConv1D(3, dilation_rate=2, padding="same", name="d1"),
        L.DepthwiseConv1D(2, depth_multiplier=3, strides=2, use_bias=False, name="d2")),
    "separable": lambda: model(
        (8, 7, 3), L.SeparableConv2D(4, 3, depth_multiplier=2, padding="same",
                                     activation="relu", name="s1"),
        L.SeparableConv2D(2, (2, 3), strides=2, name="s2")),
    "separable1d": lambda: model(
        (10, 3), L.SeparableConv1D(4, 3, strides=2, padding="same", name="s1"),
        L.SeparableConv1D(2, 2, dilation_rate=2, depth_multiplier=2, name="s2")),
    "pooling": lambda: model(
        (7, 6, 3), L.AveragePooling2D(3, strides=2, padding="same", name="p1"),
        L.MaxPooling2D(2, strides=1, padding="same", name="p2")),
    "global_pooling": lambda: model(
        (3, 4, 2), L.GlobalMaxPooling2D(keepdims=True, name="p1"),
        L.GlobalAveragePooling2D(data_format="channels_first", keepdims=True, name="p2")),
    "pooling1d": lambda: model(
        (11, 3), L.MaxPooling1D(3, strides=2, padding="same", name="p1"),
        L.AveragePooling1D(2, padding="same", name="p2")),
    "pooling3d": lambda: model(
        (5, 6, 4, 2), L.MaxPooling3D(2, padding="same", name="p1"),
        L.AveragePooling3D((2, 1, 2), strides=1, padding="same", name="p2")),
    "global_pooling3d": lambda: model(
        (4, 3, 4, 2), L.AveragePooling3D(2, data_format="channels_first", name="p1"),
        L.GlobalMaxPooling3D(keepdims=True, name="p2")),
    "global_pooling3d_avg": lambda: model(
        (4, 3, 4, 2), L.GlobalAveragePooling3D(name="p1")),
    "reshaping2d": lambda: model(
        (5, 4, 2), L.ZeroPadding2D(((1, 2), (0, 1)), name="z"),
        L.Cropping2D(((1, 0), (2, 1)), name="c"),
        L.UpSampling2D(2, interpolation="bilinear", name="u1"),
        L.UpSampling2D((1, 3), name="u2"),
        L.UpSampling2D((3, 2), interpolation="bilinear", data_format="channels_first",
                       name="u3")),
    "reshaping1d": lambda: model(
        (6, 3), L.ZeroPadding1D((2, 1), name="z"), L.Cropping1D((1, 2), name="c"),
        L.UpSampling1D(3, name="u")),
    "reshaping3d": lambda: model(
        (3, 4, 2, 2), L.ZeroPadding3D(((1, 0), (0, 2), (1, 1)), name="z"),
        L.Cropping3D(((0, 1), (1, 1), (0, 1)), name="c"),
        L.UpSampling3D((2, 1, 2), name="u")),
    "autoencoder": lambda: model(
        (8, 8, 1), L.Conv2D(4, 3, activation="relu", padding="same", name="e1"),
        L.MaxPooling2D(2, padding="same", name="e2"),
        L.Conv2D(2, 3, activation="relu", padding="same", strides=2, name="e3"),
        L.Conv2DTranspose(2, 3, strides=2, activation="relu", padding="same", name="d1"),
        L.Conv2DTranspose(4, 3, strides=2, activation="relu", padding="same", name="d2"),
        L.Conv2D(1, 3, activation="sigmoid", padding="same", name="d3")),
}


def main():
    rng = np.random.default_rng(0)
    for name, make in FIXTURES.items():
        keras.utils.set_random_seed(1)
        m = make()
        for layer in m.layers:          # non-zero biases so they are checked too
            ws = layer.get_weights()
            if ws:
                layer.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.5
                                   for w in ws])
        x = rng.standard_normal((2,) + m.input_shape[1:]).astype(np.float32)
        y = np.asarray(m.predict(x, verbose=0))
        arrays = {"x": x, "y": y}
        for layer in m.layers:
            for i, w in enumerate(layer.get_weights()):
                arrays[f"w__{layer.name}__{i}"] = w
        m.save(os.path.join(HERE, f"{name}.keras"))
        m.save(os.path.join(HERE, f"{name}.h5"))
        np.savez(os.path.join(HERE, f"{name}.npz"), **arrays)
        print(name, x.shape, "->", y.shape)


if __name__ == "__main__":
    main()
