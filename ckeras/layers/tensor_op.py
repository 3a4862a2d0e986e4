"""``ckeras.ops`` on symbolic tensors: ``ops.mean(x, axis=1)``, ``x + 1`` or
``x[:, 0]`` on a ``KerasTensor`` add one graph node, a ``TensorOp`` layer that
replays the op (and differentiates it on the tape) when the model runs.

Its config names the op and stores the call's other arguments, so a
functional model using ops saves and reloads (a ckeras format: real Keras
serialises its ops differently).
"""
import numpy as np

from ckeras import ops
from ckeras.layers.keras_tensor import KerasTensor
from ckeras.layers.layer import Layer, unique_name
from ckeras.ops import operators as _operators
from ckeras.ops.tape import _stack


class _Slot:
    """Where the i-th symbolic input goes in the op's arguments."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _template(value, tensors):
    if isinstance(value, KerasTensor):
        tensors.append(value)
        return _Slot(len(tensors) - 1)
    if isinstance(value, list):
        return [_template(v, tensors) for v in value]
    if isinstance(value, tuple):
        return tuple(_template(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _template(v, tensors) for k, v in value.items()}
    return value


def _fill(template, inputs):
    if isinstance(template, _Slot):
        return inputs[template.index]
    if isinstance(template, list):
        return [_fill(v, inputs) for v in template]
    if isinstance(template, tuple):
        return tuple(_fill(v, inputs) for v in template)
    if isinstance(template, dict):
        return {k: _fill(v, inputs) for k, v in template.items()}
    return template


def _to_json(v):
    if isinstance(v, _Slot):
        return {"__tensor__": v.index}
    if isinstance(v, slice):
        return {"__slice__": [v.start, v.stop, v.step]}
    if v is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(v, tuple):
        return {"__tuple__": [_to_json(x) for x in v]}
    if isinstance(v, list):
        return [_to_json(x) for x in v]
    if isinstance(v, dict):
        return {"__dict__": {k: _to_json(x) for k, x in v.items()}}
    if isinstance(v, np.ndarray):
        return {"__array__": v.tolist(), "dtype": v.dtype.name}
    if isinstance(v, np.generic):
        return v.item()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise TypeError(f"cannot save the op argument {v!r} in a model config")


def _from_json(v):
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    if isinstance(v, dict):
        if "__tensor__" in v:
            return _Slot(v["__tensor__"])
        if "__slice__" in v:
            return slice(*v["__slice__"])
        if "__ellipsis__" in v:
            return Ellipsis
        if "__tuple__" in v:
            return tuple(_from_json(x) for x in v["__tuple__"])
        if "__dict__" in v:
            return {k: _from_json(x) for k, x in v["__dict__"].items()}
        if "__array__" in v:
            return np.asarray(v["__array__"], v["dtype"])
    return v


def _op_name(fn):
    """The name TensorOp saves: ``resize`` -> ``image.resize`` (ops.image is a submodule)."""
    return f"image.{fn.__name__}" if fn.__module__ == "ckeras.ops.image" else fn.__name__


def _resolve(name):
    space, _, leaf = name.rpartition(".")
    fn = getattr(ops.image if space == "image" else ops, leaf, None)
    if fn is None or not callable(fn):
        raise ValueError(f"TensorOp: unknown op {name!r} (not in ckeras.ops).")
    return fn


class TensorOp(Layer):
    """One ``ckeras.ops`` call in a functional graph."""

    def __init__(self, function, arguments, input_dtypes=None, **kwargs):
        name = kwargs.pop("name", None) or unique_name(function.rpartition(".")[2])
        super().__init__(name=name, **kwargs)
        self.function = function
        self.arguments = arguments             # (args, kwargs) with _Slot placeholders
        self.input_dtypes = list(input_dtypes or [])
        self._fn = _resolve(function)
        self.built = True

    def call(self, inputs):
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        args, kwargs = _fill(self.arguments, list(inputs))
        return self._fn(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) and input_shape and \
            isinstance(input_shape[0], (tuple, list)) else [input_shape]
        runs = []
        _stack.append(None)  # shape inference records nothing
        try:
            for fill in (2, 3):
                dummies = [np.zeros([fill if d is None else d for d in s],
                                    (self.input_dtypes[i] if i < len(self.input_dtypes)
                                     else "float32"))
                           for i, s in enumerate(shapes)]
                with np.errstate(all="ignore"):
                    runs.append(self.call(dummies))
        finally:
            _stack.pop()
        multi = isinstance(runs[0], (list, tuple))
        a = list(runs[0]) if multi else [runs[0]]
        b = list(runs[1]) if multi else [runs[1]]
        out = [tuple(None if p != q else p for p, q in zip(np.shape(u), np.shape(w)))
               for u, w in zip(a, b)]
        self.output_dtypes = [np.result_type(u).name for u in a]
        return out if multi else out[0]

    def get_config(self):
        config = super().get_config()
        config.update({"function": self.function, "arguments": _to_json(self.arguments),
                       "input_dtypes": self.input_dtypes})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["arguments"] = _from_json(config["arguments"])
        return cls(**config)


def apply(fn, args, kwargs):
    """Record ``fn(*args, **kwargs)`` (some arguments symbolic) as a graph node."""
    tensors = []
    template = _template((tuple(args), dict(kwargs)), tensors)
    layer = TensorOp(_op_name(fn), template, input_dtypes=[t.dtype for t in tensors])
    out = layer(tensors)
    dtypes = getattr(layer, "output_dtypes", None)
    if dtypes:
        for t, dt in zip(out if isinstance(out, list) else [out], dtypes):
            t.dtype = dt
    return tuple(out) if isinstance(out, list) else out


_operators._symbolic_apply = apply   # ckeras.ops cannot import a layer module
