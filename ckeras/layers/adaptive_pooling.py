"""Adaptive pooling (Keras 3.15): pool to a fixed ``output_size`` whatever the
input's size. Output cell i of an axis of length L pools the inputs
[floor(i L / out), ceil((i + 1) L / out)) (the windows of Keras's and
PyTorch's adaptive pooling; they overlap when L is not a multiple of out).
Both pools are separable, so each spatial axis is pooled in turn: average as
a product with a (out, L) matrix of 1/size weights, max over each window
with its argmax kept for the backward pass (first maximum on ties)."""
import numpy as np

from ckeras import config
from ckeras.layers.layer import Layer, as_float32
from ckeras.layers.layer import check_input_ndim
from ckeras.layers.pooling import _int_tuple

_FORMATS = ("channels_last", "channels_first")


def adaptive_windows(length, out):
    """(starts, ends) of the ``out`` windows over an axis of ``length``."""
    i = np.arange(out)
    starts = (i * length) // out
    ends = -((-(i + 1) * length) // out)        # ceil
    return starts, ends


def _average_matrix(length, out, dtype):
    starts, ends = adaptive_windows(length, out)
    m = np.zeros((out, length), dtype)
    for i, (s, e) in enumerate(zip(starts, ends)):
        m[i, s:e] = 1.0 / (e - s)
    return m


def _pool_axis(x, axis, out, mode):
    """Pool one axis of x to ``out`` cells: (y, backward(dy) -> dx)."""
    length = x.shape[axis]
    if mode == "average":
        m = _average_matrix(length, out, x.dtype)
        y = np.moveaxis(np.tensordot(m, np.moveaxis(x, axis, 0), axes=(1, 0)), 0, axis)

        def backward(dy):
            g = np.tensordot(m.T, np.moveaxis(dy, axis, 0), axes=(1, 0))
            return np.moveaxis(g, 0, axis)
        return y, backward
    starts, ends = adaptive_windows(length, out)
    xt = np.moveaxis(x, axis, 0)
    cells, where = [], []
    for s, e in zip(starts, ends):
        arg = np.argmax(xt[s:e], axis=0)
        where.append(arg + s)
        cells.append(np.take_along_axis(xt[s:e], arg[None], axis=0)[0])
    y = np.moveaxis(np.stack(cells), 0, axis)

    def backward(dy):
        g = np.zeros(xt.shape, dy.dtype)
        dyt = np.moveaxis(dy, axis, 0)
        rest = np.indices(xt.shape[1:])
        for i, w in enumerate(where):   # windows may overlap: accumulate
            np.add.at(g, (w,) + tuple(rest), dyt[i])
        return np.moveaxis(g, 0, axis)
    return y, backward


class _AdaptivePooling(Layer):
    _rank = 1
    _mode = "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if isinstance(output_size, bool) or not (
                isinstance(output_size, (int, np.integer))
                or (isinstance(output_size, (tuple, list)) and len(output_size) == self._rank)):
            raise TypeError(f"{cls}: `output_size` must be an integer or a tuple of "
                            f"{self._rank} integers. Received: {output_size!r}")
        self.output_size = _int_tuple(output_size, self._rank, "output_size", cls)
        data_format = data_format or config.image_data_format()
        if data_format not in _FORMATS:
            raise ValueError(f"{cls}: invalid data_format: {data_format}. Expected "
                             "'channels_first' or 'channels_last'.")
        self.data_format = data_format

    def _spatial_axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self._rank))

    def compute_output_shape(self, input_shape):
        check_input_ndim(self, input_shape, self._rank + 2)
        if self.data_format == "channels_last":
            return (input_shape[0],) + self.output_size + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + self.output_size

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        check_input_ndim(self, x.shape, self._rank + 2)
        backs = []
        y = x
        for axis, out in zip(self._spatial_axes(), self.output_size):
            y, back = _pool_axis(y, axis, out, self._mode)
            backs.append(back)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            for back in reversed(backs):
                dy = back(dy)
            return dy
        return np.ascontiguousarray(y), backward

    def get_config(self):
        config_ = super().get_config()
        config_.update({"output_size": self.output_size, "data_format": self.data_format})
        return config_


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Average over adaptive windows of (batch, steps, channels) inputs."""
    _rank, _mode = 1, "average"


class AdaptiveAveragePooling2D(_AdaptivePooling):
    _rank, _mode = 2, "average"


class AdaptiveAveragePooling3D(_AdaptivePooling):
    _rank, _mode = 3, "average"


class AdaptiveMaxPooling1D(_AdaptivePooling):
    _rank, _mode = 1, "max"


class AdaptiveMaxPooling2D(_AdaptivePooling):
    _rank, _mode = 2, "max"


class AdaptiveMaxPooling3D(_AdaptivePooling):
    _rank, _mode = 3, "max"
