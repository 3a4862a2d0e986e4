"""Golden values of keras.ops.nn for tests/ops/test_nn_ops_extra.py.

Run with real Keras on JAX (never imported by the tests):
    KERAS_BACKEND=jax /work/venvs/peers/bin/python tests/data/keras_ops/make_nn.py
Writes nn.npz beside this script: each entry's inputs (``<case>__in<i>``) and
Keras's output (``<case>__out``), float32.
"""
import os

import numpy as np
from keras import ops

rng = np.random.default_rng(7)
f32 = np.float32
out = {}
_stored = {}   # id of an input array -> the key it was first stored under


def case(name, fn, *inputs):
    res = fn(*inputs)
    for i, a in enumerate(inputs):
        key = f"{name}__in{i}"
        # an input already stored is written as the name of its first copy (keeps the file small)
        out[key] = np.asarray(_stored[id(a)]) if id(a) in _stored else np.asarray(a)
        _stored.setdefault(id(a), key)
    res = res if isinstance(res, (tuple, list)) else (res,)
    for i, r in enumerate(res):
        out[f"{name}__out{i}"] = np.asarray(r)


x = rng.normal(size=(3, 7)).astype(f32) * 2
x6 = x[:, :6]
for n in ["celu", "hard_shrink", "hard_swish", "hard_tanh", "soft_shrink", "sparse_plus",
          "squareplus", "tanh_shrink", "sparse_sigmoid", "sparsemax", "glu"]:
    case(n, getattr(ops, n), x6)
case("threshold", lambda a: ops.threshold(a, 0.3, -2.0), x)

q = rng.normal(size=(2, 4, 4, 8)).astype(f32)
k = rng.normal(size=(2, 5, 2, 8)).astype(f32)
v = rng.normal(size=(2, 5, 2, 8)).astype(f32)
bias = rng.normal(size=(1, 4, 4, 5)).astype(f32)
mask = rng.uniform(size=(2, 1, 4, 5)) > 0.3
case("attn_gqa", lambda a, b, c: ops.dot_product_attention(a, b, c), q, k, v)
case("attn_bias_mask", lambda a, b, c, d, e: ops.dot_product_attention(a, b, c, bias=d, mask=e),
     q, k, v, bias, mask)
case("attn_causal_scale", lambda a, b, c: ops.dot_product_attention(
    a, b, c, scale=0.3, is_causal=True), q, k, v)

y = rng.normal(size=(2, 3, 6)).astype(f32)
g = rng.normal(size=(6,)).astype(f32)
b = rng.normal(size=(6,)).astype(f32)
case("layer_norm", lambda a, c, d: ops.layer_normalization(a, c, d), y, g, b)
case("layer_norm_axes", lambda a: ops.layer_normalization(a, axis=(1, 2), epsilon=1e-3), y)
case("rms_norm", lambda a, c: ops.rms_normalization(a, c), y, g)
case("multi_hot", lambda a: ops.multi_hot(a, num_classes=6), np.array([[0, 2, 2], [5, 1, 0]]))
case("multi_hot_1d", lambda a: ops.multi_hot(a, num_classes=4), np.array([3, 1]))
case("psnr", lambda a, c: ops.psnr(a, c, 2.0), y, y + 0.1 * rng.normal(size=y.shape).astype(f32))

img = rng.normal(size=(1, 4, 6, 4)).astype(f32)
case("depth_to_space", lambda a: ops.depth_to_space(a, 2), img)
case("space_to_depth", lambda a: ops.space_to_depth(a, 2), img)
case("depth_to_space_cf", lambda a: ops.depth_to_space(a, 2, data_format="channels_first"),
     rng.normal(size=(2, 8, 3, 2)).astype(f32))

xi = rng.normal(size=(1, 6, 5, 3)).astype(f32)
wt = rng.normal(size=(3, 2, 4, 3)).astype(f32)   # (*k, out, in)
for pad in ("valid", "same"):
    for s in (1, 2):
        case(f"conv_transpose_{pad}_{s}", lambda a, w: ops.conv_transpose(
            a, w, strides=s, padding=pad), xi, wt)
case("conv_transpose_outpad", lambda a, w: ops.conv_transpose(
    a, w, strides=(2, 3), padding="same", output_padding=(1, 0)), xi, wt)
case("conv_transpose_dil", lambda a, w: ops.conv_transpose(
    a, w, strides=1, padding="valid", dilation_rate=2), xi, wt)
case("conv_transpose_1d", lambda a, w: ops.conv_transpose(a, w, strides=3, padding="valid"),
     rng.normal(size=(2, 5, 3)).astype(f32), rng.normal(size=(4, 2, 3)).astype(f32))
wd = rng.normal(size=(3, 2, 3, 2)).astype(f32)   # (*k, C, M)
case("depthwise_same_2", lambda a, w: ops.depthwise_conv(a, w, strides=2, padding="same"), xi, wd)
case("depthwise_dil", lambda a, w: ops.depthwise_conv(a, w, dilation_rate=2), xi, wd)
wp = rng.normal(size=(1, 1, 6, 5)).astype(f32)
case("separable", lambda a, w, p: ops.separable_conv(a, w, p, padding="same"), xi, wd, wp)

for size in ((3, 2), (4, 4), 5):
    name = "x".join(map(str, np.atleast_1d(size)))
    case(f"adaptive_avg_{name}", lambda a: ops.adaptive_average_pool(a, size), xi)
    case(f"adaptive_max_{name}", lambda a: ops.adaptive_max_pool(a, size), xi)
case("adaptive_avg_1d", lambda a: ops.adaptive_average_pool(a, 3),
     rng.normal(size=(2, 7, 3)).astype(f32))

xc = rng.normal(size=(2, 3, 6, 5)).astype(f32)
case("unfold", lambda a: ops.unfold(a, (2, 3), dilation=1, padding=1, stride=(2, 1)), xc)
case("unfold_dil", lambda a: ops.unfold(a, 2, dilation=2), xc)
blocks = rng.normal(size=(2, 3 * 6, 5 * 5)).astype(f32)
case("fold", lambda a: ops.fold(a, (6, 5), (2, 3), padding=(0, 1), stride=(1, 1)), blocks)

case("polar", lambda a, t: ops.polar(a, t), np.abs(x), x)

# CTC: logits (B, T, C), labels (B, L); blank 0 by default
logits = rng.normal(size=(3, 8, 5)).astype(f32)
labels = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 2]])
tl = np.array([3, 2, 4])
ol = np.array([8, 6, 8])
case("ctc_loss", lambda a, c, d, e: ops.ctc_loss(a, c, d, e), labels, logits, tl, ol)
case("ctc_loss_blank4", lambda a, c, d, e: ops.ctc_loss(a, c, d, e, mask_index=4),
     np.array([[1, 2, 2, 0], [3, 1, 0, 0], [0, 0, 3, 2]]), logits, tl, ol)
case("ctc_greedy", lambda a, c: ops.ctc_decode(a, c), logits, np.array([8, 5, 7]))
case("ctc_greedy_nomerge", lambda a, c: ops.ctc_decode(a, c, merge_repeated=False, mask_index=2),
     logits, np.array([8, 5, 7]))
for width, top, blank in ((1, 1, 0), (4, 3, 0), (20, 2, 4)):
    case(f"ctc_beam_{width}_{top}_{blank}", lambda a, c: ops.ctc_decode(
        a, c, strategy="beam_search", beam_width=width, top_paths=top, mask_index=blank),
        logits, np.array([8, 5, 7]))

np.savez_compressed(os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn.npz"), **out)
print(len(out), "arrays")
