"""The numpy-style and core ops against Keras 3 (jax backend) on the cases
where Keras's rules go beyond numpy's: result dtypes, unique's size padding,
saturation, ties in in_top_k... (tests/data/ops/make_numpy_ops_golden.py)."""
import json
import os

import numpy as np
import pytest

from ckeras import ops

with open(os.path.join(os.path.dirname(__file__), "..", "data", "ops",
                       "numpy_ops_golden.json")) as f:
    GOLDEN = json.load(f)
X = np.asarray(GOLDEN["x"], np.float32)
IDS = np.asarray(GOLDEN["ids"], np.int32)
SIG = np.asarray(GOLDEN["sig"], np.float32)
SPEC = tuple(np.asarray(p, np.float32) for p in GOLDEN["spec"])


def ours():
    x, ids = X, IDS
    return {
        "unique_size": ops.unique(ids, return_counts=True, return_index=True, size=5,
                                  fill_value=-1),
        "unique_trunc": ops.unique(ids, return_counts=True, size=2),
        "scatter_update": ops.scatter_update(x, np.array([[0, 1], [3, 2]]),
                                             np.array([9.0, 8.0], "float32")),
        "scatter": ops.scatter(np.array([[0, 1], [2, 0], [0, 1]]),
                               np.array([1.0, 2.0, 5.0], "float32"), (3, 2)),
        "saturate_cast_uint8": ops.saturate_cast(
            np.array([-300.0, -1.5, 0.4, 254.6, 300.0, np.inf], "float32"), "uint8"),
        "saturate_cast_int16": ops.saturate_cast(np.array([70000, -70000], "int32"), "int16"),
        "in_top_k": ops.in_top_k(np.array([3, 2]), np.array([[0.1, 0.5, 0.3, 0.5],
                                                            [0.9, 0.0, 0.05, 0.05]],
                                                           "float32"), 1),
        "quantile_nearest": ops.quantile(x, [0.1, 0.5, 0.9], axis=1, method="nearest"),
        "quantile_midpoint": ops.quantile(x, 0.3, axis=0, method="midpoint", keepdims=True),
        "median_int": ops.median(np.arange(7, dtype="int32")),
        "correlate_int": ops.correlate(np.arange(5, dtype="int32"), np.array([1, 2], "int32"),
                                       mode="full"),
        "corrcoef": ops.corrcoef(x),
        "digitize": ops.digitize(x, np.array([-0.5, 0.0, 0.5], "float32")),
        "searchsorted": ops.searchsorted(np.array([0.0, 1.0, 1.0, 3.0], "float32"),
                                         np.array([1.0, 2.0], "float32"), side="right"),
        "bincount_2d": ops.bincount(np.array([[0, 1, 1], [2, 2, 0]], "int32"), minlength=4),
        "bincount_w": ops.bincount(ids, weights=np.arange(6, dtype="float32"), minlength=6),
        "average_w": ops.average(x, axis=1, weights=np.arange(1, 6, dtype="float32")),
        "trapezoid": ops.trapezoid(x, dx=0.5, axis=0),
        "vander_int": ops.vander(np.array([1, 2, 3], "int32"), 4),
        "logdet": ops.logdet(np.array([[2.0, 1.0], [1.0, 3.0]], "float32")),
        "slogdet": ops.slogdet(np.array([[0.0, 2.0], [1.0, 0.0]], "float32")),
        "divide_no_nan": ops.divide_no_nan(np.array([1.0, 2.0, 0.0], "float32"),
                                           np.array([0.0, 4.0, 0.0], "float32")),
        "heaviside_int": ops.heaviside(np.array([-1, 0, 2], "int32"),
                                       np.array([5, 5, 5], "int32")),
        "cumprod": ops.cumprod(x, axis=0),
        "nanmean": ops.nanmean(np.array([[1.0, np.nan], [3.0, 4.0]], "float32"), axis=0),
        "select": ops.select([x < -0.3, x > 0.3], [x * 2, x * x], default=-1.0),
        "hamming": ops.hamming(5),
        "kaiser": ops.kaiser(6, 2.5),
        "tri": ops.tri(3, 4, -1),
        "rot90": ops.rot90(x, 3),
        "cross_2d": ops.cross(np.array([[1.0, 2.0]], "float32"),
                              np.array([[3.0, 4.0]], "float32")),
        "segment_max": ops.segment_max(x, np.array([0, 0, 2, 2], "int32"), num_segments=3),
        "histogram": ops.histogram(x.reshape(-1), bins=4),
        "associative_scan": ops.associative_scan(lambda a, b: a * b, x, reverse=True, axis=1),
        "stft_hann": ops.stft(SIG, 8, 3, 16),
        "stft_hamming_nocenter": ops.stft(SIG, 10, 4, 10, window="hamming", center=False),
        "stft_none": ops.stft(SIG, 6, 5, 8, window=None),
        "istft_hann": ops.istft(ops.stft(SIG, 8, 3, 16), 8, 3, 16),
        "istft_len": ops.istft(SPEC, 8, 4, 8, length=30, window="hamming"),
        "istft_none": ops.istft(SPEC, 8, 4, 8, window=None, center=False),
        "argpartition": ops.argpartition(np.array([3.0, 1.0, 2.0, 0.0], "float32"), 1),
    }


OURS = None


@pytest.mark.parametrize("name", sorted(GOLDEN["cases"]))
def test_matches_keras(name):
    global OURS
    if OURS is None:
        OURS = ours()
    want, got = GOLDEN["cases"][name], OURS[name]
    wants = want if isinstance(want, list) else [want]
    gots = list(got) if isinstance(want, list) else [got]
    assert len(gots) == len(wants)
    for g, w in zip(gots, wants):
        g = np.asarray(g)
        assert list(g.shape) == w["shape"], name
        # jax has no int64 by default (numpy's index outputs are int64): kinds there
        if w["dtype"] == "int32" and g.dtype == np.int64:
            assert g.dtype.kind == np.dtype(w["dtype"]).kind, (name, g.dtype, w["dtype"])
        else:
            assert g.dtype == np.dtype(w["dtype"]), (name, g.dtype, w["dtype"])
        value = np.asarray(w["value"], np.float64)
        if name == "argpartition":   # the order on either side of kth is free
            g, value = np.sort(g[:2]), np.sort(value[:2])
        np.testing.assert_allclose(g.astype(np.float64), value,
                                   rtol=2e-6, atol=5e-6 if "stft" in name else 1e-6,
                                   err_msg=name)
