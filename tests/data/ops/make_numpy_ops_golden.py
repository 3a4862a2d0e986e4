"""Golden values of Keras 3's numpy-style and core ops whose semantics go
beyond plain numpy (dtypes, padding rules, saturation...), for
tests/ops/test_numpy_ops_golden.py.

    KERAS_BACKEND=jax /work/venvs/peers/bin/python make_numpy_ops_golden.py
"""
import json
import os

import numpy as np
from keras import ops

rng = np.random.default_rng(3)
x = rng.uniform(-1, 1, (4, 5)).astype("float32")
ids = np.array([3, 1, 3, 2, 1, 3], "int32")
sig = rng.standard_normal((2, 37)).astype("float32")
spec = (rng.standard_normal((2, 9, 5)).astype("float32"),
        rng.standard_normal((2, 9, 5)).astype("float32"))
cases = {
    "unique_size": ops.unique(ids, return_counts=True, return_index=True, size=5, fill_value=-1),
    "unique_trunc": ops.unique(ids, return_counts=True, size=2),
    "scatter_update": ops.scatter_update(x, np.array([[0, 1], [3, 2]]), np.array([9.0, 8.0],
                                                                                 "float32")),
    "scatter": ops.scatter(np.array([[0, 1], [2, 0], [0, 1]]), np.array([1.0, 2.0, 5.0],
                                                                         "float32"), (3, 2)),
    "saturate_cast_uint8": ops.saturate_cast(np.array([-300.0, -1.5, 0.4, 254.6, 300.0, np.inf],
                                                      "float32"), "uint8"),
    "saturate_cast_int16": ops.saturate_cast(np.array([70000, -70000], "int32"), "int16"),
    "in_top_k": ops.in_top_k(np.array([3, 2]), np.array([[0.1, 0.5, 0.3, 0.5],
                                                        [0.9, 0.0, 0.05, 0.05]], "float32"), 1),
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
    "heaviside_int": ops.heaviside(np.array([-1, 0, 2], "int32"), np.array([5, 5, 5], "int32")),
    "cumprod": ops.cumprod(x, axis=0),
    "nanmean": ops.nanmean(np.array([[1.0, np.nan], [3.0, 4.0]], "float32"), axis=0),
    "select": ops.select([x < -0.3, x > 0.3], [x * 2, x * x], default=-1.0),
    "hamming": ops.hamming(5),
    "kaiser": ops.kaiser(6, 2.5),
    "tri": ops.tri(3, 4, -1),
    "rot90": ops.rot90(x, 3),
    "cross_2d": ops.cross(np.array([[1.0, 2.0]], "float32"), np.array([[3.0, 4.0]], "float32")),
    "segment_max": ops.segment_max(x, np.array([0, 0, 2, 2], "int32"), num_segments=3),
    "histogram": ops.histogram(x.reshape(-1), bins=4),
    "associative_scan": ops.associative_scan(lambda a, b: a * b, x, reverse=True, axis=1),
    "stft_hann": ops.stft(sig, 8, 3, 16),
    "stft_hamming_nocenter": ops.stft(sig, 10, 4, 10, window="hamming", center=False),
    "stft_none": ops.stft(sig, 6, 5, 8, window=None),
    "istft_hann": ops.istft(ops.stft(sig, 8, 3, 16), 8, 3, 16),
    "istft_len": ops.istft(spec, 8, 4, 8, length=30, window="hamming"),
    "istft_none": ops.istft(spec, 8, 4, 8, window=None, center=False),
    "argpartition": ops.argpartition(np.array([3.0, 1.0, 2.0, 0.0], "float32"), 1),
}


def to_json(v):
    if isinstance(v, (tuple, list)):
        return [to_json(e) for e in v]
    a = np.asarray(v)
    return {"dtype": str(a.dtype), "value": a.tolist(), "shape": list(a.shape)}


out = {"x": x.tolist(), "ids": ids.tolist(), "sig": sig.tolist(),
       "spec": [spec[0].tolist(), spec[1].tolist()], "cases": {k: to_json(v) for k, v in cases.items()}}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy_ops_golden.json"),
          "w") as f:
    json.dump(out, f)
