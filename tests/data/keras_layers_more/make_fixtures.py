"""Golden values of Keras 3 layers ckeras added late (EinsumDense,
RMSNormalization, SpectralNormalization, ReversibleEmbedding, HashedCrossing,
Pipeline, adaptive pooling, colour/geometry augmentations).

Run with real Keras (the tests never import it):
    KERAS_BACKEND=jax /work/venvs/peers/bin/python make_fixtures.py
Writes layers_more.npz: per case the input(s), the weights (w0, w1, ...) in
get_weights() order, the output and the layer's config as JSON.
"""
import json

import numpy as np
import keras

rng = np.random.default_rng(0)
out = {}


def record(name, layer, x, class_name=None, build_first=False, **call_kwargs):
    """Run ``layer`` on x once, with random weights of its own, and store all.
    ``build_first``: build it with a call at inference first and also store
    the weights after the recorded call (a0, a1, ...: layers that update them)."""
    if build_first:
        layer(x)
        for i, w in enumerate(layer.get_weights()):
            out[f"{name}/w{i}"] = np.asarray(w)
    y = layer(x, **call_kwargs)
    for i, w in enumerate(layer.get_weights()):
        out[f"{name}/{'a' if build_first else 'w'}{i}"] = np.asarray(w)
    if call_kwargs:
        out[f"{name}/kwargs"] = np.array(json.dumps(call_kwargs))
    if class_name:
        out[f"{name}/class"] = np.array(class_name)
    xs = x if isinstance(x, (list, tuple)) else [x]
    for i, xi in enumerate(xs):
        out[f"{name}/x{i}"] = np.asarray(xi)
    ys = y if isinstance(y, (list, tuple)) else [y]
    for i, yi in enumerate(ys):
        out[f"{name}/y{i}"] = np.asarray(yi)
    out[f"{name}/config"] = np.array(json.dumps(layer.get_config()))


def normal(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---- EinsumDense ---------------------------------------------------------------------------
EINSUM = {
    "einsum_dense": ("ab,bc->ac", 4, "c", "relu", (3, 5)),
    "einsum_seq": ("abc,cd->abd", (None, 4), "d", None, (2, 3, 5)),
    "einsum_left": ("...b,bc->...c", 4, "c", None, (2, 3, 5)),
    "einsum_right": ("abc...,cd->abd...", (3, 4), "bd", "tanh", (2, 3, 5, 2)),
    "einsum_heads": ("abc,cde->abde", (None, 2, 3), "de", None, (2, 4, 5)),
    "einsum_reduce": ("abc,cd->ad", 3, None, None, (2, 4, 5)),
}
for name, (eq, shape, bias, act, xshape) in EINSUM.items():
    layer = keras.layers.EinsumDense(eq, output_shape=shape, bias_axes=bias, activation=act,
                                     bias_initializer="random_normal")
    record(name, layer, normal(*xshape))

# ---- RMSNormalization ----------------------------------------------------------------------
for name, axis in (("rmsnorm_last", -1), ("rmsnorm_axes", [1, 2])):
    layer = keras.layers.RMSNormalization(axis=axis)
    x = normal(2, 3, 4)
    layer(x)
    layer.set_weights([normal(*w.shape) for w in layer.get_weights()])
    record(name, layer, x)

# ---- SpectralNormalization ----------------------------------------------------------------
record("spectral_dense", keras.layers.SpectralNormalization(
    keras.layers.Dense(3, bias_initializer="random_normal"), power_iterations=2),
    normal(4, 5), build_first=True, training=True)
record("spectral_conv", keras.layers.SpectralNormalization(
    keras.layers.Conv2D(2, 3, padding="same")), normal(2, 5, 5, 3), build_first=True,
    training=True)
record("spectral_inference", keras.layers.SpectralNormalization(keras.layers.Dense(3)),
       normal(4, 5), build_first=True, training=False)

# ---- ReversibleEmbedding ------------------------------------------------------------------
record("reversible_tied", keras.layers.ReversibleEmbedding(10, 4), normal(2, 3, 4),
       reverse=True)
record("reversible_untied", keras.layers.ReversibleEmbedding(
    10, 4, tie_weights=False, logit_soft_cap=2.0, embeddings_initializer="random_normal"),
    normal(2, 3, 4) * 3, reverse=True)
record("reversible_forward", keras.layers.ReversibleEmbedding(10, 4, mask_zero=True),
       rng.integers(0, 10, (2, 5)).astype("int32"))
ids = keras.Input((5,), dtype="int32")
emb = keras.layers.ReversibleEmbedding(12, 6, name="tokens")
h = keras.layers.Dense(6, activation="tanh")(emb(ids))
lm = keras.Model(ids, emb(h, reverse=True))
out["lm/x"] = rng.integers(0, 12, (3, 5)).astype("int32")
out["lm/y"] = np.asarray(lm.predict(out["lm/x"], verbose=0))
lm.save("reversible_lm.keras")

# ---- Pipeline -------------------------------------------------------------------------------
record("pipeline_dense", keras.layers.Pipeline([
    keras.layers.Dense(3, bias_initializer="random_normal"),
    keras.layers.Dense(2, activation="relu", bias_initializer="random_normal")]), normal(4, 5))
record("pipeline_rescale", keras.layers.Pipeline([keras.layers.Rescaling(0.5, offset=1.0),
                                                  keras.layers.RandomFlip(seed=3)]),
       normal(2, 4, 4, 3), training=False)

# ---- adaptive pooling -----------------------------------------------------------------------
POOL = {
    "1d": ((2, 7, 3), 3), "1d_up": ((2, 3, 2), 5), "2d": ((2, 7, 5, 3), (3, 2)),
    "2d_even": ((1, 8, 8, 2), 4), "3d": ((1, 5, 4, 6, 2), (2, 3, 4)),
}
for kind in ("Average", "Max"):
    for name, (shape, size) in POOL.items():
        rank = name[0]
        for fmt in ("channels_last", "channels_first"):
            cls = f"Adaptive{kind}Pooling{rank.upper()}D"
            layer = getattr(keras.layers, cls)(size, data_format=fmt)
            case = f"adaptive_{kind.lower()}{name}_{fmt[9:]}"
            record(case, layer, normal(*shape), class_name=cls)

# ---- a model file with them all (.keras and .h5) -------------------------------------------
inp = keras.Input((6,))
h = keras.layers.SpectralNormalization(keras.layers.Dense(5))(inp, training=True)
h = keras.layers.RMSNormalization()(h)
h = keras.layers.EinsumDense("ab,bc->ac", 4, bias_axes="c", bias_initializer="ones")(h)
model = keras.Model(inp, h)
x = normal(3, 6)
out["model/x"] = x
out["model/y"] = np.asarray(model.predict(x, verbose=0))
model.save("layers_more.keras")
model.save("layers_more.h5")

np.savez("layers_more.npz", **out)
print(sorted(out))
