"""Model: what Sequential and functional models share (weights, summary,
saving entry points, the training API). ``Model(inputs, outputs)`` builds a
functional graph (ckeras.models.functional)."""
import numpy as np
from ckeras._typing import Any, ArrayLike, Callable, Data, Dict, List, Logs, Optional, PathLike, Sequence, Shape, Union  # noqa: F401

from ckeras.layers.layer import Layer, unique_name
from ckeras.models import summary as summary_mod
from ckeras.models.training import TrainingMixin


class Model(TrainingMixin, Layer):

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
            from ckeras.models import functional
            functional.init_graph(self, inputs, outputs)

    # ---- weights -----------------------------------------------------------
    def _unique_weights(self, attr):
        seen, out = set(), []
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

    def __call__(self, inputs, *args, **kwargs):
        from ckeras.layers.keras_tensor import any_symbolic
        if any_symbolic(inputs):
            return Layer.__call__(self, inputs, *args, **kwargs)
        xs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        xs = [np.asarray(a) for a in xs]
        xs = [a.astype(np.float32) if a.dtype == np.float64 else a for a in xs]
        self._ensure_built(xs)
        outs, _ = self._run_forward(xs, training=bool(kwargs.get("training", False)), fuse=None)
        return self._format_outputs(outs)

    def count_params(self) -> int:
        return int(sum(w.value.size for w in self.weights))

    # ---- summary ---------------------------------------------------------------
    def summary(self, line_length: Optional[int] = None, positions: Optional[Sequence[float]] = None,
                print_fn: Optional[Callable[..., Any]] = None, **kwargs: Any) -> None:
        text = self._summary_text()
        (print_fn or print)(text)

    # ---- persistence (implemented in ckeras.saving) -------------------------------
    def save(self, filepath: PathLike, overwrite: bool = True, include_optimizer: bool = True,
             **kwargs: Any) -> None:
        from ckeras.saving import save_model
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
