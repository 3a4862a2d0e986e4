"""keras.layers.InputSpec: what a layer declares about its inputs (rank, dtype,
shape, sizes of given axes), and the check ``Layer.__call__`` runs against a
layer's ``input_spec`` before calling it (Keras 3's rules and messages)."""
import numpy as np


def _dtype_name(dtype):
    if dtype is None:
        return None
    if dtype in ("string", "str", str):
        return "string"
    return np.dtype(dtype).name


class InputSpec:
    """Expected dtype, shape (batch axis included; None matches anything),
    ndim / max_ndim / min_ndim, ``axes`` ({axis: size}) of one layer input.

    ``allow_last_axis_squeeze`` accepts a trailing axis of size 1 more or less
    than the spec; ``name`` is the key of this input when inputs come as a
    dict; an ``optional`` input may be None."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = _dtype_name(dtype)
        if shape is not None:
            self.shape = tuple(None if d is None else int(d) for d in shape)
            self.ndim = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError("InputSpec: argument `axes` must be a dict with integer keys. "
                            f"Received: axes={axes}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            if max(self.axes) > max_dim:
                raise ValueError(f"InputSpec: axis {max(self.axes)} is greater than the "
                                 f"maximum allowed value: {max_dim}")

    def __repr__(self):
        parts = [f"{k}={getattr(self, k)}" for k in
                 ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes") if getattr(self, k)]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _flatten(structure):
    if isinstance(structure, (list, tuple)):
        return [leaf for s in structure for leaf in _flatten(s)]
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in _flatten(structure[k])]
    return [structure]


def _shape_of(x):
    shape = x.shape
    return tuple(None if d is None else int(d) for d in shape)


def _dtype_of(x):
    dtype = getattr(x, "dtype", None)
    if isinstance(dtype, str):   # KerasTensor
        return _dtype_name(dtype)
    return np.dtype(dtype).name if dtype is not None else None


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raise ValueError naming the layer, the input and the rule when
    ``inputs`` break ``input_spec`` (an InputSpec or a nested structure of
    them, one per input)."""
    if not input_spec:
        return
    specs = _flatten(input_spec)
    if isinstance(inputs, dict):
        names = [spec.name if spec is not None else None for spec in specs]
        if all(names):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f'Missing data for input "{missing[0]}". You passed a data '
                                 f"dictionary with keys {list(inputs)}. Expected the "
                                 f"following keys: {names}")
            inputs = [inputs[n] for n in names]
    inputs = _flatten(inputs)
    if len(inputs) != len(specs):
        names = [spec.name for spec in specs if spec is not None]
        if len(names) == len(specs) and all(names):
            raise ValueError(f'Layer "{layer_name}" expects {len(specs)} named input(s) '
                             f"with keys {names}, but it received {len(inputs)} input "
                             "tensors. Pass inputs as a dict, e.g. `layer({"
                             + ", ".join(f"'{n}': ..." for n in names) + "})`.")
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it '
                         f"received {len(inputs)} input tensors.")
    for i, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            if isinstance(x, (list, tuple, int, float)):
                x = np.asarray(x)
            else:
                raise ValueError(f"Inputs to a layer should be tensors. Got '{x}' (of type "
                                 f"{type(x)}) as input for layer '{layer_name}'.")
        _check_one(spec, x, i, layer_name)


def _check_one(spec, x, index, layer_name):
    shape = _shape_of(x)
    ndim = len(shape)
    where = (f"Input {index} with name '{spec.name}' of layer '{layer_name}' is "
             "incompatible with the layer:")
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(f"{where} expected ndim={spec.ndim}, found ndim={ndim}. "
                         f"Full shape received: {shape}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{where} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(f"{where} expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                         f"Full shape received: {shape}")
    if spec.dtype is not None:
        dtype = _dtype_of(x)
        if dtype != spec.dtype:
            raise ValueError(f"{where} expected dtype={spec.dtype}, found dtype={dtype}")
    for axis, value in spec.axes.items():
        if value is None:
            continue
        if not -ndim <= axis < ndim:
            raise ValueError(f"{where} expected axis {axis} of input shape to have value "
                             f"{value}, but received input with shape {shape}")
        if shape[axis] not in (value, None):
            raise ValueError(f"{where} expected axis {axis} of input shape to have value "
                             f"{value}, but received input with shape {shape}")
    if spec.shape is not None:
        spec_shape = spec.shape
        if spec.allow_last_axis_squeeze:
            if shape and shape[-1] == 1:
                shape = shape[:-1]
            if spec_shape and spec_shape[-1] == 1:
                spec_shape = spec_shape[:-1]
        for spec_dim, dim in zip(spec_shape, shape):
            if spec_dim is not None and dim is not None and spec_dim != dim:
                raise ValueError(f"{where} expected shape={spec.shape}, found "
                                 f"shape={shape}")
