"""Generate golden outputs of Keras 3 activation / utility layers.

Run with real Keras (not needed by the tests):
    KERAS_BACKEND=jax /work/venvs/peers/bin/python make_fixtures.py
Writes activation_utility.npz: for each case an input, the Keras output,
and the Keras config (JSON) of the layer.
"""
import json

import numpy as np
import keras

rng = np.random.default_rng(0)
x = (rng.standard_normal((3, 4, 6)) * 2).astype(np.float32)
x[0, 0, :3] = 0.0
cases = {
    "relu_default": keras.layers.ReLU(),
    "relu_all": keras.layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5),
    "leaky_default": keras.layers.LeakyReLU(),
    "leaky_02": keras.layers.LeakyReLU(negative_slope=0.2),
    "elu": keras.layers.ELU(alpha=0.7),
    "softmax_last": keras.layers.Softmax(),
    "softmax_axis1": keras.layers.Softmax(axis=1),
    "softmax_axes": keras.layers.Softmax(axis=[1, 2]),
    "unitnorm": keras.layers.UnitNormalization(),
    "unitnorm_axes": keras.layers.UnitNormalization(axis=[1, 2]),
    "groupnorm": keras.layers.GroupNormalization(groups=3, gamma_initializer="random_normal",
                                                 beta_initializer="random_normal"),
    "prelu": keras.layers.PReLU(alpha_initializer="random_uniform", shared_axes=[1]),
}
out = {"x": x}
for name, layer in cases.items():
    y = np.asarray(layer(x))
    out[name + "/y"] = y
    out[name + "/config"] = np.array(json.dumps(layer.get_config()))
    for i, w in enumerate(layer.get_weights()):
        out[f"{name}/w{i}"] = w
mask = rng.random((3, 4, 6)) > 0.3
mask[1, 2, :] = False
out["softmax_masked/mask"] = mask
out["softmax_masked/y"] = np.asarray(keras.layers.Softmax()(x, mask=mask))
np.savez("activation_utility.npz", **out)
print(sorted(out))
