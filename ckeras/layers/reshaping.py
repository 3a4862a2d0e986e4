"""Spatial reshaping layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D,
UpSampling1D/2D/3D (Keras 3 arguments, configs and semantics).

All are linear maps of their input with no weights; each backward is the
adjoint: padding <-> cropping, nearest upsampling -> sum over each block,
bilinear upsampling -> the transposed interpolation matrices.

UpSampling2D(interpolation="bilinear") resizes as Keras 3 (ops.image.resize,
half-pixel centres): output i samples input (i + 0.5) / size - 0.5, clamped
to the edge pixels.
"""
import numpy as np

from ckeras.layers.convolutional import data_format_arg
from ckeras.layers.layer import Layer, as_float32, check_input_ndim


def _pairs(value, rank, arg, cls):
    """((before, after),) * rank from an int, `rank` ints or `rank` pairs."""
    def one(v, what):
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            pair = (int(v), int(v))
        elif hasattr(v, "__len__") and len(v) == 2 and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in v):
            pair = (int(v[0]), int(v[1]))
        else:
            raise ValueError(f"{cls}: {what} must be an int or a pair of ints, got {v!r}.")
        if min(pair) < 0:
            raise ValueError(f"{cls}: `{arg}` cannot be negative, got {value!r}.")
        return pair

    if rank == 1:
        return (one(value, f"`{arg}`"),)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (one(value, f"`{arg}`"),) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"{cls}: `{arg}` should be an int, a tuple of {rank} ints or a tuple "
                         f"of {rank} tuples of 2 ints, got {value!r}.")
    return tuple(one(v, f"entry {i} of `{arg}`") for i, v in enumerate(value))


def _check_ndim(layer, shape):
    check_input_ndim(layer, shape, layer._rank + 2)


class _Spatial(Layer):
    """Shared: which axes are spatial under the data format."""
    _rank = 2
    data_format = "channels_last"

    def _axes(self):
        first = 2 if self.data_format == "channels_first" else 1
        return tuple(range(first, first + self._rank))

    def compute_mask(self, inputs, mask=None):
        return None


# ---- zero padding / cropping -------------------------------------------------------

class _ZeroPadding(_Spatial):

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.data_format = data_format_arg(data_format, cls)
        self.padding = _pairs(padding, self._rank, "padding", cls)
        self.built = True

    def compute_output_shape(self, input_shape):
        _check_ndim(self, input_shape)
        out = list(input_shape)
        for ax, (a, b) in zip(self._axes(), self.padding):
            if out[ax] is not None:
                out[ax] += a + b
        return tuple(out)

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        _check_ndim(self, x.shape)
        pads = [(0, 0)] * x.ndim
        for ax, p in zip(self._axes(), self.padding):
            pads[ax] = p
        y = np.pad(x, pads)
        inner = tuple(slice(a, a + n) for (a, _), n in zip(pads, x.shape))

        def backward(dy, need_dx=True):
            return np.ascontiguousarray(dy[inner]) if need_dx else None
        return y, backward

    def get_config(self):
        config = super().get_config()
        pad = self.padding[0] if self._rank == 1 else self.padding
        config.update({"padding": pad, "data_format": self.data_format})
        return config


class ZeroPadding1D(_ZeroPadding):
    """Pads steps with zeros: padding int or (before, after)."""
    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns with zeros: int, (h, w) or ((top, bottom), (left, right))."""
    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    _rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_Spatial):

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.data_format = data_format_arg(data_format, cls)
        self.cropping = _pairs(cropping, self._rank, "cropping", cls)
        self.built = True

    def _check(self, shape):
        for ax, (a, b) in zip(self._axes(), self.cropping):
            if shape[ax] is not None and a + b >= shape[ax]:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): values in `cropping` "
                    f"should be smaller than the corresponding spatial dimension of the "
                    f"input. Received: input_shape={tuple(shape)}, cropping={self.cropping}")

    def compute_output_shape(self, input_shape):
        _check_ndim(self, input_shape)
        self._check(input_shape)
        out = list(input_shape)
        for ax, (a, b) in zip(self._axes(), self.cropping):
            if out[ax] is not None:
                out[ax] -= a + b
        return tuple(out)

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        _check_ndim(self, x.shape)
        self._check(x.shape)
        index = [slice(None)] * x.ndim
        for ax, (a, b) in zip(self._axes(), self.cropping):
            index[ax] = slice(a, x.shape[ax] - b)
        index = tuple(index)
        y = np.ascontiguousarray(x[index])

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            dx = np.zeros(x.shape, np.result_type(dy))
            dx[index] = dy
            return dx
        return y, backward

    def get_config(self):
        config = super().get_config()
        if self._rank == 1:
            config["cropping"] = self.cropping[0]        # Keras: no data_format here
        else:
            config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class Cropping1D(_Cropping):
    """Crops steps: cropping int or (before, after). Channels last only, as Keras."""
    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)


class Cropping2D(_Cropping):
    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


# ---- upsampling ----------------------------------------------------------------------

def bilinear_matrix(n, size, dtype):
    """(n*size, n) half-pixel-centre linear interpolation, edges clamped."""
    out = n * size
    src = np.clip((np.arange(out) + 0.5) / size - 0.5, 0, n - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    w = src - i0
    a = np.zeros((out, n), dtype)
    np.add.at(a, (np.arange(out), i0), 1 - w)
    np.add.at(a, (np.arange(out), i1), w)
    return a


class _UpSampling(_Spatial):
    _interpolations = ("nearest",)

    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.data_format = data_format_arg(data_format, cls)
        values = (size,) * self._rank if isinstance(size, (int, np.integer)) else tuple(size)
        if len(values) != self._rank or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                for v in values):
            raise ValueError(f"{cls}: `size` must be a positive integer or a tuple of "
                             f"{self._rank} positive integers, got {size!r}.")
        self.size = tuple(int(v) for v in values)
        interpolation = str(interpolation).lower()
        if interpolation not in ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"):
            raise ValueError(f"{cls}: `interpolation` must be one of 'nearest', 'bilinear', "
                             f"'bicubic', 'lanczos3', 'lanczos5'; got {interpolation!r}.")
        if interpolation not in self._interpolations:
            raise NotImplementedError(f"{cls}: interpolation={interpolation!r} is not "
                                      f"supported by ckeras; use one of "
                                      f"{self._interpolations}.")
        self.interpolation = interpolation
        self.built = True

    def compute_output_shape(self, input_shape):
        _check_ndim(self, input_shape)
        out = list(input_shape)
        for ax, s in zip(self._axes(), self.size):
            if out[ax] is not None:
                out[ax] *= s
        return tuple(out)

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        _check_ndim(self, x.shape)
        axes = self._axes()
        if self.interpolation == "bilinear":
            mats = [bilinear_matrix(x.shape[ax], s, x.dtype) for ax, s in zip(axes, self.size)]
            y = x
            for ax, a in zip(axes, mats):
                y = np.moveaxis(np.tensordot(a, y, axes=([1], [ax])), 0, ax)
            y = np.ascontiguousarray(y)

            def backward(dy, need_dx=True):
                if not need_dx:
                    return None
                dx = dy
                for ax, a in zip(axes, mats):
                    dx = np.moveaxis(np.tensordot(a.T, dx, axes=([1], [ax])), 0, ax)
                return np.ascontiguousarray(dx)
            return y, backward

        y = x
        for ax, s in zip(axes, self.size):
            y = np.repeat(y, s, axis=ax)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            # Sum each size-block: split every upsampled axis into (n, size).
            shape = []
            for i, n in enumerate(x.shape):
                shape += [n, self.size[axes.index(i)]] if i in axes else [n]
            sum_axes = tuple(ax + 1 + k for k, ax in enumerate(axes))
            return np.ascontiguousarray(np.asarray(dy).reshape(shape).sum(axis=sum_axes))
        return y, backward


class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times."""
    _rank = 1

    def __init__(self, size=2, **kwargs):
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"UpSampling1D: expected an integer value for `size`, "
                            f"got {type(size).__name__}.")
        super().__init__(size, None, "nearest", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Repeats rows and columns (nearest) or resizes bilinearly."""
    _rank = 2
    _interpolations = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config


class UpSampling3D(_UpSampling):
    """Repeats along the three spatial axes."""
    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, "nearest", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config
