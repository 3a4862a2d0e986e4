"""``keras.utils.legacy.serialize_keras_object`` / ``deserialize_keras_object``:
the tf.keras 2 form ``{"class_name", "config"}`` (no module, functions by
name), for libraries that still read or write it.

Unlike ``ckeras.saving.serialization``, deserialising needs the table of
built-in names (``module_objects``), as in Keras.
"""
import inspect

from ckeras import registry


def serialize_keras_object(instance):
    """``{"class_name", "config"}`` of an object with ``get_config``, the
    (registered) name of a function or class, None for None."""
    instance = inspect.unwrap(instance) if callable(instance) else instance
    if instance is None:
        return None
    if hasattr(instance, "get_config") and not inspect.isclass(instance):
        config = {}
        for key, item in instance.get_config().items():
            if isinstance(item, str):
                config[key] = item
                continue
            try:
                serialized = serialize_keras_object(item)
            except ValueError:
                serialized = item          # a plain value (number, list, ...)
            if isinstance(serialized, dict) and not isinstance(item, dict):
                serialized["__passive_serialization__"] = True
            config[key] = serialized
        return {"class_name": registry.get_registered_name(type(instance)), "config": config}
    if hasattr(instance, "__name__"):
        return registry.get_registered_name(instance)
    raise ValueError(f"Cannot serialize {instance!r} because it doesn't implement "
                     "`get_config()`.")


def _unknown(what, name):
    return ValueError(f"Unknown {what}: {name!r}. Please ensure you are using a "
                      "`keras.utils.custom_object_scope` and that this object is included "
                      "in the scope, or pass it in custom_objects / module_objects.")


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """The object a legacy entry describes; names are looked up in the
    custom-object scopes, the registry, ``custom_objects`` and
    ``module_objects``."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(f"Improper config format for {identifier}. Expecting python "
                             "dict contains `class_name` and `config` as keys")
        name = identifier["class_name"]
        cls = registry.get_registered_object(name, custom_objects, module_objects)
        if cls is None:
            raise _unknown(printable_module_name, name)
        config = identifier["config"]
        if isinstance(config, dict):
            config = dict(config)
            for key, item in config.items():
                if key == "name":
                    continue
                if isinstance(item, dict) and "__passive_serialization__" in item:
                    item = {k: v for k, v in item.items() if k != "__passive_serialization__"}
                    config[key] = deserialize_keras_object(item, module_objects,
                                                           custom_objects, "config_item")
                elif isinstance(item, str):
                    fn = registry.get_registered_object(item, custom_objects, module_objects)
                    if inspect.isfunction(fn):
                        config[key] = fn
        with registry.custom_object_scope(custom_objects or {}):
            if hasattr(cls, "from_config"):
                params = inspect.signature(cls.from_config).parameters
                if "custom_objects" in params:
                    return cls.from_config(config, custom_objects={
                        **registry.get_custom_objects(), **(custom_objects or {})})
                return cls.from_config(config)
            return cls(**config)
    if isinstance(identifier, str):
        obj = registry.get_registered_object(identifier, custom_objects, module_objects)
        if obj is None:
            raise _unknown(printable_module_name, identifier)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier!r}")
