"""Name -> class lookup for deserialisation, and the register decorator.

Built-in modules (layers, losses, ...) keep their own name tables; this module
holds what users add: ``@register_keras_serializable`` classes and the
``custom_objects`` passed to ``load_model`` (active inside
``custom_object_scope``), and the get/serialize/deserialize logic every object
family (activations, initializers, ..., schedules) shares.

Ground floor: it imports only the standard library, so any module may use it.
"""
import inspect
import re
import warnings

_REGISTERED = {}      # "Package>Name" -> object
_NAMES = {}           # registered object -> "Package>Name"
_SCOPE_STACK = []     # dicts pushed by custom_object_scope


def to_snake_case(name):
    """Keras's ``naming.to_snake_case``: ``"Dense" -> "dense"``,
    ``"RMSprop" -> "rm_sprop"``, ``"AdamW" -> "adam_w"``. The default name of a
    layer (before ``_1``, ``_2`` ...), loss, metric and optimizer, and the
    snake-case alias of each built-in class name."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def register_keras_serializable(package="Custom", name=None):
    """Decorator: make a custom class or function loadable by name from saved
    files, under ``"package>name"`` (``name`` defaults to the object's name).
    As in Keras, registering the same key again replaces the earlier object
    (a notebook cell run twice), and a class needs ``get_config()``."""
    def decorator(obj):
        key = f"{package}>{name if name is not None else obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a "
                             f"get_config() method: {obj.__name__}.")
        _REGISTERED[key] = obj
        _NAMES[obj] = key
        obj._registered_name = key   # read by Lambda's and TextVectorization's configs
        return obj
    return decorator


def registered_name(obj):
    """The ``"package>name"`` key ``obj`` was registered under, else None.
    ``obj`` may be a class, a function or an instance (its own class counts,
    not a registered parent class)."""
    key = obj if isinstance(obj, type) or inspect.isroutine(obj) else type(obj)
    try:
        return _NAMES.get(key)
    except TypeError:          # an unhashable object is never registered
        return None


def get_registered_name(obj):
    """Keras's ``get_registered_name``: the registered key, else the object's
    own ``__name__`` (for an instance, its class's)."""
    found = registered_name(obj)
    if found is not None:
        return found
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Keras's lookup order: the active ``custom_object_scope``s (innermost
    first), the global registry, then ``custom_objects``, then
    ``module_objects``; None when nothing matches."""
    for scope in _SCOPE_STACK[::-1]:
        if name in scope:
            return scope[name]
    for table in (_REGISTERED, custom_objects, module_objects):
        if table and name in table:
            return table[name]
    return None


def get_custom_objects():
    """The live global dict of custom objects (``"package>name"`` -> object);
    what is put in it is found when loading. Objects of a
    ``custom_object_scope`` are not in it."""
    return _REGISTERED


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}):`` makes those names
    known to every deserialisation inside the block (scopes nest; the inner
    one wins). ``custom_object_scope`` is the same class, as in Keras."""

    def __init__(self, *custom_objects):
        self.custom_objects = {}
        for d in custom_objects:
            self.custom_objects.update(d or {})

    def __enter__(self):
        _SCOPE_STACK.append(dict(self.custom_objects))
        return self

    def __exit__(self, *exc):
        _SCOPE_STACK.pop()


custom_object_scope = CustomObjectScope


def lookup_custom(name, registered_name=None, custom_objects=None):
    """Find a user object by class name or registered name, or return None."""
    scopes = [custom_objects or {}] + _SCOPE_STACK[::-1]
    for scope in scopes:
        for key in (registered_name, name):
            if key and key in scope:
                return scope[key]
    for key in (registered_name, name):
        if key and key in _REGISTERED:
            return _REGISTERED[key]
    # A bare class name matches a registered "Package>Name".
    for key, obj in _REGISTERED.items():
        if key.split(">", 1)[-1] == name:
            return obj
    return None


def bare_class_name(name):
    """A config's class name without tf.keras 2's "Custom>" prefix (its
    optimizers' spelling)."""
    if isinstance(name, str) and name.startswith("Custom>"):
        return name[len("Custom>"):]
    return name


def from_config(cls, config, custom_objects=None):
    """``cls`` made from its config: ``cls.from_config`` (given
    ``custom_objects`` when it names that argument, as Optimizer's does), else
    ``cls(**config)``."""
    if not hasattr(cls, "from_config"):
        return cls(**config)
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)


def resolve(identifier, builtins, kind, custom_objects=None):
    """Turn a Keras config entry into an object.

    identifier: a str name, a dict {"class_name", "config", ...} (Keras 2 or 3
    form), or an object (returned as is). builtins maps names (class names and
    snake-case aliases) to classes or functions. Raises ValueError listing the
    accepted names when nothing matches.
    """
    if identifier is None or not isinstance(identifier, (str, dict)):
        return identifier
    if isinstance(identifier, str):
        name, config, registered = identifier, None, None
    else:
        name = bare_class_name(identifier.get("class_name"))
        config = identifier.get("config")
        registered = identifier.get("registered_name")
    obj = lookup_custom(name, registered, custom_objects)
    if obj is None:
        obj = builtins.get(name)
    if obj is None:
        accepted = ", ".join(sorted(k for k in builtins if not k[:1].isupper()))
        raise ValueError(
            f"Unknown {kind}: {name!r}. Accepted names: {accepted}. "
            f"For a custom {kind}, pass custom_objects={{{name!r}: YourClass}} "
            f"or decorate it with @ckeras.saving.register_keras_serializable().")
    if config is not None and isinstance(obj, type):
        return from_config(obj, config)
    if isinstance(obj, type) and isinstance(identifier, str):
        return obj()
    return obj


def deserialize_object(identifier, builtins, kind, custom_objects=None):
    """A family's ``deserialize``: ``resolve``, then a class found by name is
    instantiated with no arguments."""
    obj = resolve(identifier, builtins, kind, custom_objects)
    return obj() if isinstance(obj, type) else obj


def get_object(identifier, builtins, kind, custom_objects=None, instance_of=()):
    """A family's ``get``: None -> None; an ``instance_of`` object -> itself;
    else ``deserialize_object``, which must give something callable."""
    if identifier is None:
        return None
    if instance_of and isinstance(identifier, instance_of):
        return identifier
    obj = deserialize_object(identifier, builtins, kind, custom_objects)
    if not callable(obj):
        raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
    return obj


def serialize(obj, module):
    """Keras 3's dict form of an object with get_config() (None -> None)."""
    if obj is None:
        return None
    registered = registered_name(obj)
    return {"module": None if registered else module,
            "class_name": type(obj).__name__,
            "config": obj.get_config(),
            "registered_name": registered}


def config_repr(obj):
    """``Type(key=value, ...)`` from ``obj.get_config()``, the repr of an object
    its config describes; ``Type()`` when its get_config is not written."""
    try:
        args = ", ".join(f"{k}={v!r}" for k, v in obj.get_config().items())
    except NotImplementedError:
        args = ""
    return f"{type(obj).__name__}({args})"


def known_kwargs(cls, config, kind):
    """Drop (with a warning) config keys cls.__init__ does not take: files from a
    newer Keras may carry arguments ckeras does not know yet."""
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return dict(config)
    unknown = [k for k in config if k not in params or k == "self"]
    if unknown:
        warnings.warn(f"{kind} {cls.__name__}: ignoring unknown config keys {unknown}.",
                      stacklevel=3)
    return {k: v for k, v in config.items() if k not in unknown}
