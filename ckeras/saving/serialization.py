"""``keras.saving.serialize_keras_object`` / ``deserialize_keras_object``: any
Keras object (layer, model, loss, metric, optimizer, schedule, initializer,
regularizer, constraint, function, registered custom class) and the plain
values around it, to and from Keras 3's JSON-ready dicts.

Built-in objects go through their family's own serialisation (the one
``.keras`` files use), so this module only adds the envelope and the special
values (numpy arrays, bytes, slices). Lambdas are refused both ways: ckeras
never stores or runs code from a config.
"""
import importlib
import inspect
import types

import numpy as np

from ckeras import registry

PLAIN_TYPES = (str, int, float, bool)

# Public Keras namespaces of object families, in the order searched for a
# built-in class's public name (Keras's canonical export is the first one).
_FAMILIES = ("layers", "losses", "metrics", "optimizers", "optimizers.schedules",
             "initializers", "regularizers", "constraints")
# Where Keras looks up a built-in function saved by name only.
_FUNCTION_FAMILIES = ("activations", "constraints", "initializers", "losses",
                      "metrics", "optimizers", "regularizers")


def _family(name):
    return importlib.import_module(f"ckeras.{name}")


def _public_module(cls):
    """``"keras.losses"`` for a built-in ckeras class exported there, else None."""
    if not cls.__module__.startswith("ckeras."):
        return None
    for family in _FAMILIES:
        if vars(_family(family)).get(cls.__name__) is cls:
            return f"keras.{family}"
    return None


def _is_layer(obj):
    from ckeras.layers.layer import Layer
    return isinstance(obj, Layer)


def serialize_keras_object(obj):
    """The Keras 3 dict form of ``obj`` (plain values pass through; lists,
    tuples and dicts are serialised item by item)."""
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return serialize_dict(obj)
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__",
                "config": {"start": serialize_keras_object(obj.start),
                           "stop": serialize_keras_object(obj.stop),
                           "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        return {"class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.item()           # numpy scalars are plain values
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        raise ValueError("serialize_keras_object: cannot serialize a lambda (ckeras never "
                         "stores code in a config). Use a named function decorated with "
                         "@keras.saving.register_keras_serializable().")
    if inspect.isroutine(obj):
        # Keras's form for every function: looked up again by (registered) name.
        return {"module": "builtins", "class_name": "function",
                "config": registry.get_registered_name(obj), "registered_name": "function"}
    if _is_layer(obj):
        return _serialize_layer(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj)}. To be "
                        "serializable, a class must implement the `get_config()` method.")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {obj!r} should return a dict. "
                        f"It returned: {config!r}")
    cls = type(obj)
    module = _public_module(cls)
    if module is not None and registry.registered_name(cls) is None:
        return {"module": module, "class_name": cls.__name__,
                "config": serialize_dict(config), "registered_name": None}
    return {"module": None if cls.__module__ == "__main__" else cls.__module__,
            "class_name": cls.__name__, "config": serialize_dict(config),
            "registered_name": registry.get_registered_name(cls)}


def serialize_dict(obj):
    return {key: serialize_keras_object(value) for key, value in obj.items()}


def _serialize_layer(layer):
    """A layer's entry as in ``.keras`` files, with Keras's ``build_config``;
    a model's as its ``config.json``."""
    from ckeras.layers.layer import serialize_layer
    from ckeras.saving.model_config import compile_config, full_model_config, shape_json
    if layer._is_model:
        compiled = getattr(layer, "compiled", False) and \
            getattr(layer, "optimizer", None) is not None
        return full_model_config(layer, compile_config(layer) if compiled else None)
    out = serialize_layer(layer)
    out["config"] = serialize_dict(out["config"])
    shape = getattr(layer, "_build_input_shape", None)
    if layer.built and shape is not None:
        out["build_config"] = {"input_shape": shape_json(shape)}
    return out


# ---- deserialisation ---------------------------------------------------------------

def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a ``serialize_keras_object`` dict describes.

    ``safe_mode`` is accepted for Keras compatibility; ckeras is always safe
    (a ``__lambda__`` entry is refused whatever its value).
    """
    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected arguments {sorted(kwargs)}.")
    custom_objects = dict(custom_objects or {})
    if module_objects:
        custom_objects = {**module_objects, **custom_objects}
    return _deserialize(config, custom_objects)


def _deserialize(config, custom_objects):
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, str):
        found = registry.get_registered_object(config, custom_objects)
        return config if found is None else found   # a plain function saved by name
    if isinstance(config, (list, tuple)):
        return [_deserialize(x, custom_objects) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: _deserialize(v, custom_objects) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    special = _SPECIAL.get(class_name)
    if special is not None:
        return special(inner, custom_objects)
    if class_name == "function":
        return _function(inner, config, custom_objects)
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {class_name}, instead got "
                        f"{type(inner).__name__}. Full config: {config}")
    with registry.custom_object_scope(custom_objects):
        return _instance(config, custom_objects)


def _function(name, config, custom_objects):
    if not isinstance(name, str):
        raise TypeError("Expected 'config' to be a str (the function's name) for a "
                        f"function entry. Full config: {config}")
    found = registry.get_registered_object(name, custom_objects)
    if found is not None:
        return found
    module = config.get("module") or ""
    families = _FUNCTION_FAMILIES
    if module.startswith("keras."):
        families = (module[len("keras."):],) + families
    for family in families:
        try:
            fn = vars(_family(family)).get(name)
        except ModuleNotFoundError:
            continue
        if inspect.isroutine(fn):
            return fn
    raise TypeError(f"Could not locate function {name!r}. Make sure custom functions are "
                    "decorated with `@keras.saving.register_keras_serializable()`. "
                    f"Full object config: {config}")


def _instance(config, custom_objects):
    """A class entry: a registered or custom class, else a built-in one of the
    family its ``module`` names."""
    class_name = config["class_name"]
    registered = config.get("registered_name")
    cls = None
    for key in (registered, class_name):
        if key and cls is None:
            cls = registry.get_registered_object(key, custom_objects)
    if cls is not None:
        if inspect.isroutine(cls):
            return cls
        if not hasattr(cls, "from_config"):
            raise TypeError(f"Unable to reconstruct an instance of {class_name!r} because "
                            f"the class is missing a `from_config()` method. Full object "
                            f"config: {config}")
        instance = cls.from_config(config["config"] or {})
        _build_and_compile(instance, config, custom_objects)
        return instance
    family = _family_of(config.get("module"), class_name)
    if family in ("layers", "models"):
        return _layer_or_model(config, custom_objects)
    if family is not None:
        return _family(family).deserialize(
            {k: config[k] for k in ("class_name", "config")}, custom_objects=custom_objects)
    raise TypeError(f"Could not locate class {class_name!r}. Make sure custom classes are "
                    "decorated with `@keras.saving.register_keras_serializable()`. "
                    f"Full object config: {config}")


def _family_of(module, class_name):
    """``"keras.losses"`` / ``"keras.src.losses.losses"`` -> ``"losses"``."""
    if not module or not (module == "keras" or module.startswith("keras.")):
        return None
    if module == "keras" or "models" in module.split("."):
        return "models" if class_name in ("Sequential", "Functional", "Model") else "layers"
    parts = [p for p in module.split(".")[1:] if p != "src"]
    if parts[:2] == ["optimizers", "schedules"]:
        return "optimizers.schedules"
    if parts and parts[0] in _FAMILIES + ("activations",):
        return parts[0]
    return None


def _layer_or_model(config, custom_objects):
    from ckeras.layers.layer import deserialize_layer
    from ckeras.saving.model_config import import_layer_modules, model_from_config
    if config["class_name"] in ("Sequential", "Functional", "Model"):
        model = model_from_config(config, custom_objects)
        _build_and_compile(model, {"compile_config": config.get("compile_config")},
                           custom_objects)
        return model
    import_layer_modules()
    layer = deserialize_layer(config, custom_objects)
    _build_and_compile(layer, config, custom_objects)
    return layer


def _build_and_compile(instance, config, custom_objects):
    build = config.get("build_config")
    if build and build.get("input_shape") is not None and not getattr(instance, "built", True):
        shape = build["input_shape"]
        instance.build(tuple(shape) if not isinstance(shape[0], list) else
                       [tuple(s) for s in shape])
    if config.get("compile_config"):
        from ckeras.saving.model_config import compile_from_config
        compile_from_config(instance, config["compile_config"], custom_objects)


def _slice(inner, custom_objects):
    return slice(*(_deserialize(inner.get(k), custom_objects) for k in ("start", "stop", "step")))


def _refuse_lambda(inner, custom_objects):
    raise ValueError("Requested the deserialization of a Python lambda: ckeras never runs "
                     "code from a config (whatever safe_mode says). Replace the lambda by a "
                     "named function decorated with @keras.saving.register_keras_serializable().")


def _refuse_keras_tensor(inner, custom_objects):
    raise ValueError("deserialize_keras_object: a `__keras_tensor__` entry (a symbolic tensor "
                     "inside a layer config) is not supported by ckeras.")


_SPECIAL = {
    "__numpy__": lambda c, _: np.array(c["value"], dtype=c["dtype"]),
    "__tensor__": lambda c, _: np.array(c["value"], dtype=c["dtype"]),
    "__bytes__": lambda c, _: c["value"].encode("utf-8"),
    "__ellipsis__": lambda c, _: Ellipsis,
    "__slice__": _slice,
    "__lambda__": _refuse_lambda,
    "__keras_tensor__": _refuse_keras_tensor,
}
