"""BatchNormalization and LayerNormalization, with exact backward passes.

Both normalise ``x̂ = (x - mean) / sqrt(var + epsilon)`` with the *biased*
variance and output ``gamma * x̂ + beta``; they differ in which axes the
statistics are taken over (BN: all but ``axis``, over the batch; LN: ``axis``,
per sample). Formulas and weight order follow docs/spec/hdf5_format.md §6 / §6.4.
"""
import numpy as np

from ckeras import initializers
from ckeras.layers.layer import Layer, as_float32, check_input_ndim
from ckeras.layers.weight_options import add_weight_with_options, config_values, set_weight_options

# tf.keras 2 BatchNormalization config keys and the only values we implement.
_LEGACY_BN_DEFAULTS = {"renorm": False, "renorm_clipping": None,
                       "virtual_batch_size": None, "adjustment": None}
_LEGACY_BN_IGNORED = ("renorm_momentum", "fused")   # no effect without renorm / on CPU


def _normalize_backward(g, xhat, inv, axes):
    """dx of x̂ = (x - mean(x)) * inv, inv = (var(x) + eps)^-1/2, given g = dL/dx̂.

    The mean and variance are over ``axes``; the two subtracted terms are the
    paths through the mean and through the variance.
    """
    g_mean = g.mean(axis=axes, keepdims=True)
    gx_mean = (g * xhat).mean(axis=axes, keepdims=True)
    return inv * (g - g_mean - xhat * gx_mean)


def _statistics(x, axes, epsilon):
    """(mean, x - mean, the biased variance, inv = (var + epsilon)^-1/2) over ``axes``."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)   # biased, as Keras
    return mean, xc, var, 1.0 / np.sqrt(var + epsilon)


def _affine(xhat, gamma, beta):
    """gamma * x̂ + beta, either left out when None (a new array either way)."""
    y = xhat * gamma if gamma is not None else xhat.copy()
    if beta is not None:
        y += beta
    return y


def _accumulate_affine(layer, dy, xhat, axes):
    """Add gamma's and beta's gradients (dy summed over ``axes``) when trainable."""
    if not layer.trainable:
        return
    if layer.gamma is not None:
        layer.gamma.grad += (dy * xhat).sum(axis=axes).reshape(layer.gamma.shape)
    if layer.beta is not None:
        layer.beta.grad += dy.sum(axis=axes).reshape(layer.beta.shape)


def _serialize_common(layer):
    return config_values(layer, (
        "beta_initializer", "gamma_initializer", "beta_regularizer", "gamma_regularizer",
        "beta_constraint", "gamma_constraint"))


def _init_affine(layer, center, scale, beta_initializer, gamma_initializer,
                 beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint):
    """The options of the ``gamma * x̂ + beta`` step every normalisation ends with."""
    layer.center = bool(center)
    layer.scale = bool(scale)
    set_weight_options(layer, "beta", beta_initializer, beta_regularizer, beta_constraint)
    set_weight_options(layer, "gamma", gamma_initializer, gamma_regularizer, gamma_constraint)


def _build_affine(layer, shape, with_gamma, with_beta):
    """gamma then beta of ``shape`` (Keras's weight order), each only if asked for."""
    if with_gamma:
        layer.gamma = add_weight_with_options(layer, "gamma", shape)
    if with_beta:
        layer.beta = add_weight_with_options(layer, "beta", shape)


def _check_epsilon(cls_name, epsilon):
    if not epsilon > 0:
        raise ValueError(f"{cls_name}: `epsilon` must be a positive float, got {epsilon!r}.")
    return float(epsilon)


class BatchNormalization(Layer):
    """Normalise each channel (``axis``) with batch statistics in training and
    with the moving statistics at inference.

    Side effect: ``forward(x, training=True)`` updates ``moving_mean`` and
    ``moving_variance`` in place (``moving = moving * momentum + batch_stat *
    (1 - momentum)``, biased batch variance), as Keras does inside ``call``.
    It is the one state change a forward pass makes here. A layer with
    ``trainable = False`` runs in inference mode even when training (Keras's
    rule for BN), so it neither uses batch statistics nor updates them.
    ``synchronized`` is accepted for config compatibility; with one process it
    changes nothing.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        legacy = {k: kwargs.pop(k) for k in list(kwargs)
                  if k in _LEGACY_BN_DEFAULTS or k in _LEGACY_BN_IGNORED}
        super().__init__(**kwargs)
        for key, value in legacy.items():
            if key in _LEGACY_BN_DEFAULTS and value != _LEGACY_BN_DEFAULTS[key]:
                raise ValueError(f"BatchNormalization {self.name!r}: `{key}={value!r}` "
                                 "is not supported (tf.keras 2 option); expected "
                                 f"{_LEGACY_BN_DEFAULTS[key]!r}.")
        if isinstance(axis, (list, tuple)):
            # tf.keras 2 writes axis as a list, e.g. [3]; Keras 3 takes an int.
            if len(axis) != 1:
                raise ValueError(f"BatchNormalization {self.name!r}: `axis` must be an "
                                 f"int or a one-element list, got {axis!r}.")
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"BatchNormalization {self.name!r}: `axis` must be an int, "
                            f"got {axis!r}.")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization {self.name!r}: `momentum` must be in "
                             f"[0, 1], got {momentum!r}.")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = _check_epsilon("BatchNormalization", epsilon)
        _init_affine(self, center, scale, beta_initializer, gamma_initializer,
                     beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = bool(synchronized)
        self.supports_masking = True
        self.gamma = self.beta = None

    def _resolve_axis(self, ndim):
        if not -ndim <= self.axis < ndim or ndim < 2:
            raise ValueError(f"Layer {self.name!r} (BatchNormalization): axis {self.axis} "
                             f"is out of range for inputs of rank {ndim} (expected rank "
                             f">= 2 and -{ndim} <= axis < {ndim}).")
        return self.axis % ndim

    def build(self, input_shape):
        ndim = len(input_shape)
        axis = self._resolve_axis(ndim)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"Layer {self.name!r} (BatchNormalization): axis {self.axis} "
                             f"of the input must have a known size, got shape {input_shape}.")
        shape = (channels,)
        _build_affine(self, shape, self.scale, self.center)
        self.moving_mean = self.add_weight("moving_mean", shape,
                                           self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               self.moving_variance_initializer,
                                               trainable=False)
        self._ndim = ndim
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _view3(self, x):
        """(pre, C, post) view: statistics are over axes 0 and 2 for any rank."""
        check_input_ndim(self, x.shape, self._ndim)
        axis = self.axis % x.ndim
        channels = self.moving_mean.shape[0]
        if x.shape[axis] != channels:
            raise ValueError(f"Input 0 of layer {self.name!r} (BatchNormalization) is "
                             f"incompatible with the layer: expected axis {self.axis} of "
                             f"input shape to have value {channels}, but received input "
                             f"with shape {x.shape}.")
        pre = int(np.prod(x.shape[:axis], dtype=np.int64))
        post = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
        return x.reshape(pre, channels, post)

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        x3 = self._view3(x)
        gamma = self.gamma.value[:, None] if self.scale else None
        beta = self.beta.value[:, None] if self.center else None
        if training and self.trainable:
            y3, backward3 = self._forward_train(x3, gamma, beta)
        else:
            y3, backward3 = self._forward_inference(x3, gamma, beta)

        def backward(dy, need_dx=True):
            dx3 = backward3(dy.reshape(x3.shape), need_dx)
            return dx3.reshape(x.shape) if need_dx else None
        return y3.reshape(x.shape), backward

    def _forward_train(self, x3, gamma, beta):
        axes = (0, 2)
        mean, xc, var, inv = _statistics(x3, axes, self.epsilon)
        xhat = xc * inv
        self._update_moving(mean.ravel(), var.ravel())
        y3 = _affine(xhat, gamma, beta)

        def backward3(dy3, need_dx):
            _accumulate_affine(self, dy3, xhat, axes)
            if not need_dx:
                return None
            g = dy3 * gamma if gamma is not None else dy3
            return _normalize_backward(g, xhat, inv, axes)
        return y3, backward3

    def _forward_inference(self, x3, gamma, beta):
        inv = 1.0 / np.sqrt(self.moving_variance.value[:, None] + self.epsilon)
        mean = self.moving_mean.value[:, None]
        mult = inv * gamma if gamma is not None else inv
        shift = -mean * mult
        if beta is not None:
            shift = shift + beta
        mult, shift = mult.astype(x3.dtype, copy=False), shift.astype(x3.dtype, copy=False)
        y3 = x3 * mult + shift

        def backward3(dy3, need_dx):
            if self.trainable:
                _accumulate_affine(self, dy3, (x3 - mean) * inv if self.scale else None, (0, 2))
            return dy3 * mult if need_dx else None
        return y3, backward3

    def _update_moving(self, mean, var):
        m = self.momentum
        mm, mv = self.moving_mean.value, self.moving_variance.value
        mm[...] = mm * m + mean * (1.0 - m)
        mv[...] = mv * m + var * (1.0 - m)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "synchronized": self.synchronized,
        })
        config.update(_serialize_common(self))
        return config


class LayerNormalization(Layer):
    """Normalise each sample over ``axis`` (int or list of ints), then
    ``gamma * x̂ + beta``; the same in training and inference.

    ``rms_scaling=True`` reproduces Keras 3's (deprecated) behaviour exactly:
    ``y = gamma * x / sqrt(var(x) + epsilon)`` (variance, not the mean square;
    x is not centred), with no ``beta``.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axes = list(axis)
        else:
            axes = [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                           for a in axes):
            raise TypeError(f"LayerNormalization {self.name!r}: `axis` must be an int or "
                            f"a list of ints, got {axis!r}.")
        self.axis = [int(a) for a in axes]   # Keras 3 writes the list form, e.g. [-1]
        self.epsilon = _check_epsilon("LayerNormalization", epsilon)
        _init_affine(self, center, scale, beta_initializer, gamma_initializer,
                     beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)
        self.rms_scaling = bool(rms_scaling)
        self.supports_masking = True
        self.gamma = self.beta = None

    def _axes(self, ndim):
        if any(not -ndim <= a < ndim for a in self.axis) or ndim < 2:
            raise ValueError(f"Layer {self.name!r} (LayerNormalization): axis {self.axis} "
                             f"is out of range for inputs of rank {ndim}.")
        axes = sorted({a % ndim for a in self.axis})
        if len(axes) != len(self.axis):
            raise ValueError(f"Layer {self.name!r} (LayerNormalization): duplicate axes "
                             f"in {self.axis}.")
        return tuple(axes)

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = self._axes(ndim)
        # Keras sizes the weights in the order the axes were given...
        shape = tuple(input_shape[a] for a in self.axis)
        if any(d is None for d in shape):
            raise ValueError(f"Layer {self.name!r} (LayerNormalization): the normalised "
                             f"axes {self.axis} must have known sizes, got {input_shape}.")
        _build_affine(self, shape, self.scale or self.rms_scaling,
                      self.center and not self.rms_scaling)
        # ...and broadcasts them laid out along the sorted axes.
        self._param_shape = tuple(input_shape[a] if a in axes else 1 for a in range(ndim))
        self._norm_axes = axes
        self._ndim = ndim
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        if x.ndim != self._ndim or any(x.shape[a] != self._param_shape[a]
                                       for a in self._norm_axes):
            raise ValueError(f"Input 0 of layer {self.name!r} (LayerNormalization) is "
                             f"incompatible with the layer: expected shape matching "
                             f"{self._param_shape} on axes {self.axis} with rank "
                             f"{self._ndim}, got {x.shape}.")
        axes = self._norm_axes
        other = tuple(a for a in range(x.ndim) if a not in axes)
        gamma = self.gamma.value.reshape(self._param_shape) if self.gamma is not None else None
        beta = self.beta.value.reshape(self._param_shape) if self.beta is not None else None
        _, xc, _, inv = _statistics(x, axes, self.epsilon)
        # rms_scaling keeps x uncentred (Keras's quirk); otherwise x̂ is centred.
        xhat = x * inv if self.rms_scaling else xc * inv
        y = _affine(xhat, gamma, beta)

        def backward(dy, need_dx=True):
            _accumulate_affine(self, dy, xhat, other)
            if not need_dx:
                return None
            g = dy * gamma if gamma is not None else dy
            if self.rms_scaling:
                # y = x * inv: d inv / dx = -inv^3 (x - mean) / n.
                gx_mean = (g * x).mean(axis=axes, keepdims=True)
                return g * inv - (inv * inv * inv * gx_mean) * xc
            return _normalize_backward(g, xhat, inv, axes)
        return y, backward

    def get_config(self):
        config = super().get_config()
        config.update({"axis": list(self.axis), "epsilon": self.epsilon,
                       "center": self.center, "scale": self.scale,
                       "rms_scaling": self.rms_scaling})
        config.update(_serialize_common(self))
        return config


class UnitNormalization(Layer):
    """y = x / ||x||_2 over ``axis`` (int or list): Keras 3's
    ``x * min(rsqrt(sum x^2), 1 / 1e-12)``."""

    _EPSILON = 1e-12

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = [int(a) for a in axis]
        elif isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"UnitNormalization: `axis` must be an int or a list of ints, "
                            f"got {axis!r}.")
        else:
            axis = int(axis)
        self.axis = axis
        self.supports_masking = True

    def _axes(self, ndim):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(not -ndim <= a < ndim for a in axes):
            raise ValueError(f"Layer {self.name!r} (UnitNormalization): axis {self.axis} is "
                             f"out of range for inputs of rank {ndim}.")
        return tuple(sorted({a % ndim for a in axes}))

    def compute_output_shape(self, input_shape):
        self._axes(len(input_shape))
        return input_shape

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        axes = self._axes(x.ndim)
        ss = (x * x).sum(axis=axes, keepdims=True)
        clipped = ss < self._EPSILON ** 2        # inv capped at 1 / epsilon
        with np.errstate(divide="ignore"):
            inv = np.where(clipped, 1.0 / self._EPSILON, 1.0 / np.sqrt(ss)).astype(x.dtype)
        y = x * inv

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            # d(x / |x|) = (dy - y <y, dy>) / |x|; a capped inv is a constant.
            proj = np.where(clipped, 0.0, (y * dy).sum(axis=axes, keepdims=True))
            return (dy - y * proj) * inv
        return y, backward

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class GroupNormalization(Layer):
    """Split the channels (``axis``) into ``groups`` and normalise each group
    of each sample over its channels and every non-batch axis, then
    ``gamma * x̂ + beta`` per channel. ``groups=-1``: one group per channel."""

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or (
                groups <= 0 and groups != -1):
            raise ValueError(f"GroupNormalization: `groups` must be a positive integer "
                             f"(or -1 for instance normalization), got {groups!r}.")
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = _check_epsilon("GroupNormalization", epsilon)
        _init_affine(self, center, scale, beta_initializer, gamma_initializer,
                     beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)
        self.supports_masking = True
        self.gamma = self.beta = None

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"Layer {self.name!r} (GroupNormalization): axis {self.axis} is "
                             f"out of range (or the batch axis) for inputs of rank {ndim}.")
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Layer {self.name!r} (GroupNormalization): axis {self.axis} "
                             f"must have a known size, got shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups or dim % self.groups:
            raise ValueError(f"Layer {self.name!r} (GroupNormalization): {dim} channels "
                             f"cannot be split into {self.groups} equal groups.")
        _build_affine(self, (dim,), self.scale, self.center)
        self._dim = dim
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        axis = self.axis % x.ndim
        if x.shape[axis] != self._dim:
            raise ValueError(f"Input 0 of layer {self.name!r} (GroupNormalization) is "
                             f"incompatible: expected axis {self.axis} of size {self._dim}, "
                             f"got shape {x.shape}.")
        # (batch, pre, groups, channels per group, post): statistics over 1, 3, 4.
        pre = int(np.prod(x.shape[1:axis], dtype=np.int64))
        post = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
        g = self.groups
        x5 = x.reshape(x.shape[0], pre, g, self._dim // g, post)
        axes = (1, 3, 4)
        _, xc, _, inv = _statistics(x5, axes, self.epsilon)
        xhat = xc * inv
        pshape = (1, 1, g, self._dim // g, 1)
        gamma = self.gamma.value.reshape(pshape) if self.scale else None
        beta = self.beta.value.reshape(pshape) if self.center else None
        y = _affine(xhat, gamma, beta)

        def backward(dy, need_dx=True):
            dy5 = dy.reshape(x5.shape)
            _accumulate_affine(self, dy5, xhat, (0, 1, 4))
            if not need_dx:
                return None
            gx = dy5 * gamma if gamma is not None else dy5
            return _normalize_backward(gx, xhat, inv, axes).reshape(x.shape)
        return y.reshape(x.shape).astype(x.dtype, copy=False), backward

    def get_config(self):
        config = super().get_config()
        config.update({"groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                       "center": self.center, "scale": self.scale})
        config.update(_serialize_common(self))
        return config
