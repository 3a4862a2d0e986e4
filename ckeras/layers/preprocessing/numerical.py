"""Numerical preprocessing layers: Normalization, Rescaling, Discretization,
CategoryEncoding."""
from ckeras.config import epsilon  # the smallest std divided by, as Keras
import numpy as np

from ckeras.layers.layer import as_float32
from ckeras.layers.preprocessing.base import (PreprocessingLayer, adapt_batches,
                                              encode_categorical, encoded_shape)



class Normalization(PreprocessingLayer):
    """y = (x - mean) / max(sqrt(variance), epsilon()) per position of ``axis``
    (``invert=True``: x * max(sqrt(variance), epsilon()) + mean). Statistics from
    ``mean``/``variance`` or from ``adapt(data)``; adapted ones are the
    non-trainable weights mean, variance, count (saved as Keras does)."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)):
            axis = (int(axis),)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: set both `mean` and `variance` or neither; "
                             f"got mean={mean!r}, variance={variance!r}.")
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError(f"Normalization: `mean` and `variance` must have one shape, "
                             f"got {np.shape(mean)} and {np.shape(variance)}.")
        if mean is not None and np.ndim(mean) > len(self.axis):
            raise ValueError(f"Normalization: `mean` has rank {np.ndim(mean)}, more than the "
                             f"number of axes {self.axis}.")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self.supports_masking = True

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f"Layer {self.name!r} (Normalization): axis {self.axis} is out "
                             f"of range for inputs of rank {ndim}.")
        keep = tuple(sorted(a % ndim for a in self.axis))
        if any(input_shape[a] is None for a in keep):
            raise ValueError(f"Layer {self.name!r} (Normalization): the kept axes {self.axis} "
                             f"must have known sizes, got input shape {tuple(input_shape)}.")
        self._keep = keep
        self._reduce = tuple(a for a in range(ndim) if a not in keep)
        self._broadcast = tuple(input_shape[a] if a in keep else 1 for a in range(ndim))
        stat_shape = tuple(input_shape[a] for a in keep)
        self._build_shape = tuple(input_shape)
        if self.input_mean is None:
            self.adapt_mean = self._stat_weight("mean", stat_shape, "zeros")
            self.adapt_variance = self._stat_weight("variance", stat_shape, "ones")
            self.count = self._stat_weight("count", (), "zeros")
        self.built = True

    def _stat_weight(self, name, shape, init):
        w = self.add_weight(name, shape or (1,), init, trainable=False)
        w.value = np.array(w.value.reshape(shape))    # Variable makes arrays >= 1-D
        return w

    def _stats(self):
        if self.input_mean is not None:
            mean = np.asarray(self.input_mean, np.float32)
            var = np.asarray(self.input_variance, np.float32)
            if mean.ndim:
                # the given statistics fill the last kept axes
                shape = [1] * len(self._broadcast)
                for i in range(1, mean.ndim + 1):
                    shape[self._keep[-i]] = mean.shape[-i]
                mean, var = mean.reshape(shape), var.reshape(shape)
            return (np.broadcast_to(mean, self._broadcast),
                    np.broadcast_to(var, self._broadcast))
        return (self.adapt_mean.value.reshape(self._broadcast),
                self.adapt_variance.value.reshape(self._broadcast))

    def adapt(self, data, batch_size=None, steps=None):
        """Mean and (biased) variance over every axis but ``axis``, merged
        across batches."""
        if self.input_mean is not None:
            raise ValueError(f"Layer {self.name!r} (Normalization) was given `mean` and "
                             "`variance`; it cannot also be adapted.")
        total_mean = total_var = None
        count = 0
        for batch in adapt_batches(data, batch_size, steps):
            batch = np.asarray(batch, np.float64)
            if not self.built:
                self._maybe_build((None,) + batch.shape[1:])
            if batch.ndim != len(self._build_shape) or any(
                    batch.shape[a] != self._build_shape[a] for a in self._keep):
                raise ValueError(f"Layer {self.name!r} (Normalization): adapt() got a batch "
                                 f"of shape {batch.shape}, the layer was built for "
                                 f"{self._build_shape}.")
            n = int(np.prod([batch.shape[a] for a in self._reduce], dtype=np.int64))
            mean = batch.mean(axis=self._reduce)
            var = batch.var(axis=self._reduce)
            if total_mean is None:
                total_mean, total_var, count = mean, var, n
                continue
            w = n / (count + n)
            new_mean = total_mean * (1 - w) + mean * w
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - w)
                         + (var + (mean - new_mean) ** 2) * w)
            total_mean, count = new_mean, count + n
        if total_mean is None:
            raise ValueError(f"Layer {self.name!r} (Normalization): adapt() got no data.")
        self.adapt_mean.assign(total_mean)
        self.adapt_variance.assign(total_var)     # (Keras leaves `count` at 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def _call(self, x, training):
        x = as_float32(np.asarray(x))
        mean, var = self._stats()
        std = np.maximum(np.sqrt(var), epsilon()).astype(x.dtype)
        if self.invert:
            return (x * std + mean).astype(x.dtype, copy=False)
        return ((x - mean) / std).astype(x.dtype, copy=False)

    def _backward(self, dy, x, y):
        _, var = self._stats()
        std = np.maximum(np.sqrt(var), epsilon()).astype(dy.dtype)
        return dy * std if self.invert else dy / std

    def get_config(self):
        config = super().get_config()
        config.update({"axis": list(self.axis), "invert": self.invert,
                       "mean": np.array(self.input_mean).tolist(),
                       "variance": np.array(self.input_variance).tolist()})
        return config


class Rescaling(PreprocessingLayer):
    """y = x * scale + offset (scale / offset may be per-channel lists)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _call(self, x, training):
        x = as_float32(np.asarray(x))
        scale = np.asarray(self.scale, x.dtype)
        return (x * scale + np.asarray(self.offset, x.dtype)).astype(x.dtype, copy=False)

    def _backward(self, dy, x, y):
        return dy * np.asarray(self.scale, dy.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": _json_number(self.scale), "offset": _json_number(self.offset)})
        return config


def _json_number(v):
    return np.asarray(v).tolist() if not isinstance(v, (int, float)) else v


class CategoryEncoding(PreprocessingLayer):
    """Integer ids in [0, num_tokens) -> "one_hot", "multi_hot" (default) or
    "count" vectors (``count_weights`` weighs the counts)."""

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"CategoryEncoding: `output_mode` must be 'count', 'one_hot' or "
                             f"'multi_hot', got {output_mode!r}.")
        if num_tokens is None:
            raise TypeError("CategoryEncoding: missing required argument `num_tokens` (the "
                            "number of distinct ids; use IntegerLookup when unknown).")
        if isinstance(num_tokens, bool) or int(num_tokens) < 1:
            raise ValueError(f"CategoryEncoding: `num_tokens` must be an integer >= 1, got "
                             f"{num_tokens!r}.")
        if sparse:
            raise NotImplementedError("CategoryEncoding: sparse=True is not supported.")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False
        self.input_dtype = "int32"

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def __call__(self, inputs, count_weights=None, **kwargs):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(f"Layer {self.name!r}: `count_weights` is only used with "
                                 "output_mode='count'.")
            return encode_categorical(_ids(self, inputs), "count", self.num_tokens,
                                      self.name, count_weights)
        return super().__call__(inputs, **kwargs)

    def _call(self, x, training):
        return encode_categorical(_ids(self, x), self.output_mode, self.num_tokens, self.name)

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config


def _ids(layer, x):
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.array_equal(x, np.floor(x)):
            raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) expects integer "
                             "ids, got non-integer values.")
        x = x.astype(np.int64)
    elif x.dtype.kind not in "iub":
        raise TypeError(f"Layer {layer.name!r} ({type(layer).__name__}) expects integer ids, "
                        f"got dtype {x.dtype}.")
    return x.astype(np.int64, copy=False)


class Discretization(PreprocessingLayer):
    """Bucket index of each value: i such that boundaries[i-1] <= x <
    boundaries[i], from ``bin_boundaries`` or from ``adapt`` with ``num_bins``
    (Keras's approximate quantiles, tolerance ``epsilon``); then encoded with
    ``output_mode`` ("int", "one_hot", "multi_hot", "count")."""

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, **kwargs):
        super().__init__(**kwargs)
        if sparse:
            raise NotImplementedError("Discretization: sparse=True is not supported.")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Discretization: unknown `output_mode` {output_mode!r}.")
        if num_bins is not None and bin_boundaries is not None and \
                len(bin_boundaries) != int(num_bins) - 1:   # an adapted layer has both
            raise ValueError(f"Discretization: {len(bin_boundaries)} `bin_boundaries` do not "
                             f"make `num_bins`={num_bins} bins.")
        if num_bins is not None and (isinstance(num_bins, bool) or int(num_bins) < 1):
            raise ValueError(f"Discretization: `num_bins` must be >= 1, got {num_bins!r}.")
        self.bin_boundaries = None if bin_boundaries is None else [float(b) for b in
                                                                    bin_boundaries]
        if self.bin_boundaries is not None and sorted(self.bin_boundaries) != self.bin_boundaries:
            raise ValueError(f"Discretization: `bin_boundaries` must be sorted, got "
                             f"{bin_boundaries!r}.")
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon = float(epsilon)
        self.output_mode = output_mode
        self.sparse = False
        self.output_dtype = "int64" if output_mode == "int" else "float32"

    def adapt(self, data, batch_size=None, steps=None):
        if self.num_bins is None:
            raise ValueError(f"Layer {self.name!r} (Discretization) was given "
                             "`bin_boundaries`; construct it with `num_bins` to adapt.")
        summary = np.zeros((2, 0), np.float32)
        for batch in adapt_batches(data, batch_size, steps):
            summary = _merge_summaries(_summarize(np.asarray(batch, np.float32), self.epsilon),
                                       summary, self.epsilon)
        self.bin_boundaries = _compress_summary(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def compute_output_shape(self, input_shape):
        depth = None if self.bin_boundaries is None else len(self.bin_boundaries) + 1
        if depth is None and self.num_bins is not None:
            depth = self.num_bins
        return encoded_shape(input_shape, self.output_mode, depth)

    def _call(self, x, training):
        if self.bin_boundaries is None:
            raise ValueError(f"Layer {self.name!r} (Discretization): pass `bin_boundaries` "
                             "or call adapt() before using the layer.")
        idx = np.digitize(np.asarray(x, np.float32),
                          np.asarray(self.bin_boundaries, np.float32)).astype(np.int64)
        return encode_categorical(idx, self.output_mode, len(self.bin_boundaries) + 1,
                                  self.name)

    def get_config(self):
        config = super().get_config()
        config.update({"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                       "epsilon": self.epsilon, "output_mode": self.output_mode,
                       "sparse": False})
        return config


# Keras's quantile summary (from the published algorithm in its docs): a
# summary is 2 rows, values and weights; batches are summarised, merged, and
# compressed by interpolating cumulative weights.
def _summarize(values, epsilon):
    values = np.sort(values.reshape(-1))
    step = max(values.size * epsilon, 1)
    picked = values[int(step - 1)::int(step)]
    return np.stack([picked, np.full_like(picked, step)])


def _merge_summaries(a, b, epsilon):
    merged = np.concatenate((a, b), axis=1)
    merged = merged[:, np.argsort(merged[0], kind="stable")]
    return _compress_summary(merged, epsilon)


def _compress_summary(summary, epsilon):
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum = summary[1].cumsum()
    frac = cum / cum[-1]
    bins = np.interp(percents, frac, summary[0])
    cum_new = np.interp(percents, frac, cum)
    weights = cum_new - np.concatenate(([0.0], cum_new[:-1]))
    return np.stack((bins, weights)).astype(np.float32)
