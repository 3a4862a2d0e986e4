"""keras.ops.nn additions: values against real Keras (tests/data/keras_ops/nn.npz,
made by make_nn.py there) and gradients against float64 central differences."""
import os

import functools

import numpy as np
import pytest

from ckeras import ops
from ckeras.ops import nn
from ckeras.testing import check_op_gradients

RNG = np.random.default_rng(3)
GOLDEN = np.load(os.path.join(os.path.dirname(__file__), "..", "data", "keras_ops", "nn.npz"))

ELEMENTWISE = ["celu", "hard_shrink", "hard_swish", "hard_tanh", "soft_shrink", "sparse_plus",
               "squareplus", "tanh_shrink", "sparse_sigmoid", "sparsemax", "glu"]

# case name in nn.npz -> the same call in ckeras (inputs in order)
CASES = {n: getattr(ops, n) for n in ELEMENTWISE}
CASES.update({
    "threshold": lambda a: ops.threshold(a, 0.3, -2.0),
    "attn_gqa": lambda a, b, c: ops.dot_product_attention(a, b, c),
    "attn_bias_mask": lambda a, b, c, d, e: ops.dot_product_attention(a, b, c, bias=d, mask=e),
    "attn_causal_scale": lambda a, b, c: ops.dot_product_attention(a, b, c, scale=0.3,
                                                                   is_causal=True),
    "layer_norm": lambda a, c, d: ops.layer_normalization(a, c, d),
    "layer_norm_axes": lambda a: ops.layer_normalization(a, axis=(1, 2), epsilon=1e-3),
    "rms_norm": lambda a, c: ops.rms_normalization(a, c),
    "multi_hot": lambda a: ops.multi_hot(a, num_classes=6),
    "multi_hot_1d": lambda a: ops.multi_hot(a, num_classes=4),
    "psnr": lambda a, c: ops.psnr(a, c, 2.0),
    "depth_to_space": lambda a: ops.depth_to_space(a, 2),
    "space_to_depth": lambda a: ops.space_to_depth(a, 2),
    "depth_to_space_cf": lambda a: ops.depth_to_space(a, 2, data_format="channels_first"),
    "conv_transpose_outpad": lambda a, w: ops.conv_transpose(
        a, w, strides=(2, 3), padding="same", output_padding=(1, 0)),
    "conv_transpose_dil": lambda a, w: ops.conv_transpose(a, w, dilation_rate=2),
    "conv_transpose_1d": lambda a, w: ops.conv_transpose(a, w, strides=3, padding="valid"),
    "depthwise_same_2": lambda a, w: ops.depthwise_conv(a, w, strides=2, padding="same"),
    "depthwise_dil": lambda a, w: ops.depthwise_conv(a, w, dilation_rate=2),
    "separable": lambda a, w, p: ops.separable_conv(a, w, p, padding="same"),
    "adaptive_avg_1d": lambda a: ops.adaptive_average_pool(a, 3),
    "unfold": lambda a: ops.unfold(a, (2, 3), dilation=1, padding=1, stride=(2, 1)),
    "unfold_dil": lambda a: ops.unfold(a, 2, dilation=2),
    "fold": lambda a: ops.fold(a, (6, 5), (2, 3), padding=(0, 1), stride=(1, 1)),
    "polar": ops.polar,
    "ctc_loss": ops.ctc_loss,
    "ctc_loss_blank4": lambda a, c, d, e: ops.ctc_loss(a, c, d, e, mask_index=4),
    "ctc_greedy": ops.ctc_decode,
    "ctc_greedy_nomerge": lambda a, c: ops.ctc_decode(a, c, merge_repeated=False, mask_index=2),
})
for _w, _top, _blank in ((1, 1, 0), (4, 3, 0), (20, 2, 4)):
    CASES[f"ctc_beam_{_w}_{_top}_{_blank}"] = (lambda w, t, b: lambda a, c: ops.ctc_decode(
        a, c, strategy="beam_search", beam_width=w, top_paths=t, mask_index=b))(_w, _top, _blank)
for _pad in ("valid", "same"):
    for _s in (1, 2):
        CASES[f"conv_transpose_{_pad}_{_s}"] = (
            lambda p, s: lambda a, w: ops.conv_transpose(a, w, strides=s, padding=p))(_pad, _s)
for _size in ((3, 2), (4, 4), 5):
    _name = "x".join(map(str, np.atleast_1d(_size)))
    CASES[f"adaptive_avg_{_name}"] = (lambda s: lambda a: ops.adaptive_average_pool(a, s))(_size)
    CASES[f"adaptive_max_{_name}"] = (lambda s: lambda a: ops.adaptive_max_pool(a, s))(_size)


def _load(key):
    a = GOLDEN[key]
    return GOLDEN[str(a)] if a.dtype.kind == "U" else a   # a shared input, by name


def _golden(name):
    ins, outs, i = [], [], 0
    while f"{name}__in{i}" in GOLDEN.files:
        ins.append(_load(f"{name}__in{i}"))
        i += 1
    i = 0
    while f"{name}__out{i}" in GOLDEN.files:
        outs.append(GOLDEN[f"{name}__out{i}"])
        i += 1
    return ins, outs


def test_every_golden_case_is_checked():
    assert {k.split("__")[0] for k in GOLDEN.files} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras(name):
    ins, outs = _golden(name)
    got = CASES[name](*ins)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(outs)
    for g, want in zip(got, outs):
        g = np.asarray(g)
        assert g.shape == want.shape
        if want.dtype.kind in "iub":
            np.testing.assert_array_equal(g, want)
        else:
            np.testing.assert_allclose(g, want, rtol=2e-5, atol=2e-5)


check = functools.partial(check_op_gradients, rng=RNG)


def away_from_kinks(shape, kinks, gap=0.05):
    x = RNG.uniform(-2.5, 2.5, shape)
    for k in kinks:
        x = np.where(np.abs(x - k) < gap, k + gap * 2, x)
    return x


KINKS = {"hard_shrink": [-0.5, 0.5], "soft_shrink": [-0.5, 0.5], "hard_tanh": [-1, 1],
         "sparse_plus": [-1, 1], "sparse_sigmoid": [-1, 1], "hard_swish": [-3, 3],
         "celu": [0]}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_gradients(name):
    check(getattr(ops, name), away_from_kinks((4, 6), KINKS.get(name, [])))


def test_threshold_and_sparsemax_gradients():
    check(lambda a: ops.threshold(a, 0.3, -2.0), away_from_kinks((3, 5), [0.3]))
    check(lambda a: ops.sparsemax(a, axis=0), RNG.normal(size=(5, 3)))
    check(lambda a: ops.celu(a, alpha=0.5), away_from_kinks((3, 4), [0]))


def test_glu_rejects_odd_axis():
    with pytest.raises(ValueError, match="even"):
        ops.glu(np.ones((2, 5)))


def test_attention_gradients():
    q, k, v = RNG.normal(size=(2, 3, 4, 2)), RNG.normal(size=(2, 4, 2, 2)), \
        RNG.normal(size=(2, 4, 2, 2))
    bias = RNG.normal(size=(1, 4, 3, 4))
    mask = RNG.uniform(size=(2, 1, 3, 4)) > 0.3
    mask[..., 0] = True
    check(lambda a, b, c, d: ops.dot_product_attention(a, b, c, bias=d, mask=mask), q, k, v, bias)
    check(lambda a, b, c: ops.dot_product_attention(a, b, c, is_causal=True, scale=0.7),
          q, RNG.normal(size=(2, 3, 4, 2)), RNG.normal(size=(2, 3, 4, 2)))


def test_attention_errors():
    x = np.ones((2, 3, 4, 2))
    with pytest.raises(ValueError, match="4-D"):
        ops.dot_product_attention(x[0], x[0], x[0])
    with pytest.raises(ValueError, match="multiple"):
        ops.dot_product_attention(x, np.ones((2, 3, 3, 2)), np.ones((2, 3, 3, 2)))
    with pytest.raises(ValueError, match="flash_attention"):
        ops.dot_product_attention(x, x, x, flash_attention=True)
    with pytest.raises(ValueError, match="soft_cap"):
        ops.dot_product_attention(x, x, x, attn_logits_soft_cap=10.0)


def test_normalization_gradients():
    x, g, b = RNG.normal(size=(2, 3, 5)), RNG.normal(size=(5,)), RNG.normal(size=(5,))
    check(lambda a, c, d: ops.layer_normalization(a, c, d), x, g, b)
    check(lambda a, c: ops.layer_normalization(a, c, axis=(1, 2)), x, RNG.normal(size=(3, 5)))
    check(lambda a, c: ops.rms_normalization(a, c, axis=1), x, RNG.normal(size=(3, 1)))
    check(lambda a, c: ops.psnr(a, c, 1.0), x, RNG.normal(size=x.shape))


def test_space_depth_round_trip_and_gradient():
    x = RNG.normal(size=(2, 4, 6, 3))
    np.testing.assert_array_equal(ops.depth_to_space(ops.space_to_depth(x, 2), 2), x)
    check(lambda a: ops.depth_to_space(a, 2) * ops.depth_to_space(a, 2), RNG.normal(size=(1, 2, 3, 8)))
    with pytest.raises(ValueError, match="divisible"):
        ops.depth_to_space(np.ones((1, 2, 2, 3)), 2)


def test_conv_family_gradients():
    x = RNG.normal(size=(2, 5, 4, 3))
    check(lambda a, w: ops.conv_transpose(a, w, strides=2, padding="same"), x,
          RNG.normal(size=(3, 2, 2, 3)))
    check(lambda a, w: ops.conv_transpose(a, w, strides=(2, 1), padding="valid",
                                          output_padding=1, dilation_rate=1), x,
          RNG.normal(size=(2, 2, 2, 3)))
    check(lambda a, w: ops.depthwise_conv(a, w, strides=(1, 2), padding="same"), x,
          RNG.normal(size=(2, 3, 3, 2)))
    check(lambda a, w, p: ops.separable_conv(a, w, p), x, RNG.normal(size=(2, 2, 3, 1)),
          RNG.normal(size=(1, 1, 3, 4)))
    check(lambda a, w: ops.depthwise_conv(a, w, data_format="channels_first"),
          RNG.normal(size=(1, 3, 5, 4)), RNG.normal(size=(2, 2, 3, 1)))


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv(y, w), x> == <y, conv_transpose(x, w)> (Keras's kernel layout (*k, out, in))."""
    y = RNG.normal(size=(1, 9, 7, 2))
    w = RNG.normal(size=(3, 3, 2, 4))
    x = RNG.normal(size=np.shape(ops.conv(y, w, strides=2)))
    yt = np.asarray(ops.conv_transpose(x, w, strides=2))
    assert yt.shape == y.shape
    np.testing.assert_allclose(np.sum(np.asarray(ops.conv(y, w, strides=2)) * x), np.sum(y * yt),
                               rtol=1e-10)


def test_pool_and_fold_gradients():
    x = RNG.normal(size=(2, 7, 5, 2))
    check(lambda a: ops.adaptive_average_pool(a, (3, 2)), x)
    check(lambda a: ops.adaptive_max_pool(a, (3, 4)), x)
    check(lambda a: ops.adaptive_average_pool(a, 2, data_format="channels_first"),
          RNG.normal(size=(1, 2, 5, 3, 4)))
    c = RNG.normal(size=(2, 2, 5, 4))
    check(lambda a: ops.unfold(a, 2, padding=1, stride=2), c)
    check(lambda a: ops.fold(a, (5, 4), 2, padding=1, stride=2),
          RNG.normal(size=(2, 8, 9)))


def test_fold_is_the_adjoint_of_unfold():
    x = RNG.normal(size=(1, 2, 6, 5))
    cols = np.asarray(ops.unfold(x, (3, 2), dilation=(1, 2), padding=1, stride=(2, 1)))
    r = RNG.normal(size=cols.shape)
    back = np.asarray(ops.fold(r, (6, 5), (3, 2), dilation=(1, 2), padding=1, stride=(2, 1)))
    np.testing.assert_allclose(np.sum(cols * r), np.sum(x * back), rtol=1e-10)


def test_ctc_loss_gradient():
    logits = RNG.normal(size=(3, 6, 4))
    labels = np.array([[1, 2, 2], [3, 0, 0], [2, 1, 3]])
    check(lambda z: ops.ctc_loss(labels, z, np.array([3, 1, 2]), np.array([6, 4, 5])), logits,
          rtol=1e-5, atol=1e-7)
    check(lambda z: ops.ctc_loss(labels, z, np.array([0, 1, 3]), np.array([3, 6, 6]),
                                 mask_index=0), logits, rtol=1e-5, atol=1e-7)


def test_ctc_errors():
    with pytest.raises(ValueError, match="strategy"):
        ops.ctc_decode(np.ones((1, 3, 4)), np.array([3]), strategy="best")


def test_multi_hot_and_polar():
    assert ops.multi_hot(np.array([0, 2]), 3).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="sparse"):
        ops.multi_hot(np.array([0]), 3, sparse=True)
    z = ops.polar(np.array([2.0]), np.array([np.pi / 2]))
    np.testing.assert_allclose(z, [2j], atol=1e-12)


def test_names_at_top_level():
    for name in nn.__all__:
        assert getattr(ops, name) is getattr(nn, name) or name in ("sigmoid", "softmax")


def test_beam_search_scores_are_the_ctc_likelihoods():
    """With a beam wide enough to keep every prefix, each decoded path's score is
    log p(path) = -ctc_loss(path)."""
    logits = RNG.normal(size=(1, 4, 3))
    paths, scores = ops.ctc_decode(logits, np.array([4]), strategy="beam_search",
                                   beam_width=100, top_paths=3)
    for k in range(3):
        path = paths[k, 0][paths[k, 0] >= 0]
        target = np.zeros((1, 4), int)
        target[0, :len(path)] = path
        loss = ops.ctc_loss(target, logits, np.array([len(path)]), np.array([4]))
        np.testing.assert_allclose(scores[0, k], -loss[0], rtol=1e-6)


def test_moveaxis_any_axes():
    """ops.moveaxis (used by the channels_first paths here) moves any axes as numpy."""
    x = RNG.normal(size=(2, 3, 4, 5))
    for s, d in [(1, 0), (0, -1), (1, 3), ((0, 1), (2, 3)), (-1, 1), ((3, 0), (0, 3))]:
        np.testing.assert_array_equal(ops.moveaxis(x, s, d), np.moveaxis(x, s, d))
    check(lambda a: ops.moveaxis(a, 1, -1), x)
