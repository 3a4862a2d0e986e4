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


def record(name, layer, x, call=None, **call_kwargs):
    """Run ``layer`` on x once, with random weights of its own, and store all."""
    y = layer(x, **call_kwargs) if call is None else call(layer, x)
    for i, w in enumerate(layer.get_weights()):
        out[f"{name}/w{i}"] = np.asarray(w)
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

np.savez("layers_more.npz", **out)
print(sorted(out))
