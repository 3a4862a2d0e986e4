"""Model: what Sequential, functional and subclassed models share (weights,
summary, saving entry points, the training API). ``Model(inputs, outputs)``
builds a functional graph (ckeras.models.functional); a subclass with
``__init__`` + ``call`` is a custom layer with the training API: its sub-layers
are tracked attributes, it builds on its first call (or ``build(shape)``) and
its gradient comes from the tape (``Layer._tape_forward``).
"""
import numpy as np
from ckeras._typing import Any, ArrayLike, Callable, Data, Dict, List, Logs, Optional, PathLike, Sequence, Shape, Union  # noqa: F401

from ckeras.layers.layer import BUILTIN_LAYERS, Layer, _shapes_of_any, is_graph_model, unique_name
from ckeras.utils import summary_utils as summary_mod
from ckeras.models.steps import StepsMixin
from ckeras.models.training import TrainingMixin
from ckeras.ops import tape as _tape_mod


class Model(StepsMixin, TrainingMixin, Layer):
    _is_model = True

    def __init__(self, inputs: Any = None, outputs: Any = None, name: Optional[str] = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        if name is None and inputs is not None and type(self) is Model:
            name = unique_name("functional")  # Keras 3's name for Model(inputs, outputs)
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self.compiled = False
        self.optimizer = None
        self.history = None
        self.stop_training = False
        self._outputs_spec = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model(inputs, outputs): both are required for a "
                                 "functional model.")
            # Functional subclasses Model, so it is found by name, not imported.
            BUILTIN_LAYERS["Functional"].adopt(self, inputs, outputs)

    # ---- subclassed models (no graph of their own) ------------------------------
    @property
    def layers(self):
        return self._tracked_layers()

    @property
    def output_names(self):
        keys = getattr(self, "_output_keys", None)
        if keys is not None:
            return list(keys)
        return [f"output_{i}" for i in range(getattr(self, "_n_outputs", 1))]

    def compile(self, optimizer="rmsprop", loss=None, *args, **kwargs):
        if not is_graph_model(type(self)):
            # A subclassed model's outputs are known only once it runs: a list
            # or dict of losses says how many (and their names).
            if isinstance(loss, dict):
                self._output_keys = sorted(loss)
            elif isinstance(loss, (list, tuple)):
                self._n_outputs = len(loss)
        return TrainingMixin.compile(self, optimizer, loss, *args, **kwargs)

    @property
    def input_names(self):
        return getattr(self, "_input_keys", None)

    def _adapt(self, x, *args, **kwargs):
        if isinstance(x, dict) and not is_graph_model(type(self)):
            self._input_keys = sorted(x)   # call() gets the dict back (_as_call_input)
        return TrainingMixin._adapt(self, x, *args, **kwargs)

    def _as_call_input(self, xs):
        keys = getattr(self, "_input_keys", None)
        if keys is not None and len(keys) == len(xs):
            return dict(zip(keys, xs))
        return xs[0] if len(xs) == 1 else list(xs)

    def call(self, inputs, training=False, mask=None):
        if is_graph_model(type(self)):
            return self.forward(inputs, training, mask)[0]
        raise NotImplementedError(f"Model {self.name!r} ({type(self).__name__}) has no "
                                  "call(inputs): define it to run the model on data.")

    def _has_call(self):
        return type(self).call is not Model.call

    def build(self, input_shape=None):
        """Create the weights by running ``call`` on zeros of ``input_shape``
        (unless the subclass writes its own ``build``)."""
        from ckeras.layers.layer import _owner
        if (input_shape is not None and not is_graph_model(type(self)) and self._has_call()
                and _owner(type(self), "build") is Model):   # not via super().build()
            self._build_input_shape = input_shape
            self._dummy_call(input_shape)
        self.built = True

    def _ensure_built(self, xs):
        if not self.built and self._has_call():
            self._maybe_build(_shapes_of_any(self._as_call_input(list(xs))))

    def _fusable_output_layer(self, k):
        return None   # a subclassed model's call() is opaque: nothing fuses

    def _format_outputs(self, results):
        keys = getattr(self, "_output_keys", None)
        if keys is not None and not is_graph_model(type(self)) and len(keys) == len(results):
            return dict(zip(keys, results))
        return TrainingMixin._format_outputs(self, results)

    def _run_forward(self, xs, training, fuse=None, need_backward=True):
        x = self._as_call_input(list(xs))
        y, back = self._tape_forward(x, training, None, record=need_backward)
        keys = None
        if isinstance(y, dict):   # outputs by name, in output_names order
            keys = getattr(self, "_output_keys", None) or sorted(y)
            self._output_keys = keys
            y = [y[k] for k in keys]
        multi = isinstance(y, (list, tuple))
        outs = list(y) if multi else [y]
        if keys is None:
            self._n_outputs = len(outs)
        if not need_backward:
            return outs, None

        def backward(douts, need_dx=False):
            if multi:
                d = [np.zeros_like(o) if g is None else g for g, o in zip(douts, outs)]
                if keys is not None:
                    d = dict(zip(keys, d))
            else:
                d = douts[0]
            dx = back(d, need_dx)
            return list(dx) if isinstance(dx, list) else [dx]
        return outs, backward

    def _summary_text(self):
        rows = []
        for layer in self.layers:
            params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
            shape = getattr(layer, "_called_shape", None)   # from its last call
            shape = summary_mod.format_shape(list(shape.values()) if isinstance(shape, dict)
                                             else shape)
            rows.append((summary_mod.layer_label(layer), shape, params))
        return summary_mod.render(self.name, rows, summary_mod.totals_lines(self),
                                  connected=False)

    @property
    def losses(self):
        if not is_graph_model(type(self)):
            return Layer.losses.fget(self)
        out, seen = [], set()
        for layer in self.layers:     # a graph model: its layers' losses
            for loss in layer.losses:
                if id(loss) not in seen:
                    seen.add(id(loss))
                    out.append(loss)
        return out

    # ---- weights -----------------------------------------------------------
    def _unique_weights(self, attr):
        seen, out = set(), []
        if not is_graph_model(type(self)):  # own weights first, then the sub-layers'
            own = [w for w in self._weights if getattr(w, "trainable", True)] \
                if attr == "trainable_weights" else (
                    [w for w in self._weights if not w.trainable]
                    if attr == "non_trainable_weights" else list(self._weights))
            for w in own:
                seen.add(id(w))
                out.append(w)
        for layer in self.layers:
            for w in getattr(layer, attr):
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def trainable_weights(self):
        return self._unique_weights("trainable_weights") if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self._unique_weights("weights")
        return self._unique_weights("non_trainable_weights")

    @property
    def weights(self):
        # Model order is layer by layer (each layer trainable then non-trainable).
        return self._unique_weights("weights")

    def get_weights(self) -> List[Any]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"Model {self.name!r} has {len(own)} weights, got {len(weights)}.")
        for w, v in zip(own, weights):
            if np.shape(v) != w.shape:
                raise ValueError(f"Model {self.name!r}: weight {w.path!r} has shape "
                                 f"{w.shape}, got {np.shape(v)}.")
        for w, v in zip(own, weights):
            w.assign(v)

    def get_layer(self, name: Optional[str] = None, index: Optional[int] = None) -> Any:
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Layers: {[l.name for l in self.layers]}")

    # ---- running ---------------------------------------------------------------
    def forward(self, x, training=False, mask=None):
        xs = x if isinstance(x, list) else [x]
        outs, backward = self._run_forward(xs, training=training, fuse=None)

        def back(dy, need_dx=True):
            douts = dy if isinstance(dy, list) else [dy]
            dxs = backward(douts, need_dx=need_dx)
            return dxs if isinstance(x, list) else dxs[0]
        return (outs if len(outs) > 1 else outs[0]), back

    def infer(self, x, mask=None):
        outs, _ = self._run_forward(x if isinstance(x, list) else [x], training=False,
                                    fuse=None, need_backward=False)
        return outs if len(outs) > 1 else outs[0]

    def __call__(self, inputs, *args, **kwargs):
        from ckeras.layers.keras_tensor import any_symbolic
        from ckeras.layers.layer import _training_stack, record_layer
        from ckeras.ops.tape import eager
        if any_symbolic(inputs) or not is_graph_model(type(self)):
            return Layer.__call__(self, inputs, *args, **kwargs)
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        xs = [np.asarray(a) for a in flat]
        xs = [a.astype(np.float32) if a.dtype == np.float64 else a for a in xs]
        self._ensure_built(xs)
        training = kwargs.get("training")
        if training is None:
            training = _training_stack[-1] if _training_stack else False
        tape = _tape_mod.current()
        if tape is None:
            outs, _ = self._run_forward(xs, training=bool(training), fuse=None,
                                        need_backward=False)
            return eager(self._format_outputs(outs))
        # On a tape (GradientTape, or a custom layer's forward): one node
        y, back = self.forward(xs if len(xs) > 1 else xs[0], bool(training))
        y = record_layer(tape, self, flat if len(flat) > 1 else flat[0], y, back)
        return self._format_outputs(y if isinstance(y, list) else [y])

    def count_params(self) -> int:
        return int(sum(w.value.size for w in self.weights))

    # ---- summary ---------------------------------------------------------------
    def summary(self, line_length: Optional[int] = None, positions: Optional[Sequence[float]] = None,
                print_fn: Optional[Callable[..., Any]] = None, **kwargs: Any) -> None:
        text = self._summary_text()
        if print_fn is None:
            from ckeras.utils.io_utils import print_msg as print_fn
        print_fn(text)

    # ---- persistence (implemented in ckeras.saving) -------------------------------
    def save(self, filepath: PathLike, overwrite: bool = True, include_optimizer: bool = True,
             **kwargs: Any) -> None:
        from ckeras.saving import save_model
        if not is_graph_model(type(self)) and str(filepath).lower().endswith((".h5", ".hdf5")) \
                and not str(filepath).lower().endswith(".weights.h5"):
            raise NotImplementedError(
                f"Model {self.name!r} ({type(self).__name__}) is a subclassed model: the HDF5 "
                "format only holds Functional and Sequential models (as in Keras). Save it "
                "as .keras, or its weights with save_weights().")
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath: PathLike, overwrite: bool = True, **kwargs: Any) -> None:
        from ckeras.saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: PathLike, skip_mismatch: bool = False, by_name: bool = False,
                     **kwargs: Any) -> None:
        from ckeras.saving import load_weights
        load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def to_json(self, **kwargs: Any) -> str:
        import json
        return json.dumps({"class_name": type(self).__name__ if type(self).__name__ == "Sequential"
                           else "Functional", "config": self.get_config()}, **kwargs)
