"""EinsumDense: ``activation(einsum(equation, x, kernel) + bias)``, Keras 3's
layer. The kernel's shape comes from the equation (each kernel letter takes
its size from the output shape, else from the input), the bias lies along
``bias_axes`` from the first of them to the end of the output."""
import re

import numpy as np

from ckeras import activations, constraints, initializers, regularizers
from ckeras.layers.layer import Layer, as_float32

_EQUATION_FORMS = (
    ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", None),
    ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", "left"),
    ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", "right"),
)


def parse_equation(equation):
    """(input, kernel, output subscripts, where the ellipsis is: None/"left"/"right")."""
    spec = re.sub(r"\.\.\.", "0", str(equation).replace(" ", ""))
    for pattern, elided in _EQUATION_FORMS:
        m = re.match(pattern, spec)
        if m:
            return m.group(1), m.group(2), m.group(3), elided
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def analyze(equation, bias_axes, input_shape, partial_output_shape, who="EinsumDense"):
    """Keras's shape analysis: (kernel shape, bias shape or None, full output
    shape, kernel axes of input units, kernel axes of output units)."""
    in_spec, w_spec, out_spec, elided_side = parse_equation(equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(in_spec)
    output_shape = [input_shape[0]] + list(partial_output_shape)
    if elided > 0 and elided_side == "left":
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])   # Keras's order, kept as is
    elif elided > 0:
        output_shape += list(input_shape[len(input_shape) - elided:])
    if elided_side == "left":
        in_map = {d: i + elided - len(input_shape) for i, d in enumerate(in_spec)}
        out_map = {d: i + elided for i, d in enumerate(out_spec)}
    else:
        in_map = {d: i for i, d in enumerate(in_spec)}
        out_map = {d: i for i, d in enumerate(out_spec)}
    for d in in_spec:
        if d in out_map:
            got = output_shape[out_map[d]]
            if got is not None and got != input_shape[in_map[d]]:
                raise ValueError(f"{who}: input shape and output shape do not match at "
                                 f"shared dimension '{d}'. Input shape is "
                                 f"{input_shape[in_map[d]]}, and output shape is {got}.")
    for d in out_spec:
        if d not in in_spec and d not in w_spec:
            raise ValueError(f"{who}: dimension '{d}' was specified in the output "
                             f"'{out_spec}' but has no corresponding dim in the input spec "
                             f"'{in_spec}' or weight spec '{w_spec}'")
    kernel_shape, input_axes, output_axes = [], [], []
    for i, d in enumerate(w_spec):
        if d in out_map:
            kernel_shape.append(output_shape[out_map[d]])
            output_axes.append(i)
        elif d in in_map:
            kernel_shape.append(input_shape[in_map[d]])
            input_axes.append(i)
        else:
            raise ValueError(f"{who}: weight dimension '{d}' did not have a match in "
                             f"either the input spec '{in_spec}' or the output spec "
                             f"'{out_spec}'. For this layer, the weight must be fully "
                             "specified.")
    bias_shape = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"{who}: bias dimension '{c}' was requested, but is "
                                 f"not part of the output spec '{out_spec}'")
        shift = elided if elided_side == "left" else 0
        sizes = {c: output_shape[i + shift] for i, c in enumerate(out_spec)}
        first = min(out_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
        if elided_side != "left":
            bias_shape += [1] * max(elided, 0)
    return kernel_shape, bias_shape, output_shape, input_axes, output_axes


def concrete_equation(equation, ndim):
    """The equation with its ellipsis written out as letters for an input of
    rank ``ndim``, as (input, kernel, output) subscripts."""
    in_spec, w_spec, out_spec, side = parse_equation(equation)
    n = ndim - len(in_spec)
    if side is None or n <= 0:
        if n != 0:
            raise ValueError(f"EinsumDense: equation '{equation}' needs inputs of rank "
                             f"{len(in_spec)}, got rank {ndim}.")
        return in_spec, w_spec, out_spec
    free = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            if c not in in_spec + w_spec + out_spec][:n]
    dots = "".join(free)
    if side == "left":
        return dots + in_spec, w_spec, dots + out_spec
    return in_spec + dots, w_spec, out_spec + dots


def einsum_operand_grad(dy, out, this, other, other_value, shape):
    """d einsum(this, other -> out) / d this, given dy: letters summed in
    ``this`` alone come back broadcast."""
    kept = "".join(c for c in this if c in out or c in other)
    g = np.einsum(f"{out},{other}->{kept}", dy, other_value)
    if kept != this:
        g = np.broadcast_to(g.reshape([shape[this.index(c)] if c in kept else 1
                                       for c in this]), shape)
    return g


def sum_to_shape(g, shape):
    """Undo numpy broadcasting of an array of ``shape`` into g (a bias's gradient)."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


class EinsumDense(Layer):
    """Dense-like layer on any einsum ``equation`` (``"ab,bc->ac"``,
    ``"...b,bc->...c"``, ``"ab...,bc->ac..."``)."""

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        for arg, value in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                           ("gptq_unpacked_column_size", gptq_unpacked_column_size),
                           ("quantization_config", quantization_config)):
            if value is not None:
                raise NotImplementedError(f"EinsumDense: `{arg}` (LoRA / quantization) is "
                                          f"not supported by ckeras, got {arg}={value!r}.")
        super().__init__(**kwargs)
        parse_equation(equation)
        self.equation = equation
        if isinstance(output_shape, (int, np.integer)):
            self.partial_output_shape = (int(output_shape),)
        else:
            self.partial_output_shape = tuple(None if d is None else int(d)
                                              for d in output_shape)
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise TypeError(f"EinsumDense: `bias_axes` must be a string of output letters, "
                            f"got {bias_axes!r}.")
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    @property
    def _who(self):
        return f"Layer {self.name!r} (EinsumDense)"

    def build(self, input_shape):
        kernel_shape, bias_shape, _, in_axes, out_axes = analyze(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape, self._who)
        if any(d is None for d in kernel_shape):
            raise ValueError(f"Layer {self.name!r} (EinsumDense): the kernel shape "
                             f"{kernel_shape} has unknown sizes; give them in output_shape "
                             f"or the input shape {tuple(input_shape)}.")
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
                init.input_axes is None or init.output_axes is None):
            # Keras 3.15: fans from the kernel's input / output axes.
            config = init.get_config()
            config.update(input_axes=in_axes, output_axes=out_axes)
            init = type(init).from_config(config)
        self._ndim = len(input_shape)
        self.kernel = self.add_weight("kernel", tuple(kernel_shape), init,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.bias = self.add_weight("bias", tuple(bias_shape), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def compute_output_shape(self, input_shape):
        # Keras infers the output by running the einsum: a None in output_shape
        # takes the input's size along the same letter.
        kernel_shape, _, declared, _, _ = analyze(self.equation, self.bias_axes, input_shape,
                                                  self.partial_output_shape, self._who)
        sub_x, sub_w, sub_y = concrete_equation(self.equation, len(input_shape))
        sizes = dict(zip(sub_w, kernel_shape))
        sizes.update((c, d) for c, d in zip(sub_x, input_shape) if d is not None)
        out = tuple(sizes.get(c) for c in sub_y)
        return (input_shape[0],) + out[1:] if len(out) == len(declared) else tuple(declared)

    def forward(self, x, training=False, mask=None):
        return self._einsum(x, self.activation)

    def forward_logits(self, x, training=False, mask=None):
        """Forward without the activation: the trainer fuses it into the loss."""
        return self._einsum(x, None)

    def _einsum(self, x, activation):
        x = as_float32(x)
        if x.ndim != self._ndim:
            raise ValueError(f"Input 0 of layer {self.name!r} (EinsumDense) is incompatible "
                             f"with the layer: expected ndim={self._ndim}, found "
                             f"ndim={x.ndim}. Full shape received: {x.shape}")
        sub_x, sub_w, sub_y = concrete_equation(self.equation, x.ndim)
        kernel = self.kernel.value
        for c, d in zip(sub_x, x.shape):
            if c in sub_w and kernel.shape[sub_w.index(c)] != d:
                raise ValueError(f"Layer {self.name!r} (EinsumDense): input axis '{c}' has "
                                 f"size {d}, the kernel {kernel.shape} expects "
                                 f"{kernel.shape[sub_w.index(c)]}. Input shape: {x.shape}")
        z = np.einsum(f"{sub_x},{sub_w}->{sub_y}", x, kernel)
        if self.bias is not None:
            z = z + self.bias.value
        y = z if activation is None else activation.forward(z)

        def backward(dy, need_dx=True):
            dz = dy if activation is None else activation.backward(dy, z, y)
            if self.trainable:
                self.kernel.grad += einsum_operand_grad(dz, sub_y, sub_w, sub_x, x,
                                                        kernel.shape)
                if self.bias is not None:
                    self.bias.grad += sum_to_shape(dz, self.bias.shape)
            if not need_dx:
                return None
            return einsum_operand_grad(dz, sub_y, sub_x, sub_w, kernel, x.shape)
        return y, backward

    def get_config(self):
        config = super().get_config()
        config.update({"output_shape": self.partial_output_shape, "equation": self.equation,
                       "activation": activations.serialize(self.activation),
                       "bias_axes": self.bias_axes})
        for family, module in (("initializer", initializers), ("regularizer", regularizers),
                               ("constraint", constraints)):
            for weight in ("kernel", "bias"):
                key = f"{weight}_{family}"
                config[key] = module.serialize(getattr(self, key))
        config["activity_regularizer"] = regularizers.serialize(
            getattr(self, "activity_regularizer", None))
        config["quantization_config"] = None
        return config
