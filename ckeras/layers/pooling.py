"""Pooling layers: global and windowed (1-D/2-D/3-D, average/max).

Windowed pooling runs on channels-last (batch, D, H, W, C) views through
``ops.max_pool_*`` / ``ops.avg_pool_*`` (compiled, OpenMP). Max pooling
routes the gradient to the first maximum of each window (row-major order),
as TensorFlow does, through the argmax its forward returns; 'same' average
pooling divides by the number of real (unpadded) inputs in the window, as
Keras does.
"""
import numpy as np

from ckeras import ops
from ckeras.layers.convolutional import from_channels_last5, geo3, to_channels_last5
from ckeras.layers.layer import Layer, as_float32, check_input_ndim

_FORMATS = ("channels_last", "channels_first")


def _data_format(value, cls):
    value = "channels_last" if value is None else str(value).lower()
    if value not in _FORMATS:
        raise ValueError(f"{cls}: `data_format` must be one of {_FORMATS}, got {value!r}.")
    return value


def _int_tuple(value, n, arg, cls):
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   and v > 0 for v in values):
        raise ValueError(f"{cls}: `{arg}` must be a positive integer or a tuple of "
                         f"{n} positive integers, got {value!r}.")
    return tuple(int(v) for v in values)


def _channels_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def _channels_back(y, data_format):
    if data_format == "channels_first":
        return np.ascontiguousarray(np.moveaxis(y, -1, 1))
    return y


# ---- global pooling ------------------------------------------------------------

class _GlobalPooling(Layer):
    _rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self.built = True

    def compute_output_shape(self, input_shape):
        check_input_ndim(self, input_shape, self._rank + 2)
        ones = (1,) * self._rank
        if self.data_format == "channels_last":
            mid = ones if self.keepdims else ()
            return (input_shape[0],) + mid + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + (ones if self.keepdims else ())

    def compute_mask(self, inputs, mask=None):
        return None

    def _flat(self, x):
        """(batch, spatial, channels) for channels_last, (batch, channels,
        spatial) for channels_first, plus the reduced axis."""
        check_input_ndim(self, x.shape, self._rank + 2)
        b = x.shape[0]
        if self.data_format == "channels_last":
            return x.reshape(b, -1, x.shape[-1]), 1
        return x.reshape(b, x.shape[1], -1), 2

    def _out(self, y2, x):
        """(batch, channels) -> the layer's output shape."""
        if not self.keepdims:
            return y2
        ones = (1,) * self._rank
        if self.data_format == "channels_last":
            return y2.reshape((x.shape[0],) + ones + (x.shape[-1],))
        return y2.reshape((x.shape[0], x.shape[1]) + ones)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class _GlobalAverage(_GlobalPooling):

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        x2, axis = self._flat(x)
        if mask is not None and self._rank == 1:
            return self._masked(x, x2, axis, mask)
        n = x2.shape[axis]
        y2 = x2.mean(axis=axis)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            g = dy.reshape(y2.shape) / x.dtype.type(n)
            dx = np.empty_like(x2)
            dx[...] = np.expand_dims(g, axis)
            return dx.reshape(x.shape)
        return self._out(y2, x), backward

    def _masked(self, x, x2, axis, mask):
        # Average over unmasked steps only. A row with no unmasked step gives
        # 0 (Keras divides 0 by 0 there and returns NaN).
        m = np.asarray(mask)
        steps = x2.shape[axis]
        if m.shape != (x.shape[0], steps):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): mask shape "
                             f"{m.shape} does not match the input {x.shape}; expected "
                             f"{(x.shape[0], steps)}.")
        m = m.astype(x.dtype)
        w = m / np.maximum(m.sum(axis=1, keepdims=True), 1)       # (batch, steps)
        # einsum, not matmul: keeps numpy's BLAS pool (a second one beside
        # scipy's, which the GEMMs use) idle, so the two never fight for cores.
        if axis == 1:
            y2 = np.einsum("bt,btd->bd", w, x2)
        else:
            y2 = np.einsum("bdt,bt->bd", x2, w)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            g = dy.reshape(y2.shape)
            dx = w[:, :, None] * g[:, None, :] if axis == 1 else g[:, :, None] * w[:, None, :]
            return dx.reshape(x.shape)
        return self._out(y2, x), backward


class _GlobalMax(_GlobalPooling):
    """One max-pooling window over the whole spatial extent (the compiled
    pooling kernel; first maximum on ties, as numpy's argmax)."""

    def forward(self, x, training=False, mask=None):
        # Keras's global max pooling ignores a mask (padded steps take part).
        x = as_float32(x)
        check_input_ndim(self, x.shape, self._rank + 2)
        x5 = to_channels_last5(x, self._rank, self.data_format)
        spatial = x5.shape[1:4]
        if 0 in spatial:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): cannot take "
                             f"the max over an empty axis; input shape {x.shape}.")
        one = (1, 1, 1)
        geo = (spatial, one, spatial, one, one, (0, 0, 0))
        y5, argmax = ops.max_pool_forward(x5, geo, want_argmax=bool(training))
        y2 = y5.reshape(x5.shape[0], x5.shape[-1])

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            dy5 = np.asarray(dy, y5.dtype).reshape(y5.shape)
            routes = argmax if argmax is not None else ops.max_pool_forward(x5, geo)[1]
            dx5 = ops.max_pool_backward(dy5, routes, geo)
            return from_channels_last5(dx5, self._rank, self.data_format).reshape(x.shape)
        return self._out(y2, x), backward


class GlobalAveragePooling1D(_GlobalAverage):
    """Mean over steps; with a mask (Embedding(mask_zero=True)), over the
    unmasked steps only. Consumes the mask."""
    _rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True


class GlobalMaxPooling1D(_GlobalMax):
    _rank = 1


class GlobalAveragePooling2D(_GlobalAverage):
    _rank = 2


class GlobalMaxPooling2D(_GlobalMax):
    _rank = 2


class GlobalAveragePooling3D(_GlobalAverage):
    _rank = 3


class GlobalMaxPooling3D(_GlobalMax):
    _rank = 3


# ---- windowed pooling ------------------------------------------------------------

def _geometry(n, p, s, padding):
    """(output length, padding before, padding after) along one axis."""
    if padding == "valid":
        return (n - p) // s + 1, 0, 0
    out = -(-n // s)
    total = max((out - 1) * s + p - n, 0)
    return out, total // 2, total - total // 2


class _Pooling(Layer):
    _rank = 2
    _mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = _int_tuple(pool_size, self._rank, "pool_size", cls)
        self.strides = self.pool_size if strides is None else \
            _int_tuple(strides, self._rank, "strides", cls)
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls}: `padding` must be 'valid' or 'same', got {padding!r}.")
        self.padding = padding
        self.data_format = _data_format(data_format, cls)
        self.built = True

    def _spatial(self, shape):
        return shape[1:-1] if self.data_format == "channels_last" else shape[2:]

    def compute_output_shape(self, input_shape):
        check_input_ndim(self, input_shape, self._rank + 2)
        out = []
        for n, p, s in zip(self._spatial(input_shape), self.pool_size, self.strides):
            if n is None:
                out.append(None)
                continue
            o = _geometry(n, p, s, self.padding)[0]
            if o <= 0:
                raise self._too_small(input_shape)
            out.append(o)
        if self.data_format == "channels_last":
            return (input_shape[0],) + tuple(out) + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + tuple(out)

    def _too_small(self, shape):
        return ValueError(
            f"Layer {self.name!r} ({type(self).__name__}): input shape {tuple(shape)} "
            f"is smaller than pool_size={self.pool_size} with padding='valid', so "
            "the output would be empty. Use padding='same' or a smaller pool_size.")

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        check_input_ndim(self, x.shape, self._rank + 2)
        spatial = tuple(self._spatial(x.shape))
        g = [_geometry(n, p, s, self.padding)
             for n, p, s in zip(spatial, self.pool_size, self.strides)]
        if any(o <= 0 for o, _, _ in g):
            raise self._too_small(x.shape)
        geo = geo3(self._rank, spatial, [o for o, _, _ in g], self.pool_size, self.strides,
                   (1,) * self._rank, [b for _, b, _ in g])
        rank, fmt = self._rank, self.data_format
        x5 = to_channels_last5(x, rank, fmt)
        channels = x5.shape[-1]
        if self._mode == "max":
            # Outside training no backward is expected: the argmax is then
            # worked out again only if one is asked for.
            y5, argmax = ops.max_pool_forward(x5, geo, want_argmax=bool(training))
        else:
            y5 = ops.avg_pool_forward(x5, geo)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            dy5 = to_channels_last5(np.asarray(dy, y5.dtype), rank, fmt)
            if self._mode == "max":
                routes = argmax if argmax is not None else ops.max_pool_forward(x5, geo)[1]
                dx5 = ops.max_pool_backward(dy5, routes, geo)
            else:
                dx5 = ops.avg_pool_backward(dy5, channels, geo)
            return from_channels_last5(dx5, rank, fmt).reshape(x.shape)
        return from_channels_last5(y5, rank, fmt), backward

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "padding": self.padding,
                       "strides": list(self.strides), "data_format": self.data_format})
        return config


class MaxPooling1D(_Pooling):
    _rank, _mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    _rank, _mode = 1, "avg"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pooling):
    _rank, _mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    _rank, _mode = 2, "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_Pooling):
    _rank, _mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pooling):
    _rank, _mode = 3, "avg"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


# Keras's short aliases.
MaxPool1D, AvgPool1D, MaxPool2D, AvgPool2D = MaxPooling1D, AveragePooling1D, MaxPooling2D, AveragePooling2D
MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
GlobalAvgPool3D, GlobalMaxPool3D = GlobalAveragePooling3D, GlobalMaxPooling3D
