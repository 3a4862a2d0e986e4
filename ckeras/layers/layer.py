"""The Layer base class: weights, build-on-first-call, config, and the
forward/backward contract every layer follows.

Contract (see ARCHITECTURE.md §3):

    y, backward = layer.forward(x, training=False, mask=None)
    dx = backward(dy, need_dx=True)

``forward`` stores nothing on ``self``: the closure captures what the backward
pass needs, so a layer shared by several graph nodes just works. ``backward``
*adds* into each ``Variable.grad`` (the trainer zeroes them per step) and
returns the gradient with respect to ``x`` (a list for multi-input layers), or
None when ``need_dx`` is False (the first layer of a model skips that GEMM).

A custom layer may instead implement ``call(x)`` and ``backward(dy, x, y)``;
the default ``forward`` wires them together.
"""
import contextlib
import inspect
import re

import numpy as np
from ckeras._typing import Any, ArrayLike, Callable, Data, Dict, List, Logs, Optional, PathLike, Sequence, Shape, Union  # noqa: F401

from ckeras import initializers
from ckeras.variables import Variable

# Keys Keras writes into layer configs that do not change float32 inference or
# training here; accepted on load so real Keras files construct cleanly.
_IGNORED_KWARGS = {"quantization_config", "lora_rank", "lora_alpha", "autocast",
                   "time_major", "implementation", "input_length", "sparse",
                   "ragged", "optional"}

_name_counts = {}

# Activity-regularizer penalties of the forward pass being run by the trainer.
_activity_buckets = []


@contextlib.contextmanager
def collect_activity_penalties():
    """Collect the activity penalties of the forward passes inside the block."""
    bucket = []
    _activity_buckets.append(bucket)
    try:
        yield bucket
    finally:
        _activity_buckets.pop()


def with_activity_penalty(layer, y, backward):
    """Add ``layer.activity_regularizer(y)`` to the loss being collected, and
    its gradient to ``dy`` on the way back (Keras 3: no division by batch)."""
    reg = getattr(layer, "activity_regularizer", None)
    if reg is None or not _activity_buckets:
        return backward
    if isinstance(y, (list, tuple)):  # e.g. an RNN with return_state: the first output
        _activity_buckets[-1].append(float(reg(y[0])))

        def backward_first_penalised(dys, need_dx=True):
            dys = list(dys)
            dys[0] = (0 if dys[0] is None else dys[0]) + reg.gradient(y[0])
            return backward(dys, need_dx)
        return backward_first_penalised
    _activity_buckets[-1].append(float(reg(y)))

    def backward_with_penalty(dy, need_dx=True):
        return backward(dy + reg.gradient(y), need_dx)
    return backward_with_penalty


def to_snake_case(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(base):
    """Keras auto-naming: dense, dense_1, dense_2, ... per process."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_names():
    """Forget auto-name counters (``ckeras.backend.clear_session``)."""
    _name_counts.clear()


def dtype_name(dtype):
    """Accept "float32", np.float32 or Keras 3's DTypePolicy dict."""
    if dtype is None:
        return None
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name", "float32")
    return np.dtype(dtype).name


def batch_shape_of(shape):
    """(None, ...) tuple from any int/None sequence."""
    return tuple(None if d is None else int(d) for d in shape)


# Built-in layer classes by Keras class name, filled as ckeras modules define them.
BUILTIN_LAYERS = {}


class Layer:
    """Base class of every layer (and of models)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("ckeras."):
            BUILTIN_LAYERS[cls.__name__] = cls

    def __init__(self, trainable: bool = True, name: Optional[str] = None, dtype: Any = None,
                 input_shape: Optional[Shape] = None, batch_input_shape: Optional[Shape] = None,
                 batch_size: Optional[int] = None, input_dim: Optional[int] = None,
                 **kwargs: Any) -> None:
        unknown = set(kwargs) - _IGNORED_KWARGS
        if unknown:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword "
                            f"arguments {sorted(unknown)}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = dtype_name(dtype) or "float32"
        self.built = False
        self.supports_masking = False
        self._weights = []
        self._inbound_nodes = []
        # A shape given to the first layer of a Sequential creates its Input.
        self._batch_input_shape = None
        if batch_input_shape is not None:
            self._batch_input_shape = batch_shape_of(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + batch_shape_of(input_shape)
        elif input_dim is not None:
            self._batch_input_shape = (batch_size, int(input_dim))

    # ---- weights ---------------------------------------------------------
    def add_weight(self, name: str, shape: Shape, initializer: Any = "glorot_uniform",
                   trainable: bool = True, regularizer: Any = None,
                   constraint: Any = None) -> Any:
        init = initializers.get(initializer)
        shape = tuple(int(d) for d in shape)
        var = Variable(init(shape), name=name, trainable=trainable,
                       path=f"{self.name}/{name}", regularizer=regularizer,
                       constraint=constraint)
        self._weights.append(var)
        return var

    @property
    def weights(self):
        """Trainable then non-trainable: Keras's saved ("legacy") order."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for w in self._weights if w.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return list(self._weights)
        return [w for w in self._weights if not w.trainable]

    @property
    def variables(self):
        return self.weights

    def count_params(self) -> int:
        return int(sum(w.value.size for w in self.weights))

    def get_weights(self) -> List[Any]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expects "
                f"{len(own)} weights {[w.shape for w in own]}, got {len(weights)}.")
        for var, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != var.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {var.name!r} has shape "
                    f"{var.shape}, got {value.shape}.")
        for var, value in zip(own, weights):
            var.assign(value)

    def _set_path_prefix(self, prefix):
        """Keras 3 variable paths: "<model>/<layer>/<var>" inside a Sequential."""
        for w in self._weights:
            w.path = f"{prefix}{self.name}/{w.name}"

    # ---- building --------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self._build_input_shape = input_shape
            self.build(input_shape)
            self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        # Generic fallback for custom layers: run call on a one-sample batch.
        def dummy(shape):
            return np.zeros((1,) + tuple(d or 1 for d in shape[1:]), np.float32)
        x = [dummy(s) for s in input_shape] if _is_shape_list(input_shape) else dummy(input_shape)
        y = self.call(x)
        if isinstance(y, (list, tuple)):
            return [(None,) + t.shape[1:] for t in y]
        return (None,) + y.shape[1:]

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    # ---- running -----------------------------------------------------------
    def forward(self, x, training=False, mask=None):
        """Default for custom layers: ``call`` forward, ``backward`` backward."""
        y = self._call_with_optional_args(x, training, mask)

        def backward(dy, need_dx=True):
            return self.backward(dy, x, y)
        return y, backward

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.forward(inputs, training)[0]

    def backward(self, dy: Any, inputs: Any, outputs: Any) -> Any:
        raise NotImplementedError(
            f"Layer {self.name!r} ({type(self).__name__}) defines call() but no "
            "backward(dy, inputs, outputs), so it cannot be trained. Implement "
            "backward, or set trainable=False and use it for inference only.")

    def _call_with_optional_args(self, x, training, mask):
        params = _call_params(type(self))
        kwargs = {}
        if "training" in params:
            kwargs["training"] = training
        if "mask" in params and mask is not None:
            kwargs["mask"] = mask
        return self.call(x, **kwargs)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        from ckeras.layers.keras_tensor import KerasTensor, any_symbolic, symbolic_call
        if any_symbolic(inputs):
            return symbolic_call(self, inputs, kwargs)
        if isinstance(inputs, KerasTensor):  # pragma: no cover - any_symbolic covers it
            raise TypeError
        x = _as_arrays(inputs)
        self._maybe_build(_shapes_of(x))
        training = bool(kwargs.get("training", False))
        return self.forward(x, training, kwargs.get("mask"))[0]

    # ---- config ------------------------------------------------------------
    def get_config(self) -> Dict[str, Any]:
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy",
                            "config": {"name": self.dtype}, "registered_name": None}}
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ---- introspection -----------------------------------------------------
    @property
    def input(self):
        return self._node(0).inputs

    @property
    def output(self):
        return self._node(0).outputs

    def _node(self, index):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called on a "
                                 "symbolic input, so it has no input/output tensors.")
        return self._inbound_nodes[index]

    @property
    def output_shape(self):
        out = self.output
        return [t.shape for t in out] if isinstance(out, list) else out.shape

    @property
    def input_shape(self):
        inp = self.input
        return [t.shape for t in inp] if isinstance(inp, list) else inp.shape

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_PARAMS_CACHE = {}


def _call_params(cls):
    if cls not in _PARAMS_CACHE:
        _PARAMS_CACHE[cls] = set(inspect.signature(cls.call).parameters)
    return _PARAMS_CACHE[cls]


def _is_shape_list(shape):
    return isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list))


def _as_arrays(inputs):
    if isinstance(inputs, (list, tuple)) and inputs and hasattr(inputs[0], "shape"):
        return [np.asarray(t) for t in inputs]
    return np.asarray(inputs)


def _shapes_of(x):
    if isinstance(x, list):
        return [(None,) + a.shape[1:] for a in x]
    return (None,) + x.shape[1:]


def as_float32(x):
    """The one coercion at a layer boundary: float32, C-contiguous."""
    if x.dtype == np.float32 and x.flags.c_contiguous:
        return x
    if x.dtype == np.float64:
        return x  # float64 flows through so gradient checks run in double
    return np.ascontiguousarray(x, dtype=np.float32)


def serialize_layer(layer):
    """Keras 3's {"module", "class_name", "config", "registered_name"} entry."""
    from ckeras.saving.registry import get_registered_name
    registered = get_registered_name(layer)
    class_name = type(layer).__name__
    module = None if registered else "keras.layers"
    if hasattr(layer, "_run_forward"):  # a model used as a layer
        if class_name != "Sequential":
            class_name, module = "Functional", "keras.src.models.functional"
        else:
            module = "keras"
    return {"module": module, "class_name": class_name,
            "config": layer.get_config(), "registered_name": registered}


def deserialize_layer(entry, custom_objects=None):
    """Build a layer from its config entry (Keras 2 or 3 form)."""
    from ckeras.saving.registry import lookup_custom
    if isinstance(entry, Layer):
        return entry
    name = entry.get("class_name")
    config = dict(entry.get("config") or {})
    cls = lookup_custom(name, entry.get("registered_name"), custom_objects)
    if cls is None:
        if name in ("Functional", "Model"):
            from ckeras.models.functional import Functional as cls
        else:
            cls = BUILTIN_LAYERS.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown layer class {name!r}. If it is a custom layer, pass "
            f"custom_objects={{{name!r}: {name}}} to load_model(), or decorate the "
            "class with @ckeras.saving.register_keras_serializable().")
    if "custom_objects" in cls.from_config.__code__.co_varnames:
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)
