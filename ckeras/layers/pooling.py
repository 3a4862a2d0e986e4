"""Pooling layers: global (1-D/2-D, average/max) and windowed (1-D/2-D).

Windowed pooling loops over the few offsets of the pooling window (4 for a
2x2 pool), each step a strided view of the whole batch: vectorised, no copy
of the input per window, and correct for overlapping windows (strides <
pool_size) because each offset's gradient is added in its own pass. Max
pooling routes the gradient to the first maximum of each window (row-major
order), as TensorFlow does; 'same' average pooling divides by the number of
real (unpadded) inputs in the window, as Keras does.

1-D layers run as 2-D ones with a height of 1.
"""
import numpy as np

from ckeras.layers.layer import Layer, as_float32

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


def _check_ndim(layer, shape, ndim):
    if len(shape) != ndim:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is incompatible "
            f"with the layer: expected ndim={ndim}, found ndim={len(shape)}. "
            f"Full shape received: {tuple(shape)}")


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
        _check_ndim(self, input_shape, self._rank + 2)
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
        _check_ndim(self, x.shape, self._rank + 2)
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

    def forward(self, x, training=False, mask=None):
        # Keras's global max pooling ignores a mask (padded steps take part).
        x = as_float32(x)
        x2, axis = self._flat(x)
        if x2.shape[axis] == 0:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): cannot take "
                             f"the max over an empty axis; input shape {x.shape}.")
        idx = np.expand_dims(x2.argmax(axis=axis), axis)   # first max on ties
        y2 = np.take_along_axis(x2, idx, axis).squeeze(axis)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            dx = np.zeros_like(x2)
            np.put_along_axis(dx, idx, np.expand_dims(dy.reshape(y2.shape), axis), axis)
            return dx.reshape(x.shape)
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


# ---- windowed pooling ------------------------------------------------------------

def _geometry(n, p, s, padding):
    """(output length, padding before, padding after) along one axis."""
    if padding == "valid":
        return (n - p) // s + 1, 0, 0
    out = -(-n // s)
    total = max((out - 1) * s + p - n, 0)
    return out, total // 2, total - total // 2


def _counts(n, p, s, out, before):
    """Real (unpadded) inputs in each window along one axis."""
    start = np.arange(out) * s - before
    return np.minimum(start + p, n) - np.maximum(start, 0)


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
        _check_ndim(self, input_shape, self._rank + 2)
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
        _check_ndim(self, x.shape, self._rank + 2)
        xl = _channels_last(x, self.data_format)
        if self._rank == 1:
            xl = xl[:, None]
        pool = (1,) * (2 - self._rank) + self.pool_size
        strides = (1,) * (2 - self._rank) + self.strides
        (b, h, w, c) = xl.shape
        (oh, top, bottom), (ow, left, right) = (
            _geometry(n, p, s, self.padding) for n, p, s in zip((h, w), pool, strides))
        if oh <= 0 or ow <= 0:
            raise self._too_small(x.shape)
        pads = ((0, 0), (top, bottom), (left, right), (0, 0))
        padded = top or bottom or left or right
        fill = -np.inf if self._mode == "max" else 0
        xp = np.pad(xl, pads, constant_values=fill) if padded else xl
        (ph, pw), (sh, sw) = pool, strides
        offsets = [(i, j) for i in range(ph) for j in range(pw)]

        def window(a, i, j):
            """Input element at offset (i, j) of every window: (b, oh, ow, c)."""
            return a[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]

        if self._mode == "max":
            # Plain maxima here (fast ufuncs on strided views); which offset won
            # is worked out only if a gradient is asked for.
            y = window(xp, 0, 0).copy()
            for i, j in offsets[1:]:
                np.maximum(y, window(xp, i, j), out=y)
        else:
            y = np.zeros((b, oh, ow, c), xl.dtype)
            for i, j in offsets:
                y += window(xp, i, j)
            if padded:
                counts = np.outer(_counts(h, ph, sh, oh, top), _counts(w, pw, sw, ow, left))
                counts = counts.astype(xl.dtype)[None, :, :, None]
            else:
                counts = xl.dtype.type(ph * pw)
            y /= counts

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            g = _channels_last(dy, self.data_format).reshape(y.shape)
            dxp = np.zeros(xp.shape, g.dtype)
            if self._mode == "max":
                # The gradient goes to the first offset holding the max (ties as
                # TensorFlow); `taken` marks windows already served.
                taken = np.zeros(y.shape, bool)
                hit = np.empty(y.shape, bool)
                for i, j in offsets:
                    np.equal(window(xp, i, j), y, out=hit)
                    hit &= ~taken
                    taken |= hit
                    window(dxp, i, j)[...] += g * hit
            else:
                g = g / counts
                for i, j in offsets:
                    window(dxp, i, j)[...] += g
            dx = dxp[:, top:top + h, left:left + w, :] if padded else dxp
            if self._rank == 1:
                dx = dx[:, 0]
            return _channels_back(dx, self.data_format) if self.data_format == "channels_first" \
                else np.ascontiguousarray(dx)

        out = y[:, 0] if self._rank == 1 else y
        return _channels_back(out, self.data_format), backward

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


# Keras's short aliases.
MaxPool1D, AvgPool1D, MaxPool2D, AvgPool2D = MaxPooling1D, AveragePooling1D, MaxPooling2D, AveragePooling2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
