"""Convolution layers: Conv1D and Conv2D (Keras 3 semantics and weights).

Cross-correlation (no kernel flip), kernel (kh, kw, in, filters) or
(k, in, filters), 'same' padding split as TensorFlow does (the odd pixel goes
at the end), 'causal' (Conv1D) pads dilation*(k-1) steps on the left.

Lowered to ONE GEMM per call: im2col builds a (B*OH*OW, kh*kw*in) patch
matrix from a strided view of the (padded) input with a single copy, and
``ops.dense`` multiplies it by the kernel seen as (kh*kw*in, filters) and
fuses bias + activation. Backward reuses ``ops.dense_backward`` (dW =
patches^T dz, db, dpatches = dz W^T); col2im scatters dpatches back with one
vectorised add per kernel offset (kh*kw passes over the whole batch).

Conv1D runs as a Conv2D of height 1. channels_first is handled at the
boundary: the input is read through transposed strides (no extra copy), the
output and input gradient are transposed back.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ckeras import activations, constraints, initializers, ops, regularizers
from ckeras.layers.layer import BUILTIN_LAYERS, Layer, as_float32

_FORMATS = ("channels_last", "channels_first")
# Activations that act along the last axis rather than elementwise: with
# channels_first that axis is not the filters axis, so they cannot be fused
# into the (rows, filters) GEMM output.
_ROW_WISE = ("softmax", "log_softmax")


def _int_tuple(value, n, arg, cls):
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   and v > 0 for v in values):
        raise ValueError(f"{cls}: `{arg}` must be a positive integer or a tuple/list of "
                         f"{n} positive integers, got {value!r}.")
    return tuple(int(v) for v in values)


def conv_geometry(n, k, s, d, padding):
    """(out, pad_before, pad_after) along one axis of length n.

    TF's rules: valid -> floor((n - eff) / s) + 1; same -> ceil(n / s) with
    the total padding split floor/ceil (extra at the end); causal -> all of
    d*(k-1) at the start. eff = d*(k-1)+1 is the dilated kernel extent.
    """
    eff = d * (k - 1) + 1
    if padding == "valid":
        return (n - eff) // s + 1, 0, 0
    if padding == "causal":
        return (n - 1) // s + 1, eff - 1, 0
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    return out, total // 2, total - total // 2


def im2col(x, ksize, strides, dilation, pads, out_hw):
    """Patch matrix (B*OH*OW, kh*kw*C) of channels_last x (B, H, W, C), any strides.

    Column order (kh, kw, C) matches the kernel's (kh, kw, in, filters) flattening.
    """
    b, h, w, c = x.shape
    (kh, kw), (sh, sw), (dh, dw), ((top, bottom), (left, right)), (oh, ow) = \
        ksize, strides, dilation, pads, out_hw
    if kh == kw == sh == sw == 1 and not (top or bottom or left or right):
        return np.ascontiguousarray(x).reshape(b * h * w, c)   # 1x1: no copy if contiguous
    if top or bottom or left or right:
        xp = np.zeros((b, h + top + bottom, w + left + right, c), x.dtype)
        xp[:, top:top + h, left:left + w] = x
    else:
        xp = x
    s_b, s_h, s_w, s_c = xp.strides
    view = as_strided(xp, (b, oh, ow, kh, kw, c),
                      (s_b, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c), writeable=False)
    return np.ascontiguousarray(view).reshape(b * oh * ow, kh * kw * c)


def col2im(cols, x_shape, ksize, strides, dilation, pads, out_hw):
    """Adjoint of im2col: scatter-add (B*OH*OW, kh*kw*C) back to (B, H, W, C)."""
    b, h, w, c = x_shape
    (kh, kw), (sh, sw), (dh, dw), ((top, bottom), (left, right)), (oh, ow) = \
        ksize, strides, dilation, pads, out_hw
    if kh == kw == sh == sw == 1 and not (top or bottom or left or right):
        return cols.reshape(b, h, w, c)
    dxp = np.zeros((b, h + top + bottom, w + left + right, c), cols.dtype)
    c6 = cols.reshape(b, oh, ow, kh, kw, c)
    for i in range(kh):
        r = i * dh
        for j in range(kw):
            q = j * dw
            dxp[:, r:r + sh * (oh - 1) + 1:sh, q:q + sw * (ow - 1) + 1:sw] += c6[:, :, :, i, j]
    if top or bottom or left or right:
        return np.ascontiguousarray(dxp[:, top:top + h, left:left + w])
    return dxp


def _grad_2d(var, cols):
    """(var's gradient seen as (-1, cols), fresh): a view, so kernels write into
    it in place; ``fresh`` as Variable.grad_for_overwrite."""
    g, fresh = var.grad_for_overwrite()
    g2 = g.reshape(-1, cols)
    if not np.shares_memory(g, g2):  # pragma: no cover - grads are contiguous
        raise RuntimeError(f"gradient buffer of {var.path!r} is not contiguous")
    return g2, fresh


class _Conv(Layer):
    """Shared by Conv1D/Conv2D; subclasses set ``_rank``."""
    _rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        cls, n = type(self).__name__, self._rank
        if (not isinstance(filters, (int, np.integer)) or isinstance(filters, bool)
                or filters <= 0):
            raise ValueError(f"{cls}: `filters` must be a positive integer, got {filters!r}.")
        self.filters = int(filters)
        self.kernel_size = _int_tuple(kernel_size, n, "kernel_size", cls)
        self.strides = _int_tuple(strides, n, "strides", cls)
        self.dilation_rate = _int_tuple(dilation_rate, n, "dilation_rate", cls)
        allowed = ("valid", "same", "causal") if n == 1 else ("valid", "same")
        padding = str(padding).lower()
        if padding not in allowed:
            raise ValueError(f"{cls}: `padding` must be one of {allowed}, got {padding!r}.")
        self.padding = padding
        data_format = "channels_last" if data_format is None else str(data_format).lower()
        if data_format not in _FORMATS:
            raise ValueError(f"{cls}: `data_format` must be one of {_FORMATS}, "
                             f"got {data_format!r}.")
        self.data_format = data_format
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # Keras 3 rejects this combination too.
            raise ValueError(f"{cls}: `strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        if not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError(f"{cls}: `groups` must be a positive integer, got {groups!r}.")
        if groups != 1:
            raise NotImplementedError(f"{cls}: groups={groups} (grouped convolution) is not "
                                      "supported by ckeras; only groups=1.")
        self.groups = 1
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    # ---- shapes ------------------------------------------------------------
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _check_rank(self, shape):
        if len(shape) != self._rank + 2:
            raise ValueError(
                f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible "
                f"with the layer: expected ndim={self._rank + 2}, found ndim={len(shape)}. "
                f"Full shape received: {tuple(shape)}")

    def _check_channels(self, shape, expected):
        axis = self._channel_axis()
        if shape[axis] != expected:
            raise ValueError(
                f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible "
                f"with the layer: expected axis {axis} of the input to have value "
                f"{expected}, but received input with shape {tuple(shape)}.")

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def _geometry(self, spatial, shape):
        """[(out, before, after)] per spatial axis; raises if an output is empty."""
        geo = []
        for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate):
            if n is None:
                geo.append((None, 0, 0))
                continue
            g = conv_geometry(n, k, s, d, self.padding)
            if g[0] <= 0:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): input shape "
                    f"{tuple(shape)} is too small for kernel_size={self.kernel_size} "
                    f"with dilation_rate={self.dilation_rate} and padding='valid' "
                    "(the output would be empty). Use padding='same' or a smaller kernel.")
            geo.append(g)
        return geo

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        out = tuple(g[0] for g in self._geometry(self._spatial(input_shape), input_shape))
        if self.data_format == "channels_last":
            return (input_shape[0],) + out + (self.filters,)
        return (input_shape[0], self.filters) + out

    def build(self, input_shape):
        self._check_rank(input_shape)
        in_ch = input_shape[self._channel_axis()]
        if in_ch is None:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): the channel "
                             f"dimension of its input must be known, got shape "
                             f"{tuple(input_shape)}.")
        self._geometry(self._spatial(input_shape), input_shape)
        self.kernel = self.add_weight("kernel", self.kernel_size + (int(in_ch), self.filters),
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    # ---- running -----------------------------------------------------------
    def forward(self, x, training=False, mask=None):
        return self._conv(x, self.activation)

    def forward_logits(self, x, training=False, mask=None):
        """Forward without the activation: the trainer fuses it into the loss."""
        return self._conv(x, None)

    def _conv(self, x, activation):
        x = as_float32(x)
        self._check_rank(x.shape)
        kernel = self.kernel.value
        in_ch, f = kernel.shape[-2], self.filters
        self._check_channels(x.shape, in_ch)
        geo = self._geometry(self._spatial(x.shape), x.shape)
        cf = self.data_format == "channels_first"
        xl = np.moveaxis(x, 1, -1) if cf else x                # a view: im2col copies once
        pad1 = (1,) * (2 - self._rank)                         # Conv1D = height-1 Conv2D
        if self._rank == 1:
            xl = xl[:, None]
            geo = [(1, 0, 0)] + geo
        ksize, strides = pad1 + self.kernel_size, pad1 + self.strides
        dilation = pad1 + self.dilation_rate
        pads = tuple((g[1], g[2]) for g in geo)
        out_hw = tuple(g[0] for g in geo)
        b = xl.shape[0]
        cols = im2col(xl, ksize, strides, dilation, pads, out_hw)
        kernel2 = kernel.reshape(-1, f)
        bias = self.bias.value if self.bias is not None else None

        fuse = activation is None or (activation.fusable
                                      and not (cf and activation.name in _ROW_WISE))
        name = activation.name if (fuse and activation is not None) else "linear"
        post = None if fuse else activation                    # applied in output layout
        y2 = ops.dense(cols, kernel2, bias, name)
        yl = y2.reshape((b,) + out_hw + (f,))
        if self._rank == 1:
            yl = yl[:, 0]
        z = np.ascontiguousarray(np.moveaxis(yl, -1, 1)) if cf else yl
        y = post.forward(z) if post is not None else z
        x_shape = x.shape

        def backward(dy, need_dx=True):
            if post is not None:
                dy = post.backward(dy, z, y)
            dyl = np.moveaxis(dy, 1, -1) if cf else dy
            dy2 = np.ascontiguousarray(dyl).reshape(y2.shape)
            dbias = self.bias.grad if self.bias is not None else None
            dk, fresh = _grad_2d(self.kernel, f)
            dcols = ops.dense_backward(dy2, cols, y2, kernel2, name, dk, dbias, need_dx, fresh)
            if not need_dx:
                return None
            dxl = col2im(dcols, xl.shape, ksize, strides, dilation, pads, out_hw)
            if self._rank == 1:
                dxl = dxl[:, 0]
            if cf:
                return np.ascontiguousarray(np.moveaxis(dxl, -1, 1))
            return dxl.reshape(x_shape)
        return y, backward

    # ---- config ------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) (or (batch, channels, steps))."""
    _rank = 1


class Conv2D(_Conv):
    """2-D convolution over (batch, rows, cols, channels) (or channels_first)."""
    _rank = 2


# Keras's aliases (also accepted as class names in saved configs).
Convolution1D = Conv1D
Convolution2D = Conv2D
BUILTIN_LAYERS.setdefault("Convolution1D", Conv1D)
BUILTIN_LAYERS.setdefault("Convolution2D", Conv2D)
