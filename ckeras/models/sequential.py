"""Sequential: a plain stack of layers."""
from ckeras.layers.core import InputLayer
from ckeras.layers.keras_tensor import KerasTensor
from ckeras.layers.layer import Layer, deserialize_layer, run_layer, serialize_layer
from ckeras.utils import summary_utils as summary_mod
from ckeras.models.model import Model
from ckeras._typing import Any, ArrayLike, Callable, Data, Dict, List, Logs, Optional, PathLike, Sequence, Shape, Union  # noqa: F401


class Sequential(Model):
    _is_graph_model = True

    def __init__(self, layers: Optional[Sequence[Any]] = None, name: Optional[str] = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._layers = []
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    # ---- structure -------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer: Any) -> None:
        if isinstance(layer, KerasTensor):  # model.add(keras.Input(...))
            layer = layer.history[0]
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Sequential: an InputLayer can only be the first layer.")
            self._input_layer = layer
            self._rebuild()
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add() expects a Layer instance, got {layer!r}.")
        # A set, so adding n layers stays linear (loading 20,000-layer configs).
        names = self.__dict__.get("_layer_name_set")
        if names is None:
            names = self.__dict__["_layer_name_set"] = {l.name for l in self._layers}
        if layer.name in names and any(l.name == layer.name for l in self._layers):
            raise ValueError(f"Sequential: all layers must have unique names; "
                             f"{layer.name!r} is already in the model.")
        if not self._layers and self._input_layer is None and layer._batch_input_shape:
            self._input_layer = InputLayer(batch_shape=layer._batch_input_shape,
                                           dtype=_input_dtype_for(layer))
        built_so_far = self.built and len(self._output_shapes) == len(self._layers)
        self._layers.append(layer)
        names.add(layer.name)
        layer._set_path_prefix(f"{self.name}/")
        if built_so_far:      # only the new layer needs building (as build() does)
            shape = self._output_shapes[-1] if self._output_shapes else self._build_input_shape
            layer._maybe_build(shape)
            layer._set_path_prefix(f"{self.name}/")
            self._output_shapes.append(layer.compute_output_shape(shape))
            chain = self._symbolic_chain
            x = chain[-1][2] if chain else self._input_layer.output
            chain.append((layer, x, layer(x)))
        else:
            self._rebuild()

    def pop(self) -> Any:
        if not self._layers:
            raise IndexError("Sequential.pop(): there are no layers to remove.")
        layer = self._layers.pop()
        self.__dict__.pop("_layer_name_set", None)
        self._rebuild()
        return layer

    def _rebuild(self):
        """Build every layer through the known input shape, if there is one."""
        self._output_shapes = [None] * len(self._layers)
        if self._input_layer is None:
            self.built = False
            return
        self.build(self._input_layer.batch_shape)

    def build(self, input_shape: Optional[Shape] = None) -> None:
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("Sequential.build() needs an input shape.")
            input_shape = self._input_layer.batch_shape
        if self._input_layer is None:
            dtype = _input_dtype_for(self._layers[0]) if self._layers else None
            self._input_layer = InputLayer(batch_shape=tuple(input_shape), dtype=dtype)
        shape = tuple(input_shape)
        self._output_shapes = []
        for layer in self._layers:
            layer._maybe_build(shape)
            layer._set_path_prefix(f"{self.name}/")
            shape = layer.compute_output_shape(shape)
            self._output_shapes.append(shape)
        self._build_input_shape = tuple(input_shape)
        self.built = True
        self._link_symbolic()

    def _link_symbolic(self):
        """Call each layer on the symbolic output of the one before (as Keras
        does when a Sequential is built), so ``model.inputs``/``outputs`` and
        every ``layer.output`` exist: ``Model(model.inputs,
        model.layers[-2].output)`` extracts features. Layers still linked as
        before (the same layers after the same input) keep their tensors, so
        add() records one node per new layer."""
        x = self._input_layer.output
        old = getattr(self, "_symbolic_chain", [])
        chain = []
        for i, layer in enumerate(self._layers):
            if i < len(old) and old[i][0] is layer and old[i][1] is x:
                link = old[i]
            else:
                old = []  # from here on every layer is called anew
                link = (layer, x, layer(x))
            chain.append(link)
            x = link[2]
        self._symbolic_chain = chain

    def _input_takes_text(self, i):
        if self._input_layer is not None and self._input_layer.dtype == "string":
            return True
        return bool(self._layers) and _input_dtype_for(self._layers[0]) == "string"

    def _ensure_built(self, xs):
        if len(xs) != 1:
            raise ValueError(f"Sequential model {self.name!r} takes one input, got {len(xs)} arrays.")
        x = xs[0]
        if not self.built:
            if not self._layers:
                raise ValueError("This Sequential model has no layers; add some with model.add().")
            self.build((None,) + x.shape[1:])
            return
        expected = self._input_layer.batch_shape
        got = (None,) + x.shape[1:]
        if len(expected) != len(got) or any(e is not None and e != g
                                            for e, g in zip(expected[1:], got[1:])):
            first = self._layers[0] if self._layers else self._input_layer
            raise ValueError(
                f"Input 0 of layer {first.name!r} ({type(first).__name__}) is "
                f"incompatible with the model: expected shape {expected}, "
                f"but received input with shape {x.shape}.")

    def _require_graph(self, what):
        if not self.built or self._input_layer is None or not self._layers:
            raise AttributeError(f"Sequential model {self.name!r} has no defined {what} "
                                 "yet: give it an Input (or input_shape=) or build it.")
        return self._symbolic_chain

    @property
    def inputs(self):
        self._require_graph("inputs")
        return [self._input_layer.output]

    @property
    def outputs(self):
        return [self._require_graph("outputs")[-1][2]]

    @property
    def input(self):  # tf.keras 2 (Keras 3 has only `inputs`)
        return self.inputs[0]

    @property
    def output(self):  # tf.keras 2 (Keras 3 has only `outputs`)
        return self.outputs[0]

    @property
    def input_shape(self):
        return self.inputs[0].shape

    @property
    def output_shape(self):
        return self.outputs[0].shape

    @property
    def input_names(self):
        return [self._input_layer.name] if self._input_layer is not None else ["input"]

    @property
    def output_names(self):
        return [self._layers[-1].name] if self._layers else ["output"]

    # ---- running -------------------------------------------------------------------
    def _fusable_output_layer(self, k):
        """The layer whose output is the model's (models/output_fusion.py decides)."""
        return self._layers[-1] if self._layers else None

    def _run_forward(self, xs, training, fuse=None, need_backward=True):
        x = xs[0]
        mask = None
        backs = []
        last = len(self._layers) - 1
        for i, layer in enumerate(self._layers):
            y, back = run_layer(layer, x, training, mask, logits=i == last and bool(fuse and fuse[0]),
                                need_backward=need_backward)
            mask = layer.compute_mask(x, mask)
            backs.append(back)
            x = y
        self.__dict__["_output_masks"] = [mask]   # the loss weighs masked steps out
        if not need_backward:
            return [x], None

        def backward(douts, need_dx=False):
            d = douts[0]
            for i in range(last, -1, -1):
                d = backs[i](d, need_dx=need_dx or i > 0)
            return [d]
        return [x], backward

    # ---- summary / config -------------------------------------------------------------
    def _summary_text(self):
        rows = []
        for layer, shape in zip(self._layers, self._output_shapes or [None] * len(self._layers)):
            params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
            rows.append((summary_mod.layer_label(layer), summary_mod.format_shape(shape), params))
        return summary_mod.render(self.name, rows, summary_mod.totals_lines(self), connected=False)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self):
        config = super().get_config()
        layers = []
        if self._input_layer is not None:
            layers.append({"class_name": "InputLayer", "config": self._input_layer.get_config()})
        for layer in self._layers:
            layers.append(serialize_layer(layer))
        config["layers"] = layers
        if self.built:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config.get("layers", []):
            model.add(deserialize_layer(entry, custom_objects=custom_objects))
        if not model.built and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model


def _input_dtype_for(layer):
    return getattr(layer, "input_dtype", None)
