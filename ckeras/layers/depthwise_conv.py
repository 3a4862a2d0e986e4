"""Depthwise and depthwise-separable convolutions (1-D and 2-D).

DepthwiseConv: every input channel c has its own ``depth_multiplier`` filters;
output channel c*M + m (Keras's order). Kernel (*kernel_size, in, M) as
Keras's "kernel", bias (in*M,). Runs on the conv machinery with a
per-channel contraction in place of the GEMM (``ops.depthwise_*``).

SeparableConv: a depthwise convolution (no bias) followed by a pointwise 1x1
convolution ("depthwise_kernel" (*kernel_size, in, M), "pointwise_kernel"
(1,..., in*M, filters), "bias" (filters,)), bias + activation fused into the
pointwise GEMM.
"""
import numpy as np

from ckeras import ops
from ckeras.layers.convolutional import ConvBase, drop_keras2_groups, geo3, grad_2d
from ckeras.layers.weight_options import add_weight_with_options, set_weight_options


class _DepthwiseBase(ConvBase):

    def _init_depthwise(self, depth_multiplier, depthwise_initializer, depthwise_regularizer,
                        depthwise_constraint):
        self.depth_multiplier = self._positive(depth_multiplier, "depth_multiplier",
                                               type(self).__name__)
        set_weight_options(self, "depthwise", depthwise_initializer, depthwise_regularizer,
                           depthwise_constraint)

    def _depthwise(self, var, x5, geo, bias_var, name):
        """(z5, backward5) of the depthwise stage with weight ``var``."""
        taps = int(np.prod(self.kernel_size))
        k3 = var.value.reshape(taps, var.shape[-2], var.shape[-1])
        bias = bias_var.value if bias_var is not None else None
        z5 = ops.depthwise_forward(x5, k3, bias, name, geo)

        def backward5(dz5, need_dx):
            g, fresh = var.grad_for_overwrite()
            dbias = bias_var.grad if bias_var is not None else None
            return ops.depthwise_backward(dz5, x5, z5, k3, name, geo, g.reshape(k3.shape),
                                          dbias, need_dx, fresh)
        return z5, backward5


class _DepthwiseConv(_DepthwiseBase):

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**drop_keras2_groups(kwargs, type(self).__name__))
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          activation, use_bias, bias_initializer, bias_regularizer,
                          activity_regularizer, bias_constraint)
        self._init_depthwise(depth_multiplier, depthwise_initializer, depthwise_regularizer,
                             depthwise_constraint)

    def compute_output_shape(self, input_shape):
        out = self._spatial_out(input_shape)
        in_ch = input_shape[self._channel_axis()]
        return self._out_shape(input_shape, out,
                               None if in_ch is None else in_ch * self.depth_multiplier)

    def build(self, input_shape):
        in_ch = self._in_channels(input_shape)
        self._spatial_out(input_shape)
        self.kernel = add_weight_with_options(
            self, "depthwise", self.kernel_size + (in_ch, self.depth_multiplier), name="kernel")
        self.bias = self._add_bias(in_ch * self.depth_multiplier)
        self.built = True

    def _check_input(self, shape):
        self._check_channels(shape, self.kernel.shape[-2])

    def _compute(self, x5, geo, name):
        return self._depthwise(self.kernel, x5, geo, self.bias, name)

    def get_config(self):
        return self._config_of((
            "depth_multiplier", "kernel_size", "strides", "padding", "data_format",
            "dilation_rate", "activation", "use_bias", "depthwise_initializer",
            "bias_initializer", "depthwise_regularizer", "bias_regularizer",
            "activity_regularizer", "depthwise_constraint", "bias_constraint"))


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution."""
    _rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution."""
    _rank = 2


class _SeparableConv(_DepthwiseBase):

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(**drop_keras2_groups(kwargs, type(self).__name__))
        self.filters = self._positive(filters, "filters", type(self).__name__)
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          activation, use_bias, bias_initializer, bias_regularizer,
                          activity_regularizer, bias_constraint)
        self._init_depthwise(depth_multiplier, depthwise_initializer, depthwise_regularizer,
                             depthwise_constraint)
        set_weight_options(self, "pointwise", pointwise_initializer, pointwise_regularizer,
                           pointwise_constraint)

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape, self._spatial_out(input_shape), self.filters)

    def build(self, input_shape):
        in_ch = self._in_channels(input_shape)
        self._spatial_out(input_shape)
        m = self.depth_multiplier
        self.depthwise_kernel = add_weight_with_options(
            self, "depthwise", self.kernel_size + (in_ch, m), name="depthwise_kernel")
        self.pointwise_kernel = add_weight_with_options(
            self, "pointwise", (1,) * self._rank + (in_ch * m, self.filters),
            name="pointwise_kernel")
        self.bias = self._add_bias(self.filters)
        self.built = True

    def _check_input(self, shape):
        self._check_channels(shape, self.depthwise_kernel.shape[-2])

    def _compute(self, x5, geo, name):
        t5, back_dw = self._depthwise(self.depthwise_kernel, x5, geo, None, "linear")
        ones = (1,) * self._rank
        pgeo = geo3(self._rank, t5.shape[4 - self._rank:4], t5.shape[4 - self._rank:4], ones,
                    ones, ones, (0,) * self._rank)
        kernel2 = self.pointwise_kernel.value.reshape(-1, self.filters)
        bias = self.bias.value if self.bias is not None else None
        y5 = ops.conv_forward(t5, kernel2, bias, name, pgeo)

        def backward5(dy5, need_dx):
            dbias = self.bias.grad if self.bias is not None else None
            dk, fresh = grad_2d(self.pointwise_kernel, self.filters)
            dt5 = ops.conv_backward(dy5, t5, y5, kernel2, name, pgeo, dk, dbias, True, fresh)
            return back_dw(dt5, need_dx)
        return y5, backward5

    def get_config(self):
        return self._config_of((
            "depth_multiplier", "filters", "kernel_size", "strides", "padding", "data_format",
            "dilation_rate", "activation", "use_bias", "depthwise_initializer",
            "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
            "pointwise_regularizer", "bias_regularizer", "activity_regularizer",
            "depthwise_constraint", "pointwise_constraint", "bias_constraint"))


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution."""
    _rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution."""
    _rank = 2


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
