"""Lambda: wrap a Python function of tensors as a layer.

A function written with ``ckeras.ops`` (or Python operators, or numpy ufuncs
on the tensors) is differentiated by the tape. Otherwise the user supplies
its gradient (ckeras extension):

    Lambda(lambda x: x ** 2, gradient=lambda dy, x, y: 2 * x * dy)

``gradient(dy, x, y)`` returns dL/dx (a list for a list input). A function
that leaves the tape (plain numpy calls on arrays) and has no ``gradient`` is
inference-only: training raises as soon as a gradient has to flow through it
(a Lambda in front of every trainable layer still trains, since no gradient
is needed there).

Saving: a function's code is never serialised. ``get_config`` writes Keras 3's
function entry: for a named function ``{"module", "class_name": "function",
"config": <name>, "registered_name": <name>}`` (reloadable through
``custom_objects={name: fn}``), for a Python lambda (or any other unnamed
callable) ``{"class_name": "__lambda__", "config": {"code": None, ...}}``,
which ``Lambda.from_config`` refuses with a clear error, as it refuses tf.keras
2's marshalled lambdas (``"function_type": "lambda"``). The gradient is not
saved either; set ``layer.gradient`` again after loading.
"""
import inspect

import numpy as np

from ckeras.layers.layer import Layer, _is_shape_list
from ckeras.registry import lookup_custom

_LAMBDA_ENTRY = {"class_name": "__lambda__",
                 "config": {"code": None, "defaults": None, "closure": None}}
# tf.keras 2 Lambda config keys that are not Keras 3 constructor arguments.
_KERAS2_KEYS = ("function_type", "module", "output_shape_type", "output_shape_module")


def _is_named_function(fn):
    # Functions, builtins and ufuncs have a name custom_objects can map back;
    # lambdas, partials and bound methods do not.
    if inspect.ismethod(fn) or isinstance(fn, type):
        return False
    name = getattr(fn, "__name__", None)
    return isinstance(name, str) and name != "<lambda>"


def _function_entry(fn):
    if not _is_named_function(fn):
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in _LAMBDA_ENTRY.items()}
    registered = getattr(fn, "_registered_name", None) or fn.__name__
    return {"module": getattr(fn, "__module__", None), "class_name": "function",
            "config": fn.__name__,
            "registered_name": registered}


def _refuse(layer_name, what):
    return ValueError(
        f"Cannot load Lambda layer {layer_name!r}: its {what} is a Python lambda (or "
        "another unnamed callable), and "
        "ckeras never saves or runs serialised code. Rebuild the model with the code "
        "that created it, then restore the weights with model.load_weights(path).")


def _load_function(entry, layer_name, what, custom_objects, keras2_type=None):
    """A callable from a saved function entry, or a clear ValueError."""
    if keras2_type == "lambda" or (isinstance(entry, dict)
                                   and entry.get("class_name") == "__lambda__"):
        raise _refuse(layer_name, what)
    if isinstance(entry, dict):
        name, registered = entry.get("config"), entry.get("registered_name")
    elif isinstance(entry, str):
        name, registered = entry, None
    else:
        raise _refuse(layer_name, what)   # tf.keras 2 marshalled code tuple
    fn = lookup_custom(name, registered, custom_objects)
    if fn is None or not callable(fn):
        raise ValueError(
            f"Cannot load Lambda layer {layer_name!r}: its {what} {name!r} is unknown. "
            f"Pass custom_objects={{{name!r}: {name}}} to load_model().")
    return fn


class Lambda(Layer):
    """``y = function(x, **arguments)``; ``function`` may also take ``mask`` and
    ``training`` keyword arguments, which are then passed (as in Keras).

    output_shape: None (inferred by running the function on a dummy batch), a
        shape without the batch dimension, or a function of the input shape.
    mask: None (the output has no mask), a function ``(inputs, mask) -> mask``,
        or a fixed mask.
    gradient: ckeras extension, ``gradient(dy, x, y) -> dx``; see the module
        docstring.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None,
                 gradient=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda {self.name!r}: `function` must be callable, "
                            f"got {function!r}.")
        if gradient is not None and not callable(gradient):
            raise TypeError(f"Lambda {self.name!r}: `gradient` must be a callable "
                            f"(dy, x, y) -> dx, got {gradient!r}.")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda {self.name!r}: `arguments` must be a dict, "
                            f"got {arguments!r}.")
        self.function = function
        self.arguments = dict(arguments or {})
        self.gradient = gradient
        self.mask = mask
        self.supports_masking = mask is not None
        if output_shape is not None and not callable(output_shape):
            output_shape = _as_shape(output_shape)
        self._output_shape = output_shape
        params = _parameters(function)
        self._fn_expects_mask = "mask" in params
        self._fn_expects_training = "training" in params
        self.built = True

    def _apply(self, x, training, mask):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask:
            kwargs["mask"] = mask
        if self._fn_expects_training:
            kwargs["training"] = training
        return _float32_like(self.function(x, **kwargs), x)

    def forward(self, x, training=False, mask=None):
        if self.gradient is None:
            return self._tape_forward(x, training, mask)
        y = self._apply(x, training, mask)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            dx = self.gradient(dy, x, y)
            _check_dx(self, dx, x)
            return dx
        return y, backward

    def call(self, inputs, training=None, mask=None):
        """The function itself (on the tape when the trainer runs it)."""
        kwargs = dict(self.arguments)
        if self._fn_expects_mask:
            kwargs["mask"] = mask
        if self._fn_expects_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def _tape_forward(self, x, training, mask):
        y, tape_backward = super()._tape_forward(x, training, mask)
        y = _float32_like(y, x)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            if not tape_backward.connected:
                raise RuntimeError(
                    f"Layer {self.name!r} (Lambda) cannot be trained through: its function "
                    "does not compute with ckeras.ops (numpy calls on arrays leave the "
                    "tape). Write it with ckeras.ops, pass gradient=lambda dy, x, y: dx "
                    "to Lambda(), or use the model for inference only.")
            return tape_backward(dy, need_dx)
        return y, backward

    def compute_output_shape(self, input_shape):
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        if self._output_shape is not None:
            batch = (input_shape[0] if _is_shape_list(input_shape) else input_shape)[0]
            if _is_shape_list(self._output_shape):
                return [(batch,) + s for s in self._output_shape]
            return (batch,) + self._output_shape

        def dummy(shape):
            return np.zeros((1,) + tuple(1 if d is None else d for d in shape[1:]), np.float32)
        x = ([dummy(s) for s in input_shape] if _is_shape_list(input_shape)
             else dummy(input_shape))
        try:
            y = self._apply(x, False, None)
        except Exception as exc:
            raise ValueError(f"Layer {self.name!r} (Lambda): could not infer the output "
                             f"shape by calling the function on zeros of shape "
                             f"{input_shape} ({exc}). Pass output_shape=...") from exc
        if isinstance(y, (list, tuple)):
            return [(None,) + np.shape(t)[1:] for t in y]
        return (None,) + np.shape(y)[1:]

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        config = super().get_config()
        config["function"] = _function_entry(self.function)
        if callable(self._output_shape):
            config["output_shape"] = _function_entry(self._output_shape)
        elif self._output_shape is not None:
            config["output_shape"] = (list(self._output_shape)
                                      if not _is_shape_list(self._output_shape)
                                      else [list(s) for s in self._output_shape])
        if callable(self.mask):
            config["mask"] = _function_entry(self.mask)
        elif self.mask is not None:
            config["mask"] = np.asarray(self.mask).tolist()
        config["arguments"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                               for k, v in self.arguments.items()}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        name = config.get("name", "lambda")
        keras2 = {k: config.pop(k) for k in _KERAS2_KEYS if k in config}
        config["function"] = _load_function(config["function"], name, "function",
                                            custom_objects, keras2.get("function_type"))
        out = config.get("output_shape")
        if isinstance(out, dict) or keras2.get("output_shape_type") == "lambda":
            try:
                config["output_shape"] = _load_function(
                    out, name, "output_shape", custom_objects,
                    keras2.get("output_shape_type"))
            except ValueError:
                config["output_shape"] = None   # inferred by running the function
        if isinstance(config.get("mask"), dict):
            config["mask"] = _load_function(config["mask"], name, "mask", custom_objects)
        return cls(**config)


def _parameters(fn):
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):   # some builtins have no signature
        return set()


def _as_shape(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [tuple(None if d is None else int(d) for d in s) for s in shape]
    return tuple(None if d is None else int(d) for d in shape)


def _float32_like(y, x):
    """Keep float32 in, float32 out (numpy promotes to float64 easily)."""
    if isinstance(y, (list, tuple)):
        return [_float32_like(t, x) for t in y]
    y = np.asarray(y)
    first = x[0] if isinstance(x, list) else x
    if y.dtype == np.float64 and np.asarray(first).dtype != np.float64:
        return y.astype(np.float32)
    return y


def _check_dx(layer, dx, x):
    xs, dxs = (x, dx) if isinstance(x, list) else ([x], [dx])
    if not isinstance(dxs, (list, tuple)) or len(dxs) != len(xs) or any(
            np.shape(d) != np.shape(t) for d, t in zip(dxs, xs)):
        raise ValueError(
            f"Layer {layer.name!r} (Lambda): gradient(dy, x, y) must return arrays "
            f"shaped like the inputs {[np.shape(t) for t in xs]}, got "
            f"{[np.shape(d) for d in dxs] if isinstance(dxs, (list, tuple)) else dxs!r}.")
