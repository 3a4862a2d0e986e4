"""Symbolic tensors and graph nodes: what ``Input`` returns and what calling a
layer on it records. The functional ``Model`` replays these nodes."""


from ckeras.ops.operators import OperatorMixin


class KerasTensor(OperatorMixin):
    """A placeholder with a shape (batch dimension None) and a history.

    ``history`` is (layer, node_index, tensor_index): which call of which layer
    produced it, as Keras's ``keras_history``.
    """

    def __init__(self, shape, dtype="float32", history=None, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.history = history
        self.name = name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        layer = self.history[0].name if self.history else None
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, from={layer}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "A symbolic KerasTensor (from ckeras.Input) has no values. Build a "
            "model with ckeras.Model(inputs, outputs) and call predict() on arrays.")


class Node:
    """One call of a layer on symbolic inputs."""

    def __init__(self, layer, inputs, outputs, kwargs):
        self.layer = layer
        self.inputs = inputs            # KerasTensor or list of them
        self.outputs = outputs          # KerasTensor or list of them
        self.kwargs = kwargs
        # How the call was written, for saved configs, when not ``layer(inputs)``:
        # positional tensors (``mha(q, v)``) and tensor keywords (attention_mask=).
        self.call_args = None
        self.call_kwargs = None

    @property
    def input_tensors(self):
        return flatten(self.inputs)

    @property
    def output_tensors(self):
        return flatten(self.outputs)


def flatten(structure):
    if isinstance(structure, (list, tuple)):
        out = []
        for s in structure:
            out.extend(flatten(s))
        return out
    if isinstance(structure, dict):
        return flatten(list(structure.values()))
    return [structure]


def any_symbolic(inputs):
    return any(isinstance(t, KerasTensor) for t in flatten(inputs))


def symbolic_call(layer, inputs, kwargs):
    """Record ``layer(inputs)`` in the graph and return its output tensor(s)."""
    if isinstance(inputs, tuple):
        inputs = list(inputs)
    shapes = [t.shape for t in inputs] if isinstance(inputs, list) else inputs.shape
    layer._maybe_build(shapes)
    out_shape = layer.compute_output_shape(shapes)
    node_index = len(layer._inbound_nodes)
    multi = isinstance(out_shape, list)
    shapes_out = out_shape if multi else [out_shape]
    dtype = getattr(layer, "output_dtype", "float32")
    outputs = [KerasTensor(s, dtype, (layer, node_index, i)) for i, s in enumerate(shapes_out)]
    outputs = outputs if multi else outputs[0]
    kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
    layer._inbound_nodes.append(Node(layer, inputs, outputs, kwargs))
    return outputs


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic tensor (from ``Input`` or a layer called on one)."""
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor):
    """The ``Input`` tensors ``tensor`` is computed from (a list, without
    repeats); a tensor without history is returned as is, as in Keras."""
    history = getattr(tensor, "history", None) if is_keras_tensor(tensor) else None
    if not history:
        return tensor if not is_keras_tensor(tensor) else [tensor]
    layer, node_index, _ = history
    if not layer._inbound_nodes:
        return [tensor]
    node = layer._inbound_nodes[node_index]
    if not node.input_tensors:          # an InputLayer's node
        return node.output_tensors
    sources = []
    for t in node.input_tensors:
        for s in get_source_inputs(t):
            if all(s is not seen for seen in sources):
                sources.append(s)
    return sources
