"""A weight's options as built-in layers hold them: for each role (``kernel``,
``bias``, ``recurrent``, ``depthwise``, ``gamma``...) the attributes
``<role>_initializer``, ``<role>_regularizer`` and ``<role>_constraint``,
resolved when the layer is made, used when it builds the weight, and written
back into its config under the same keys (Keras's argument names)."""
from ckeras import activations, constraints, initializers, regularizers


def set_weight_options(layer, role, initializer, regularizer, constraint):
    """Resolve the constructor arguments of ``role`` onto ``layer``."""
    setattr(layer, role + "_initializer", initializers.get(initializer))
    setattr(layer, role + "_regularizer", regularizers.get(regularizer))
    setattr(layer, role + "_constraint", constraints.get(constraint))


def add_weight_with_options(layer, role, shape, name=None, initializer=None):
    """``layer.add_weight`` with ``role``'s options (``name`` defaults to the
    role; ``initializer`` overrides the role's one)."""
    if initializer is None:
        initializer = getattr(layer, role + "_initializer")
    return layer.add_weight(name or role, shape, initializer,
                            regularizer=getattr(layer, role + "_regularizer"),
                            constraint=getattr(layer, role + "_constraint"))


def config_values(layer, keys):
    """``{key: layer.<key>}`` in the order of ``keys`` (Keras's), as a config
    holds them: activations, initializers, regularizers and constraints
    serialized (a key's suffix says which), tuples as lists."""
    config = {}
    for key in keys:
        if key == "activity_regularizer":   # Layer sets it only when one is given
            value = getattr(layer, key, None)
        else:
            value = getattr(layer, key)
        if key == "activation" or key.endswith("_activation"):
            value = activations.serialize(value)
        elif key.endswith("_initializer"):
            value = initializers.serialize(value)
        elif key.endswith("_regularizer"):
            value = regularizers.serialize(value)
        elif key.endswith("_constraint"):
            value = constraints.serialize(value)
        elif isinstance(value, tuple):
            value = list(value)
        config[key] = value
    return config
