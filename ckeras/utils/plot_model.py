"""plot_model without graphviz: a text diagram of a model's layer graph.

One line per layer call, in execution order: its sources, an arrow, and a
box with the layer name, class and (optionally) input -> output shapes.

    in_b --> [ branch_b (Dense) | (None, 4) -> (None, 8) ]
    branch_a, branch_b --> [ concat (Concatenate) | [(None, 8), (None, 8)] -> (None, 16) ]
"""
from ckeras.utils.summary_utils import format_shape


def plot_model(model, to_file=None, show_shapes=True, show_layer_names=True,
               show_dtype=False, show_layer_activations=False, show_trainable=False,
               **kwargs):
    """Return the diagram as a string, and write it to ``to_file`` if given.

    Keras's graphviz-only options (rankdir, dpi, expand_nested, ...) are
    accepted and ignored.
    """
    if hasattr(model, "_steps"):
        lines = _functional_lines(model, show_shapes, show_layer_names, show_dtype,
                                  show_layer_activations, show_trainable)
    elif hasattr(model, "_layers"):
        lines = _sequential_lines(model, show_shapes, show_layer_names, show_dtype,
                                  show_layer_activations, show_trainable)
    else:
        raise TypeError(f"plot_model() expects a Sequential or functional Model, got "
                        f"{type(model).__name__}.")
    text = "\n".join([f'Model: "{model.name}"', ""] + lines) + "\n"
    if to_file:
        with open(to_file, "w", encoding="utf-8") as f:
            f.write(text)
    return text


def _box(layer, in_shape, out_shape, show_shapes, show_names, show_dtype, show_act,
         show_trainable):
    label = f"{layer.name} ({type(layer).__name__})" if show_names else type(layer).__name__
    parts = [label]
    act = getattr(getattr(layer, "activation", None), "name", None)
    if show_act and act:
        parts.append(f"activation: {act}")
    if show_dtype:
        parts.append(f"dtype: {getattr(layer, 'dtype', 'float32')}")
    if show_trainable:
        parts.append("trainable" if layer.trainable else "frozen")
    if show_shapes:
        if in_shape is None:
            parts.append(format_shape(out_shape))
        else:
            parts.append(f"{format_shape(in_shape)} -> {format_shape(out_shape)}")
    return "[ " + " | ".join(parts) + " ]"


def _shapes(structure):
    if isinstance(structure, (list, tuple)):
        return [t.shape for t in structure]
    return structure.shape


def _functional_lines(model, *flags):
    node_counts = {}
    for step in model._steps:
        node_counts[id(step.layer)] = node_counts.get(id(step.layer), 0) + 1
    # Per-layer call number within this model, for labelling shared layers.
    call_no, seen = {}, {}
    for step in model._steps:
        k = id(step.layer)
        call_no[id(step.node)] = seen.get(k, 0)
        seen[k] = seen.get(k, 0) + 1

    def source(t):
        layer, node_index, tensor_index = t.history
        node = layer._inbound_nodes[node_index]
        label = layer.name
        if node_counts.get(id(layer), 1) > 1:
            label += f"#{call_no.get(id(node), node_index)}"
        if isinstance(node.outputs, (list, tuple)):
            label += f"[{tensor_index}]"
        return label

    lines = []
    for step in model._steps:
        node, layer = step.node, step.layer
        name_suffix = f"#{call_no[id(node)]}" if node_counts[id(layer)] > 1 else ""
        if step.is_input:
            lines.append(_box(layer, None, _shapes(node.outputs), *flags))
            continue
        box = _box(layer, _shapes(node.inputs), _shapes(node.outputs), *flags)
        if name_suffix:
            box = box.replace(f"[ {layer.name}", f"[ {layer.name}{name_suffix}", 1)
        sources = ", ".join(source(t) for t in node.input_tensors)
        lines.append(f"{sources} --> {box}")
    outs = ", ".join(f"{name} <- {source(t)}" if name != source(t) else name
                     for name, t in zip(model.output_names, model.outputs))
    lines.append(f"outputs: {outs}")
    return lines


def _sequential_lines(model, *flags):
    lines = []
    prev_name, prev_shape = None, None
    inp = getattr(model, "_input_layer", None)
    if inp is not None:
        lines.append(_box(inp, None, inp.batch_shape, *flags))
        prev_name, prev_shape = inp.name, inp.batch_shape
    shapes = getattr(model, "_output_shapes", None) or [None] * len(model.layers)
    for layer, shape in zip(model.layers, shapes):
        box = _box(layer, prev_shape, shape, *flags)
        lines.append(f"{prev_name} --> {box}" if prev_name else box)
        prev_name, prev_shape = layer.name, shape
    if prev_name:
        lines.append(f"outputs: {prev_name}")
    return lines
