"""``clone_model``: the same architecture with new layers (fresh weights).

As Keras 3: every non-input layer goes through ``clone_function`` (default
``layer.__class__.from_config(layer.get_config())``, so new weights); a
layer shared by several calls is cloned once; Input layers are always made
anew (or replaced by ``input_tensors``). A compiled model's clone is
compiled alike, with its own optimizer and metric objects.
"""
from ckeras.layers.core import Input, InputLayer
from ckeras.layers.keras_tensor import KerasTensor, flatten
from ckeras.models.functional import Functional, _pack, _structure
from ckeras.models.sequential import Sequential


def _clone_layer(layer):
    return layer.__class__.from_config(layer.get_config())


def _cached(clone_function, recursive, call_function, cache):
    clone_function = clone_function or _clone_layer
    if not callable(clone_function):
        raise ValueError(f"Expected `clone_function` argument to be a callable. "
                         f"Received: clone_function={clone_function}")

    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function,
                                               call_function=call_function,
                                               recursive=True, cache=cache)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]
    return clone


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model with the architecture of ``model`` and freshly initialised
    weights (copy them with ``new.set_weights(model.get_weights())``)."""
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs)}")
    cache = {} if cache is None else cache
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("`call_function` argument is not supported with Sequential "
                             "models (their layers are listed, not called). Use it with "
                             "functional models only.")
        clone = _clone_sequential(model, _cached(clone_function, recursive, None, cache),
                                  input_tensors)
    elif isinstance(model, Functional):
        clone = _clone_functional(model, _cached(clone_function, recursive, call_function,
                                                 cache), input_tensors, call_function)
    else:
        if clone_function is not None or input_tensors is not None:
            raise ValueError("Arguments `clone_function` and `input_tensors` are only "
                             "supported for Sequential or functional models.")
        try:
            clone = model.__class__.from_config(model.get_config())
        except (NotImplementedError, TypeError) as e:
            raise ValueError(
                f"Unable to clone model {model.name!r} of class {type(model).__name__}: "
                "a subclassed model can be cloned only if it implements get_config() "
                f"(and from_config() if needed). Error: {e}") from e
    _compile_like(clone, model)
    return clone


def _clone_sequential(model, clone, input_tensors):
    layers = [clone(layer) for layer in model.layers]
    ref = model._input_layer
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor) or \
                not isinstance(input_tensors.history[0], InputLayer):
            raise ValueError("Argument `input_tensors` must be a tensor returned by "
                             f"keras.Input(). Received: input_tensors={input_tensors}")
        layers = [input_tensors] + layers
    elif ref is not None:
        layers = [Input(batch_shape=ref.batch_shape, dtype=ref.dtype, name=ref.name)] + layers
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, clone, input_tensors, call_function):
    if input_tensors is None:
        new_inputs = [Input(batch_shape=t.shape, dtype=t.dtype, name=t.history[0].name)
                      for t in model.inputs]
    else:
        kind, keys, new_inputs = _structure(input_tensors, "input_tensors")
        if len(new_inputs) != len(model.inputs) or (keys or None) != model._in_keys:
            raise ValueError("`input_tensors` must have the same structure as model.input. "
                             f"Reference structure: {model.input}. Received structure: "
                             f"{input_tensors}")
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    call = call_function or (lambda layer, *args, **kwargs: layer(*args, **kwargs))
    for step in model._steps:
        if step.is_input:
            continue
        node = step.node

        def remap(value):
            if isinstance(value, (list, tuple)):
                return [remap(v) for v in value]
            if isinstance(value, dict):
                return {k: remap(v) for k, v in value.items()}
            return values[id(value)] if isinstance(value, KerasTensor) else value
        outputs = call(clone(step.layer), remap(node.inputs), **remap(node.kwargs or {}))
        for old, new in zip(node.output_tensors, flatten(outputs)):
            values[id(old)] = new
    outputs = _pack(model._out_kind, model._out_keys, [values[id(t)] for t in model.outputs])
    inputs = _pack(model._in_kind, model._in_keys, new_inputs)
    return Functional(inputs=inputs, outputs=outputs, name=model.name,
                      trainable=model.trainable)


def _fresh(obj):
    """A new instance of a stateful compile() argument (optimizer, metric)."""
    if isinstance(obj, (list, tuple)):
        return [_fresh(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _fresh(v) for k, v in obj.items()}
    if hasattr(obj, "get_config") and hasattr(type(obj), "from_config"):
        return type(obj).from_config(obj.get_config())
    return obj


def _compile_like(clone, model):
    config = getattr(model, "_compile_config", None)
    if not getattr(model, "compiled", False) or config is None:
        return
    clone.compile(optimizer=_fresh(config["optimizer"]), loss=config["loss"],
                  loss_weights=config["loss_weights"], metrics=_fresh(config["metrics"]),
                  weighted_metrics=_fresh(config["weighted_metrics"]))
