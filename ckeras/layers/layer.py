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

A custom layer implements ``call(inputs, training=None, mask=None)`` on
``ckeras.ops`` (its gradient then comes from the tape, ``ckeras.ops.tape``:
the default ``forward`` runs ``call`` on a tape of its own and its backward
replays it), or ``call(x)`` plus a hand-written ``backward(dy, x, y)`` (the
fast path: the default ``forward`` wires them together). Sub-layers assigned
as attributes are tracked: their weights are the layer's weights.
"""
import contextlib
import inspect

import numpy as np
from ckeras._typing import Any, ArrayLike, Callable, Data, Dict, List, Logs, Optional, PathLike, Sequence, Shape, Union  # noqa: F401

from ckeras import initializers
from ckeras.ops import tape as _tape_mod
from ckeras.registry import to_snake_case
from ckeras.layers.input_spec import assert_input_compatibility
from ckeras.ops.tape import Tape, Tensor, eager
from ckeras.variables import Variable

# Keys Keras writes into layer configs that do not change float32 inference or
# training here; accepted on load so real Keras files construct cleanly.
_IGNORED_KWARGS = {"quantization_config", "lora_rank", "lora_alpha", "autocast",
                   "time_major", "implementation", "input_length", "sparse",
                   "ragged", "optional"}

_name_counts = {}

# Activity-regularizer penalties of the forward pass being run by the trainer.
_activity_buckets = []

# ``training`` of the layer call being run: sub-layers called without it inherit it.
_training_stack = []

# Losses passed to ``add_loss`` during the forward pass being collected.
_loss_collectors = []

_FLOAT_DTYPES = ("float16", "float32", "float64", "bfloat16")


@contextlib.contextmanager
def collect_activity_penalties():
    """Collect the activity penalties of the forward passes inside the block."""
    bucket = []
    _activity_buckets.append(bucket)
    try:
        yield bucket
    finally:
        _activity_buckets.pop()


def record_activity_penalty(layer, y):
    """Add ``layer.activity_regularizer(y)`` (of the first output when there
    are several) to the loss being collected; the regularizer, or None."""
    reg = getattr(layer, "activity_regularizer", None)
    if reg is None or not _activity_buckets:
        return None
    _activity_buckets[-1].append(float(reg(y[0] if isinstance(y, (list, tuple)) else y)))
    return reg


def with_activity_penalty(layer, y, backward):
    """Add ``layer.activity_regularizer(y)`` to the loss being collected, and
    its gradient to ``dy`` on the way back (Keras 3: no division by batch)."""
    reg = record_activity_penalty(layer, y)
    if reg is None:
        return backward
    if isinstance(y, (list, tuple)):  # e.g. an RNN with return_state: the first output

        def backward_first_penalised(dys, need_dx=True):
            dys = list(dys)
            dys[0] = (0 if dys[0] is None else dys[0]) + reg.gradient(y[0])
            return backward(dys, need_dx)
        return backward_first_penalised

    def backward_with_penalty(dy, need_dx=True):
        return backward(dy + reg.gradient(y), need_dx)
    return backward_with_penalty


def run_layer(layer, x, training, mask, logits=False, need_backward=True, options=None):
    """(y, backward) of one layer inside a model, its activity penalty
    recorded. ``logits`` asks for the pre-activation (``forward_logits``, the
    loss fuses the activation). Without ``need_backward`` (predict, evaluate)
    backward is None and, outside training, the layer runs ``infer``.
    ``options``: the call keywords of this graph node that the layer's
    forward/infer take (``node_options``)."""
    options = options or {}
    if need_backward:
        y, back = (layer.forward_logits if logits else layer.forward)(x, training, mask,
                                                                     **options)
        return y, with_activity_penalty(layer, y, back)
    if logits:
        y = layer.forward_logits(x, training, mask, **options)[0]
    elif training:   # e.g. model(x, training=True): dropout on, still no gradient
        y = layer.forward(x, True, mask, **options)[0]
    else:
        y = layer.infer(x, mask, **options)
    record_activity_penalty(layer, y)
    return y, None


def _held_layers(wrapper, attrs):
    """The sublayers a wrapper holds in ``attrs`` (each a layer, or a list of
    layers), skipping those not made yet."""
    for attr in attrs:
        held = wrapper.__dict__.get(attr, ())
        yield from held if isinstance(held, (list, tuple)) else (held,)


def node_options(node):
    """The call keywords of a graph node that its layer's forward, infer and
    compute_mask take: those named in the class's ``_forward_options`` (e.g.
    ReversibleEmbedding's ``reverse``); other layers get none."""
    names = getattr(node.layer, "_forward_options", ())
    return {k: v for k, v in (node.kwargs or {}).items() if k in names}


def trainable_passed_to(*attrs):
    """A ``trainable`` property that also sets the flag on the sublayers held in
    ``attrs`` (a layer, or a list of layers), once they exist: a wrapper frozen or
    unfrozen freezes or unfreezes what it wraps, as in Keras."""
    def get(self):
        return self._trainable

    def set(self, value):
        self._trainable = bool(value)
        for child in _held_layers(self, attrs):
            child.trainable = self._trainable
    return property(get, set)


def path_prefix_passed_to(*attrs):
    """A wrapper's ``_set_path_prefix``: it keeps the prefix (its build sets it
    again on the weights made then) and gives the sublayers held in ``attrs``
    the prefix "<prefix><wrapper's name>/", as Keras 3 names their variables."""
    def _set_path_prefix(self, prefix):
        self._path_prefix = prefix
        for child in _held_layers(self, attrs):
            child._set_path_prefix(f"{prefix}{self.name}/")
    return _set_path_prefix


def check_input_ndim(layer, shape, ndim, axes=None):
    """Keras's error for an input of the wrong rank (``axes`` names the expected
    axes, e.g. "batch, features")."""
    if len(shape) != ndim:
        expected = f"{ndim} ({axes})" if axes else f"{ndim}"
        raise ValueError(
            f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is incompatible "
            f"with the layer: expected ndim={expected}, found ndim={len(shape)}. "
            f"Full shape received: {tuple(shape)}")


def unique_name(base):
    """Keras auto-naming: dense, dense_1, dense_2, ... per process."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def get_uid(prefix=""):
    """Keras's ``backend.get_uid``: 1, 2, 3, ... per prefix; the counter
    auto-naming uses (a layer named ``dense`` counts as 1)."""
    _name_counts[prefix] = _name_counts.get(prefix, 0) + 1
    return _name_counts[prefix]


def reset_names():
    """Forget auto-name counters (``ckeras.backend.clear_session``)."""
    _name_counts.clear()


def dtype_name(dtype):
    """Accept "float32", np.float32 or Keras 3's DTypePolicy dict."""
    if dtype is None:
        return None
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name", "float32")
    if dtype in ("string", "str", str):   # keras.Input(dtype="string") for text layers
        return "string"
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
        cls._builtin = cls.__module__.startswith("ckeras.")
        if cls._builtin:
            BUILTIN_LAYERS[cls.__name__] = cls

    _builtin = True
    # What a layer is, asked by saving and summary without importing models/:
    # any Model (set on models.model.Model), and a Sequential/Functional graph.
    _is_model = False
    _is_graph_model = False
    # An InputSpec (or a structure of them) checked against the first argument
    # of every call, as Keras does.
    input_spec = None

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        if not cls._builtin:
            # Keras 3's auto-config: a custom layer's constructor arguments,
            # when plain values, are its config unless it writes get_config.
            try:
                bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
                config = {}
                for k, v in bound.arguments.items():
                    param = inspect.signature(cls.__init__).parameters[k]
                    if k == "self" or param.kind == param.VAR_POSITIONAL:
                        continue
                    if param.kind == param.VAR_KEYWORD:
                        config.update(v)
                    else:
                        config[k] = v
                object.__setattr__(self, "_auto_config", config)
            except TypeError:
                object.__setattr__(self, "_auto_config", None)
        return self

    def __setattr__(self, name, value):
        # Track sub-layers (and lists of them) of custom layers and models.
        if not self._builtin and name != "_sublayers" and not name.startswith("__"):
            subs = self.__dict__.get("_sublayers")
            if subs is None:
                subs = {}
                object.__setattr__(self, "_sublayers", subs)
            if isinstance(value, Layer) and value is not self:
                subs[name] = [value]
            elif (isinstance(value, (list, tuple)) and value
                  and all(isinstance(v, Layer) for v in value)):
                subs[name] = list(value)
            elif (isinstance(value, dict) and value
                  and all(isinstance(v, Layer) for v in value.values())):
                subs[name] = list(value.values())
            else:
                subs.pop(name, None)
        object.__setattr__(self, name, value)

    def __init__(self, trainable: bool = True, name: Optional[str] = None, dtype: Any = None,
                 input_shape: Optional[Shape] = None, batch_input_shape: Optional[Shape] = None,
                 batch_size: Optional[int] = None, input_dim: Optional[int] = None,
                 activity_regularizer: Any = None, **kwargs: Any) -> None:
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
        self._losses = []
        self._inbound_nodes = []
        if activity_regularizer is not None:  # Keras accepts it on every layer
            from ckeras import regularizers
            self.activity_regularizer = regularizers.get(activity_regularizer)
        # A shape given to the first layer of a Sequential creates its Input.
        self._batch_input_shape = None
        if batch_input_shape is not None:
            self._batch_input_shape = batch_shape_of(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + batch_shape_of(input_shape)
        elif input_dim is not None:
            self._batch_input_shape = (batch_size, int(input_dim))

    # ---- weights ---------------------------------------------------------
    def add_weight(self, *args: Any, **kwargs: Any) -> Any:
        """Create a weight. Keras 3 order ``(shape, initializer, dtype,
        trainable, autocast, regularizer, constraint, ..., name)``, tf.keras 2
        order ``(name, shape, dtype, initializer, regularizer, trainable,
        constraint)``, and ckeras's ``(name, shape, initializer)``; all by
        keyword too. ``name`` defaults to "variable", "variable_1", ..."""
        if args and isinstance(args[0], str):   # tf.keras 2 / ckeras: name first
            keys = ["name", "shape", "dtype", "initializer", "regularizer",
                    "trainable", "constraint"]
            if len(args) > 2 and not _is_dtype(args[2]):
                keys = ["name", "shape", "initializer", "trainable", "regularizer",
                        "constraint"]
        else:
            keys = ["shape", "initializer", "dtype", "trainable", "autocast",
                    "regularizer", "constraint", "aggregation", "overwrite_with_gradient",
                    "name"]
        if len(args) > len(keys):
            raise TypeError(f"{type(self).__name__}.add_weight: too many positional "
                            f"arguments ({len(args)}).")
        for k, v in zip(keys, args):
            if k in kwargs:
                raise TypeError(f"{type(self).__name__}.add_weight: got multiple values "
                                f"for argument {k!r}.")
            kwargs[k] = v
        return self._add_weight(**kwargs)

    def _add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                    regularizer=None, constraint=None, name=None, autocast=True,
                    aggregation=None, overwrite_with_gradient=False, synchronization=None,
                    use_resource=None, partitioner=None, experimental_autocast=None,
                    getter=None, **unknown):
        if unknown:
            raise TypeError(f"{type(self).__name__}.add_weight: unexpected keyword "
                            f"arguments {sorted(unknown)}.")
        from ckeras import constraints, regularizers
        dtype = dtype_name(dtype) or "float32"
        if initializer is None:
            initializer = "glorot_uniform" if dtype in _FLOAT_DTYPES else "zeros"
        if name is None:
            taken = {w.name for w in self._weights}
            name, k = "variable", 0
            while name in taken:
                k += 1
                name = f"variable_{k}"
        shape = () if shape is None else ((int(shape),) if isinstance(shape, (int, np.integer))
                                          else tuple(int(d) for d in shape))
        from ckeras.saving.safety import check_weight_shape
        check_weight_shape(self, name, shape)   # before allocating: sizes from files
        if callable(initializer) or isinstance(initializer, (str, dict)):
            value = initializers.get(initializer)(shape)
        else:
            value = np.broadcast_to(np.asarray(initializer), shape)
        var = Variable(np.asarray(value), name=name,
                       trainable=True if trainable is None else bool(trainable),
                       path=f"{self.name}/{name}", regularizer=regularizers.get(regularizer),
                       constraint=constraints.get(constraint),
                       dtype=None if dtype in _FLOAT_DTYPES else dtype)
        self._weights.append(var)
        return var

    def add_variable(self, *args, **kwargs):
        return self.add_weight(*args, **kwargs)

    def _tracked_layers(self):
        """Sub-layers held in attributes (custom layers and models), in order."""
        out, seen = [], set()
        for layers in self.__dict__.get("_sublayers", {}).values():
            for layer in layers:
                if id(layer) not in seen:
                    seen.add(id(layer))
                    out.append(layer)
        return out

    # ---- losses ------------------------------------------------------------
    def add_loss(self, loss):
        """Add a scalar (a tensor of the forward pass) to the training loss."""
        if callable(loss) and not isinstance(loss, (Tensor, Variable)):
            loss = loss()   # tf.keras 2: a zero-argument callable
        self.__dict__.setdefault("_losses", []).append(loss)
        if _loss_collectors:
            _loss_collectors[-1].append(loss)

    @property
    def losses(self):
        """As Keras: the losses added in the last call, then the weight
        regularization penalties, of this layer and its sub-layers (tape
        Tensors inside a GradientTape, so ``sum(model.losses)`` trains)."""
        out = list(self.__dict__.get("_losses", []))
        out += [weight_penalty(w) for w in self._weights if w.regularizer is not None]
        for layer in self._tracked_layers():
            out += layer.losses
        return out

    @property
    def weights(self):
        """Trainable then non-trainable: Keras's saved ("legacy") order."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        own = [w for w in self._weights if w.trainable]
        if not self.__dict__.get("_sublayers"):
            return own
        return _unique(own + [w for l in self._tracked_layers() for w in l.trainable_weights])

    @property
    def non_trainable_weights(self):
        if not self.__dict__.get("_sublayers"):
            return list(self._weights) if not self.trainable else \
                [w for w in self._weights if not w.trainable]
        subs = self._tracked_layers()
        if not self.trainable:
            return _unique(list(self._weights) + [w for l in subs for w in l.weights])
        own = [w for w in self._weights if not w.trainable]
        return _unique(own + [w for l in subs for w in l.non_trainable_weights])

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

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
        for layer in self._tracked_layers():
            layer._set_path_prefix(f"{prefix}{self.name}/")

    # ---- building --------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        # A custom layer with sub-layers and no build of its own builds them
        # the Keras 3 way: by running call once (on zeros here).
        if (not self._builtin and self._tracked_layers() and input_shape is not None
                and _owner(type(self), "build") is Layer):   # not via super().build()
            self.built = True
            self._dummy_call(input_shape)
        self.built = True

    def _dummy_call(self, input_shape):
        def zeros(shape):
            return np.zeros(tuple(1 if d is None else d for d in shape), np.float32)
        if isinstance(input_shape, dict):
            x = {k: zeros(v) for k, v in input_shape.items()}
        elif _is_shape_list(input_shape):
            x = [zeros(v) for v in input_shape]
        else:
            x = zeros(input_shape)
        _tape_mod._stack.append(None)   # records nothing
        _loss_collectors.append([])
        try:
            self._invoke(x, (), {}, False, None)
        finally:
            _tape_mod._stack.pop()
            _loss_collectors.pop()
            self.__dict__["_losses"] = []

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
        _tape_mod._stack.append(None)   # shape inference records nothing
        _loss_collectors.append([])
        try:
            y = self._invoke(x, (), {}, False, None)
        finally:
            _tape_mod._stack.pop()
            _loss_collectors.pop()
            self.__dict__["_losses"] = []
        if isinstance(y, (list, tuple)):
            return [(None,) + tuple(np.shape(t))[1:] for t in y]
        return (None,) + tuple(np.shape(y))[1:]

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    # ---- running -----------------------------------------------------------
    def forward(self, x, training=False, mask=None):
        """Default for custom layers: ``call`` on a tape and the tape's replay
        as backward, or (with a hand-written ``backward``) ``call`` forward and
        ``backward`` backward."""
        mode = _mode(type(self))
        if mode == "missing":
            raise NotImplementedError(
                f"Layer {self.name!r} ({type(self).__name__}) defines neither call(inputs) "
                "nor forward(x, training, mask): implement call(inputs) on ckeras.ops "
                "(its gradient comes from the tape), or forward returning (y, backward).")
        if mode == "manual":
            y = self._call_with_optional_args(x, training, mask)

            def backward(dy, need_dx=True):
                return self.backward(dy, x, y)
            return y, backward
        return self._tape_forward(x, training, mask)

    def infer(self, x, mask=None):
        """The output only, at inference (training=False), for predict and
        evaluate: no backward is built. The default runs ``forward`` and drops
        its closure; a layer whose forward does work only its backward needs
        overrides this to skip that work."""
        return self.forward(x, False, mask)[0]

    def _tape_forward(self, x, training, mask, record=True, fn=None):
        """(y, backward) of ``call`` (or ``fn(inputs)``) run on a tape of its
        own; losses passed to ``add_loss`` meanwhile join the activity
        penalties (the trainer's loss) and get gradient 1 in backward.
        ``record=False`` runs it with no tape (inference: the layers inside
        build no backward) and returns (y, None)."""
        tape = Tape() if record else None
        added = []
        _loss_collectors.append(added)
        _training_stack.append(bool(training))
        _tape_mod._stack.append(tape)
        self.__dict__["_losses"] = []
        try:
            if not record:
                xs = x
            elif isinstance(x, dict):
                xs = {k: _watch(tape, v) for k, v in x.items()}
            else:
                xs = [_watch(tape, v) for v in x] if isinstance(x, list) else _watch(tape, x)
            y = self._invoke(xs, (), {}, training, mask) if fn is None else fn(xs)
        finally:
            _tape_mod._stack.pop()
            _training_stack.pop()
            _loss_collectors.pop()
        keys = sorted(y) if isinstance(y, dict) else None   # outputs by name
        if keys is not None:
            y = [y[k] for k in keys]
        multi = isinstance(y, (list, tuple))
        outs = list(y) if multi else [y]
        values = [_value_of(t) for t in outs]
        if not _any_float64(x):   # float64 constants in call(): float32 out, as Keras
            values = [v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype == np.float64
                      else v for v in values]
        if added and _activity_buckets:
            _activity_buckets[-1].append(float(sum(float(np.asarray(_value_of(l)))
                                                   for l in added)))
        if not record:
            if keys is not None:
                return dict(zip(keys, values)), None
            return (values if multi else values[0]), None

        def backward(dy, need_dx=True):
            if isinstance(dy, dict):
                dy = [dy.get(k) for k in keys]
            dys = list(dy) if multi else [dy]
            seeds = [(t, d) for t, d in zip(outs, dys) if d is not None]
            seeds += [(l, np.ones_like(np.asarray(l.value))) for l in added if type(l) is Tensor]
            grads = tape.backward(seeds)
            if not need_dx:
                return None
            flat = list(xs.values()) if isinstance(xs, dict) else (
                xs if isinstance(xs, list) else [xs])
            dxs = []
            for t in flat:
                g = grads.get(id(t)) if type(t) is Tensor else None
                if g is None and type(t) is Tensor:
                    g = np.zeros_like(t.value)
                dxs.append(None if g is None else np.reshape(g, np.shape(_value_of(t))))
            return dxs if isinstance(xs, (list, dict)) else dxs[0]
        # Whether an output depends on the tape at all (Lambda refuses otherwise).
        backward.connected = any(type(t) is Tensor and t._tape is tape.token for t in outs)
        if keys is not None:
            return dict(zip(keys, values)), backward
        return (values if multi else values[0]), backward

    def call(self, inputs: Any, training: bool = False) -> Any:
        if _mode(type(self)) != "kernel":
            raise NotImplementedError(f"Layer {self.name!r} ({type(self).__name__}) must "
                                      "implement call(inputs).")
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

    def _invoke(self, inputs, args, kwargs, training, mask):
        """``self.call`` with ``training``/``mask`` passed when it takes them."""
        params = _call_params(type(self))
        if "training" in params and "training" not in kwargs:
            kwargs["training"] = training
        if "mask" in params and mask is not None:
            kwargs["mask"] = mask
        return self.call(inputs, *args, **kwargs)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        from ckeras.layers.keras_tensor import any_symbolic, symbolic_call
        if args and any_symbolic(list(args)):
            raise NotImplementedError(
                f"Layer {self.name!r}: several symbolic positional inputs are not supported "
                "in the functional API; pass them as one list, layer([a, b]), and unpack "
                "the list in call().")
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, inputs, self.name)
        if any_symbolic(inputs):
            return symbolic_call(self, inputs, kwargs)
        training = kwargs.pop("training", None)
        if training is None:
            training = _training_stack[-1] if _training_stack else False
        mask = kwargs.pop("mask", None)
        tape = _tape_mod.current()
        if _mode(type(self)) == "autodiff":
            inputs = _to_floatx(inputs)
            self._maybe_build(_shapes_of_any(inputs))
            self.__dict__["_losses"] = []
            _training_stack.append(bool(training))
            try:
                y = self._invoke(inputs, args, kwargs, training, mask)
            finally:
                _training_stack.pop()
            self.__dict__["_called_shape"] = _shapes_of_any(y)   # for summary()
            return y if tape is not None else eager(y)
        x = _as_arrays(inputs)
        self._maybe_build(_shapes_of(x))
        if tape is None:   # nothing will ask for a gradient
            y = self.infer(x, mask) if not training else self.forward(x, True, mask)[0]
            self.__dict__["_called_shape"] = _shapes_of_any(y)
            return eager(y)
        y, back = self.forward(x, bool(training), mask)
        self.__dict__["_called_shape"] = _shapes_of_any(y)
        return record_layer(tape, self, inputs, y, back)

    # ---- config ------------------------------------------------------------
    def get_config(self) -> Dict[str, Any]:
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy",
                            "config": {"name": self.dtype}, "registered_name": None}}
        auto = self.__dict__.get("_auto_config")
        if not self._builtin and _owner(type(self), "get_config") is Layer and auto:
            bad = [k for k, v in auto.items() if not _plain_config_value(v)]
            if bad:
                raise NotImplementedError(
                    f"Layer {self.name!r} ({type(self).__name__}): its constructor "
                    f"arguments {bad} are not plain values, so the config cannot be "
                    "written automatically. Override get_config() (and from_config()).")
            config.update(auto)
        return config

    @classmethod
    def from_config(cls, config):
        if not cls._builtin:
            # A custom __init__ without **kwargs: the base keys (name,
            # trainable, dtype) are set after construction instead.
            params = inspect.signature(cls.__init__).parameters
            if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                base = {k: config[k] for k in ("name", "trainable") if k in config
                        and k not in params}
                obj = cls(**{k: v for k, v in config.items() if k in params})
                for k, v in base.items():
                    setattr(obj, k, v)
                return obj
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
_MODES = {}


def _call_params(cls):
    if cls not in _PARAMS_CACHE:
        params = inspect.signature(cls.call).parameters
        names = set(params)
        if any(p.kind == p.VAR_KEYWORD for p in params.values()):
            names |= {"training", "mask"}
        _PARAMS_CACHE[cls] = names
    return _PARAMS_CACHE[cls]


def _owner(cls, attr):
    for k in cls.__mro__:
        if attr in k.__dict__:
            return k
    return None


def _mode(cls):
    """How a layer class computes its gradient: "kernel" (its own forward,
    e.g. the built-in layers), "manual" (call + hand-written backward) or
    "autodiff" (call on ckeras.ops, differentiated by the tape); "missing"
    when the class defines neither call nor forward."""
    mode = _MODES.get(cls)
    if mode is None:
        call_owner, fwd_owner = _owner(cls, "call"), _owner(cls, "forward")
        # Whichever is defined further down the class tree wins; a class that
        # defines both (a built-in with a Keras-signature call) keeps forward.
        if call_owner is Layer and fwd_owner is Layer:
            mode = "missing"    # Layer.forward and Layer.call would call each other
        elif call_owner is Layer or (fwd_owner is not Layer and issubclass(fwd_owner, call_owner)):
            mode = "kernel"
        elif _owner(cls, "backward") is not Layer:
            mode = "manual"
        elif is_graph_model(cls):
            mode = "kernel"
        else:
            mode = "autodiff"
        _MODES[cls] = mode
    return mode


def weight_penalty(w):
    """``w.regularizer(w)``, with its gradient on the recording tape."""
    value = np.asarray(w.regularizer(w.value), np.float32)
    tape = _tape_mod.current()
    if tape is None or not _tape_mod.requires_grad(w, tape):
        return value
    from ckeras.ops.array_ops import _record
    return _record(tape, value, (w,), (True,), lambda g: (g * w.regularizer.gradient(w.value),))


def _plain_config_value(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_plain_config_value(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _plain_config_value(x) for k, x in v.items())
    return False


def is_graph_model(cls):
    """Sequential / functional (``_is_graph_model``), not a subclassed Model."""
    return getattr(cls, "_is_graph_model", False)


def _unique(weights):
    seen, out = set(), []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def _is_dtype(value):
    if not isinstance(value, str):
        return False
    try:
        np.dtype(value)
        return value not in ("ones", "zeros")
    except TypeError:
        return False


def _watch(tape, x):
    """An input of a forward run on ``tape``: floats become tape Tensors."""
    if type(x) is Tensor:
        x = x.value
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return Tensor(x, tape)
    return x


def _any_float64(x):
    if isinstance(x, dict):
        return any(_any_float64(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_any_float64(v) for v in x)
    return np.result_type(_value_of(x)) == np.float64 if hasattr(x, "dtype") else False


def _value_of(t):
    if type(t) is Tensor or isinstance(t, Variable):
        return t.value
    return t


def record_layer(tape, layer, inputs, y, back):
    """One tape node for a layer with its own (fused) forward/backward."""
    flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    need = [_tape_mod.requires_grad(t, tape) for t in flat]
    weights = layer.trainable_weights
    if not weights and not any(need):
        return y
    for w in weights:
        tape.variables[id(w)] = w
    multi = isinstance(y, (list, tuple))
    outs = tuple(Tensor(v, tape) for v in y) if multi else Tensor(y, tape)
    want_dx = any(need)

    def node_backward(g):
        dx = back(list(g) if multi else g, need_dx=want_dx)
        if not want_dx:
            return [None] * len(flat)
        return list(dx) if isinstance(inputs, (list, tuple)) else [dx]
    tape.nodes.append((outs, [t if n else None for t, n in zip(flat, need)], node_backward))
    return list(outs) if multi else outs


def _is_shape_list(shape):
    return isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list))


def _as_arrays(inputs):
    if isinstance(inputs, (list, tuple)) and inputs and hasattr(inputs[0], "shape"):
        return [_plain(t) for t in inputs]
    return _plain(inputs)


def _plain(t):
    """The ndarray behind a layer input (a Tensor's value, an Array's base)."""
    t = _value_of(t)
    return t.view(np.ndarray) if type(t) is not np.ndarray and isinstance(t, np.ndarray) \
        else np.asarray(t)


def _shapes_of(x):
    if isinstance(x, list):
        return [(None,) + a.shape[1:] for a in x]
    return (None,) + x.shape[1:]


def _to_floatx(x):
    """Keras converts a layer's float inputs to its dtype (float32): float64
    arrays and nested Python lists of numbers become float32 arrays."""
    if isinstance(x, np.ndarray):
        return x.astype(np.float32) if x.dtype == np.float64 else x
    if isinstance(x, dict):
        return {k: _to_floatx(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        if x and all(isinstance(v, (int, float)) or (isinstance(v, list) and v
                     and not hasattr(v[0], "shape")) for v in x):
            a = np.asarray(x)
            return a.astype(np.float32) if a.dtype == np.float64 else a
        return type(x)(_to_floatx(v) for v in x)
    return x


def _shapes_of_any(x):
    """The build shape of any call input: arrays, tensors, lists, dicts."""
    if isinstance(x, dict):
        return {k: _shapes_of_any(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        return [_shapes_of_any(a) if isinstance(a, (list, tuple, dict))
                else (None,) + tuple(np.shape(a))[1:] for a in x]
    shape = tuple(np.shape(x.value if type(x) is Tensor else x))
    return (None,) + shape[1:] if shape else ()


def as_float32(x):
    """The one coercion at a layer boundary: float32, C-contiguous."""
    if x.dtype == np.float32 and x.flags.c_contiguous:
        return x
    if x.dtype == np.float64:
        return x  # float64 flows through so gradient checks run in double
    return np.ascontiguousarray(x, dtype=np.float32)


def serialize_layer(layer):
    """Keras 3's {"module", "class_name", "config", "registered_name"} entry."""
    from ckeras.registry import registered_name
    registered = registered_name(layer)
    # A class may be exported under another name (GroupedQueryAttention).
    class_name = type(layer).__dict__.get("_keras_class_name", type(layer).__name__)
    module = None if registered else "keras.layers"
    if is_graph_model(type(layer)):  # a model used as a layer
        if class_name != "Sequential":
            class_name, module = "Functional", "keras.src.models.functional"
        else:
            module = "keras"
    config = layer.get_config()
    if getattr(layer, "activity_regularizer", None) is not None \
            and "activity_regularizer" not in config and class_name != "ActivityRegularization":
        from ckeras import regularizers   # Keras writes it for every layer that has one
        config["activity_regularizer"] = regularizers.serialize(layer.activity_regularizer)
    return {"module": module, "class_name": class_name,
            "config": config, "registered_name": registered}


def deserialize_layer(entry, custom_objects=None):
    """Build a layer from its config entry (Keras 2 or 3 form)."""
    from ckeras.registry import lookup_custom
    if isinstance(entry, Layer):
        return entry
    name = entry.get("class_name")
    config = dict(entry.get("config") or {})
    cls = lookup_custom(name, entry.get("registered_name"), custom_objects)
    if cls is None:
        # A nested model too: Sequential and Functional register here like
        # every built-in layer (so layers/ never imports models/).
        cls = BUILTIN_LAYERS.get("Functional" if name == "Model" else name)
    if cls is None:
        raise ValueError(
            f"Unknown layer class {name!r}. If it is a custom layer, pass "
            f"custom_objects={{{name!r}: {name}}} to load_model(), or decorate the "
            "class with @ckeras.saving.register_keras_serializable().")
    if "custom_objects" in cls.from_config.__code__.co_varnames:
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)
