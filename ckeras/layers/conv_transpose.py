"""Transposed convolutions: Conv1DTranspose, Conv2DTranspose, Conv3DTranspose.

A transposed convolution is the adjoint (in its input) of a convolution: each
input pixel scatters ``x @ kernel^T`` over a window of the output. It runs on
the conv machinery with the roles swapped (``ops.conv_transpose_*``: one GEMM
per batch chunk then a compiled col2im; backward im2col of dz then GEMMs).

Kernel (*kernel_size, filters, in_channels) as Keras. Output length and
padding follow Keras 3 (its JAX backend): with eff = d*(k-1)+1,
  valid: left = eff-1, right = eff-1 + output_padding
         (output_padding defaults to max(eff, s) - eff);
  same:  pad = s + eff - 2 (or eff + eff%2 - 2 + output_padding),
         left = min(ceil(pad/2), eff-1), right = pad - left;
  out = (n-1)*s + left + right - eff + 2,
and out[p] receives x[i] @ kernel[t]^T where p = i*s + t*d - (eff-1-left).
"""
from ckeras import ops
from ckeras.layers.convolutional import (ConvBase, _int_tuple, drop_keras2_groups, geo3,
                                         grad_2d)
from ckeras.layers.weight_options import add_weight_with_options, set_weight_options


def transpose_geometry(n, k, s, d, padding, output_padding):
    """(output length, pad_before of the adjoint convolution) along one axis."""
    eff = d * (k - 1) + 1
    if padding == "valid":
        op = max(eff, s) - eff if output_padding is None else output_padding
        left, right = eff - 1, eff - 1 + op
    else:
        pad = s + eff - 2 if output_padding is None else eff + eff % 2 - 2 + output_padding
        left = min(pad // 2 + pad % 2, eff - 1)
        right = pad - left
    return (n - 1) * s + left + right - eff + 2, eff - 1 - left


class _ConvTranspose(ConvBase):

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        cls = type(self).__name__
        super().__init__(**drop_keras2_groups(kwargs, cls))
        self.filters = self._positive(filters, "filters", cls)
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          activation, use_bias, bias_initializer, bias_regularizer,
                          activity_regularizer, bias_constraint)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = _int_tuple(output_padding, self._rank, "output_padding", cls,
                                             allow_zero=True)
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides)):
                if op >= s:
                    raise ValueError(
                        f"{cls}: `output_padding` must be strictly less than `strides` for "
                        f"all dimensions. At dimension {i}, `output_padding` is {op} but "
                        f"`strides` is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}")
        set_weight_options(self, "kernel", kernel_initializer, kernel_regularizer,
                           kernel_constraint)

    def _axes(self, spatial):
        ops_ = self.output_padding or (None,) * self._rank
        return [(None, 0) if n is None else
                transpose_geometry(n, k, s, d, self.padding, op)
                for n, k, s, d, op in zip(spatial, self.kernel_size, self.strides,
                                          self.dilation_rate, ops_)]

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        out = [a[0] for a in self._axes(self._spatial(input_shape))]
        return self._out_shape(input_shape, out, self.filters)

    def build(self, input_shape):
        in_ch = self._in_channels(input_shape)
        self.kernel = add_weight_with_options(self, "kernel",
                                              self.kernel_size + (self.filters, in_ch))
        self.bias = self._add_bias(self.filters)
        self.built = True

    def _check_input(self, shape):
        self._check_channels(shape, self.kernel.shape[-1])

    def _op_geo(self, x_shape):
        """The geometry of the convolution this is the adjoint of: its input is
        our output, its output our input."""
        spatial = self._spatial(x_shape)
        axes = self._axes(spatial)
        return geo3(self._rank, [a[0] for a in axes], spatial, self.kernel_size, self.strides,
                    self.dilation_rate, [a[1] for a in axes])

    def _compute(self, x5, geo, name):
        kernel2 = self.kernel.value.reshape(-1, self.kernel.shape[-1])
        bias = self.bias.value if self.bias is not None else None
        y5 = ops.conv_transpose_forward(x5, kernel2, bias, name, geo)

        def backward5(dy5, need_dx):
            dbias = self.bias.grad if self.bias is not None else None
            dk, fresh = grad_2d(self.kernel, kernel2.shape[1])
            return ops.conv_transpose_backward(dy5, x5, y5, kernel2, name, geo, dk, dbias,
                                               need_dx, fresh)
        return y5, backward5

    def get_config(self):
        config = self._config_of((
            "filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
            "dilation_rate", "activation", "use_bias", "kernel_initializer",
            "bias_initializer", "kernel_regularizer", "bias_regularizer",
            "activity_regularizer", "kernel_constraint", "bias_constraint"))
        return config


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution (batch, steps, channels) -> (batch, out_steps, filters)."""
    _rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (a 'deconvolution'), e.g. a decoder's upsampling."""
    _rank = 2


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution."""
    _rank = 3


Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
