"""Convolution layers: Conv1D/2D/3D (Keras 3 semantics and weights), and the
shared machinery of the whole conv family (conv_transpose.py,
depthwise_conv.py).

Cross-correlation (no kernel flip), kernel (*kernel_size, in/groups, filters),
'same' padding split as TensorFlow does (the odd pixel goes at the end),
'causal' (1-D) pads dilation*(k-1) steps on the left.

Every rank runs as a 3-D convolution over channels-last (batch, D, H, W, C)
views (1-D: D = H = 1; 2-D: D = 1), through ``ops.conv_forward`` /
``ops.conv_backward``: compiled im2col over cache-sized batch chunks, one
GEMM per chunk, bias + activation fused; backward dW and dX as GEMMs and a
compiled col2im. channels_first is transposed at the boundary (one copy each
way).
"""
import numpy as np

from ckeras import activations, ops, regularizers
from ckeras.layers.layer import BUILTIN_LAYERS, Layer, as_float32, check_input_ndim
from ckeras.layers.weight_options import add_weight_with_options, config_values, set_weight_options

_FORMATS = ("channels_last", "channels_first")
# Activations that act along the last axis rather than elementwise: with
# channels_first (or groups) that axis is not the whole filters axis of one
# GEMM output, so they cannot be fused into it.
_ROW_WISE = ("softmax", "log_softmax")


def _int_tuple(value, n, arg, cls, allow_zero=False):
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    low = 0 if allow_zero else 1
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   and v >= low for v in values):
        what = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{cls}: `{arg}` must be a {what} integer or a tuple/list of "
                         f"{n} {what} integers, got {value!r}.")
    return tuple(int(v) for v in values)


def data_format_arg(value, cls):
    value = "channels_last" if value is None else str(value).lower()
    if value not in _FORMATS:
        raise ValueError(f"{cls}: `data_format` must be one of {_FORMATS}, got {value!r}.")
    return value


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


def geo3(rank, spatial_in, spatial_out, k, s, d, pads):
    """The ops geometry (in, out, k, s, d, pad) over (D, H, W) of a rank-N op."""
    fill = 3 - rank
    return (((1,) * fill + tuple(spatial_in)), ((1,) * fill + tuple(spatial_out)),
            ((1,) * fill + tuple(k)), ((1,) * fill + tuple(s)), ((1,) * fill + tuple(d)),
            ((0,) * fill + tuple(pads)))


def to_channels_last5(x, rank, data_format):
    """x as a C-contiguous (batch, D, H, W, C) array (a view when possible)."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    x = np.ascontiguousarray(x)
    return x.reshape((x.shape[0],) + (1,) * (3 - rank) + x.shape[1:])


def from_channels_last5(y5, rank, data_format):
    """The layer's output layout from a (batch, D, H, W, C) result."""
    y = y5.reshape((y5.shape[0],) + y5.shape[4 - rank:])
    if data_format == "channels_first":
        return np.ascontiguousarray(np.moveaxis(y, -1, 1))
    return y


def drop_keras2_groups(kwargs, cls):
    """Keras 2 saved ``groups`` (always 1) in transposed, depthwise and
    separable convolution configs; Keras 3 has no such argument there."""
    groups = kwargs.pop("groups", 1)
    if groups != 1:
        raise ValueError(f"{cls}: `groups` must be 1 (grouped {cls} is not a Keras layer), "
                         f"got {groups!r}.")
    return kwargs


def grad_2d(var, cols):
    """(var's gradient seen as (-1, cols), fresh): a view, so kernels write into
    it in place; ``fresh`` as Variable.grad_for_overwrite."""
    g, fresh = var.grad_for_overwrite()
    g2 = g.reshape(-1, cols)
    if not np.shares_memory(g, g2):  # pragma: no cover - grads are contiguous
        raise RuntimeError(f"gradient buffer of {var.path!r} is not contiguous")
    return g2, fresh


class ConvBase(Layer):
    """Arguments, shapes and layout shared by the conv family; subclasses set
    ``_rank`` and ``_causal_ok``."""
    _rank = 2
    _causal_ok = False

    def _init_common(self, kernel_size, strides, padding, data_format, dilation_rate,
                     activation, use_bias, bias_initializer, bias_regularizer,
                     activity_regularizer, bias_constraint):
        cls, n = type(self).__name__, self._rank
        self.kernel_size = _int_tuple(kernel_size, n, "kernel_size", cls)
        self.strides = _int_tuple(strides, n, "strides", cls)
        self.dilation_rate = _int_tuple(dilation_rate, n, "dilation_rate", cls)
        allowed = ("valid", "same", "causal") if self._causal_ok else ("valid", "same")
        padding = str(padding).lower()
        if padding not in allowed:
            raise ValueError(f"{cls}: `padding` must be one of {allowed}, got {padding!r}.")
        self.padding = padding
        self.data_format = data_format_arg(data_format, cls)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # Keras 3 rejects this combination too.
            raise ValueError(f"{cls}: `strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_options(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    @staticmethod
    def _positive(value, arg, cls):
        if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
                or value <= 0):
            raise ValueError(f"{cls}: `{arg}` must be a positive integer, got {value!r}.")
        return int(value)

    # ---- shapes ------------------------------------------------------------
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _check_rank(self, shape):
        check_input_ndim(self, shape, self._rank + 2)

    def _check_channels(self, shape, expected):
        axis = self._channel_axis()
        if shape[axis] != expected:
            raise ValueError(
                f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible "
                f"with the layer: expected axis {axis} of the input to have value "
                f"{expected}, but received input with shape {tuple(shape)}.")

    def _in_channels(self, input_shape):
        self._check_rank(input_shape)
        in_ch = input_shape[self._channel_axis()]
        if in_ch is None:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): the channel "
                             f"dimension of its input must be known, got shape "
                             f"{tuple(input_shape)}.")
        return int(in_ch)

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

    def _spatial_out(self, input_shape):
        """The output's spatial sizes (None where the input's are unknown);
        raises on a wrong rank or an input too small for the kernel."""
        self._check_rank(input_shape)
        return tuple(g[0] for g in self._geometry(self._spatial(input_shape), input_shape))

    def _out_shape(self, input_shape, spatial_out, channels):
        if self.data_format == "channels_last":
            return (input_shape[0],) + tuple(spatial_out) + (channels,)
        return (input_shape[0], channels) + tuple(spatial_out)

    def _op_geo(self, x_shape):
        """The ops geometry of a forward convolution of ``x`` (the transposed
        convolution overrides it)."""
        spatial = self._spatial(x_shape)
        g = self._geometry(spatial, x_shape)
        return geo3(self._rank, spatial, tuple(a[0] for a in g), self.kernel_size,
                    self.strides, self.dilation_rate, tuple(a[1] for a in g))

    def _fusion(self, activation, splits=False):
        """(name fused into the kernel, activation applied afterwards or None)."""
        row_wise = self.data_format == "channels_first" or splits
        fuse = activation is None or (activation.fusable
                                      and not (row_wise and activation.name in _ROW_WISE))
        name = activation.name if (fuse and activation is not None) else "linear"
        return name, (None if fuse else activation)

    def _add_bias(self, n):
        if not self.use_bias:
            return None
        return add_weight_with_options(self, "bias", (n,))

    def _config_of(self, keys):
        """super().get_config() plus ``keys`` in this (Keras's) order."""
        config = super().get_config()
        config.update(config_values(self, keys))
        return config

    # ---- running -----------------------------------------------------------
    def forward(self, x, training=False, mask=None):
        return self._run(x, self.activation)

    def forward_logits(self, x, training=False, mask=None):
        """Forward without the activation: the trainer fuses it into the loss."""
        return self._run(x, None)

    def _run(self, x, activation):
        """forward through ``self._compute(x5, geo, name)`` -> (y5, backward5)."""
        x = as_float32(x)
        self._check_rank(x.shape)
        self._check_input(x.shape)
        geo = self._op_geo(x.shape)
        name, post = self._fusion(activation, getattr(self, "groups", 1) > 1)
        x5 = to_channels_last5(x, self._rank, self.data_format)
        y5, backward5 = self._compute(x5, geo, name)
        z = from_channels_last5(y5, self._rank, self.data_format)
        y = post.forward(z) if post is not None else z
        rank, fmt, x_shape = self._rank, self.data_format, x.shape

        def backward(dy, need_dx=True):
            if post is not None:
                dy = post.backward(dy, z, y)
            dy5 = to_channels_last5(np.asarray(dy, y5.dtype), rank, fmt)
            dx5 = backward5(dy5, need_dx)
            if not need_dx:
                return None
            return from_channels_last5(dx5, rank, fmt).reshape(x_shape)
        return y, backward


class _Conv(ConvBase):
    """Shared by Conv1D/Conv2D/Conv3D; subclasses set ``_rank``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self._causal_ok = self._rank == 1
        self.filters = self._positive(filters, "filters", cls)
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          activation, use_bias, bias_initializer, bias_regularizer,
                          activity_regularizer, bias_constraint)
        self.groups = self._positive(groups, "groups", cls)
        if self.filters % self.groups:
            raise ValueError(f"{cls}: `filters` ({self.filters}) must be divisible by "
                             f"`groups` ({self.groups}).")
        set_weight_options(self, "kernel", kernel_initializer, kernel_regularizer,
                           kernel_constraint)

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape, self._spatial_out(input_shape), self.filters)

    def build(self, input_shape):
        in_ch = self._in_channels(input_shape)
        if in_ch % self.groups:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): the input "
                             f"channels ({in_ch}) must be divisible by groups={self.groups}.")
        self._spatial_out(input_shape)
        self.kernel = add_weight_with_options(
            self, "kernel", self.kernel_size + (in_ch // self.groups, self.filters))
        self.bias = self._add_bias(self.filters)
        self.built = True

    def _check_input(self, shape):
        self._check_channels(shape, self.kernel.shape[-2] * self.groups)

    def _compute(self, x5, geo, name):
        kernel, f, groups = self.kernel.value, self.filters, self.groups
        bias = self.bias.value if self.bias is not None else None
        if groups == 1:
            kernel2 = kernel.reshape(-1, f)
            y5 = ops.conv_forward(x5, kernel2, bias, name, geo)

            def backward5(dy5, need_dx):
                dbias = self.bias.grad if self.bias is not None else None
                dk, fresh = grad_2d(self.kernel, f)
                return ops.conv_backward(dy5, x5, y5, kernel2, name, geo, dk, dbias,
                                         need_dx, fresh)
            return y5, backward5

        # Grouped: one convolution per group of input channels / filters.
        cg, fg = kernel.shape[-2], f // groups
        k3 = kernel.reshape(-1, cg, f)
        parts = []
        for g in range(groups):
            xg = np.ascontiguousarray(x5[..., g * cg:(g + 1) * cg])
            kg = np.ascontiguousarray(k3[:, :, g * fg:(g + 1) * fg]).reshape(-1, fg)
            bg = None if bias is None else bias[g * fg:(g + 1) * fg]
            parts.append((xg, kg, ops.conv_forward(xg, kg, bg, name, geo)))
        y5 = np.concatenate([p[2] for p in parts], axis=-1)

        def backward5(dy5, need_dx):
            dk3 = self.kernel.grad.reshape(-1, cg, f)
            dxs = []
            for g, (xg, kg, yg) in enumerate(parts):
                sl = slice(g * fg, (g + 1) * fg)
                dbias = self.bias.grad[sl] if self.bias is not None else None
                dkg = np.empty(kg.shape, kg.dtype)
                dxs.append(ops.conv_backward(np.ascontiguousarray(dy5[..., sl]), xg, yg, kg,
                                             name, geo, dkg, dbias, need_dx, True))
                dk3[:, :, sl] += dkg.reshape(-1, cg, fg)
            return np.concatenate(dxs, axis=-1) if need_dx else None
        return y5, backward5

    def get_config(self):
        return self._config_of((
            "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
            "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer",
            "kernel_regularizer", "bias_regularizer", "activity_regularizer",
            "kernel_constraint", "bias_constraint"))


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) (or (batch, channels, steps))."""
    _rank = 1


class Conv2D(_Conv):
    """2-D convolution over (batch, rows, cols, channels) (or channels_first)."""
    _rank = 2


class Conv3D(_Conv):
    """3-D convolution over (batch, depth, rows, cols, channels) (or channels_first)."""
    _rank = 3


# Keras's aliases (also accepted as class names in saved configs).
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
BUILTIN_LAYERS.setdefault("Convolution1D", Conv1D)
BUILTIN_LAYERS.setdefault("Convolution2D", Conv2D)
BUILTIN_LAYERS.setdefault("Convolution3D", Conv3D)
