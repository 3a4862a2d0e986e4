"""Argument checks shared by the public API: each names the argument and
says what was expected and what was given (TypeError for a wrong type,
ValueError for a wrong value)."""
import numbers

import numpy as np


def _is_int(value):
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def check_int(value, name, minimum=None, allow_none=False):
    """``value`` as an int >= ``minimum`` (None passes if ``allow_none``)."""
    if value is None and allow_none:
        return None
    if not _is_int(value):
        raise TypeError(f"`{name}` must be an integer"
                        + (" or None" if allow_none else "")
                        + f", got {type(value).__name__} {value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}.")
    return value


def check_rate(value, name, owner, include_one=False):
    """A probability such as a dropout rate: a real number in [0, 1) (or
    [0, 1] with ``include_one``)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{owner}: `{name}` must be a number in [0, 1"
                        f"{']' if include_one else ')'}, got {type(value).__name__} "
                        f"{value!r}.")
    value = float(value)
    ok = 0.0 <= value <= 1.0 if include_one else 0.0 <= value < 1.0
    if not ok:
        raise ValueError(f"{owner}: `{name}` must be in [0, 1{']' if include_one else ')'}, "
                         f"got {value!r}.")
    return value


def check_fraction(value, name):
    """validation_split: a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"`{name}` must be a float in [0, 1), got {type(value).__name__} "
                        f"{value!r}.")
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), got {name}={value!r}.")
    return value


def check_callbacks(callbacks):
    """None or a list/tuple of callbacks (a single Callback is a common slip)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return list(callbacks)
    hint = (" Wrap it in a list: callbacks=[...]."
            if hasattr(callbacks, "on_train_begin") else "")
    raise TypeError(f"`callbacks` must be a list of keras.callbacks.Callback instances, "
                    f"got {type(callbacks).__name__}.{hint}")


def check_class_weight(class_weight, n_classes=None):
    """A {class index: weight} dict with non-negative integer keys below
    ``n_classes`` (when known) and real-number weights."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict {{class index: weight}}, got "
                        f"{type(class_weight).__name__}"
                        + (f" (for a list, use dict(enumerate(...)))"
                           if isinstance(class_weight, (list, tuple, np.ndarray)) else "")
                        + ".")
    out = {}
    for key, weight in class_weight.items():
        if not _is_int(key) and not (isinstance(key, (float, np.floating))
                                     and float(key).is_integer()):
            raise TypeError(f"`class_weight` keys must be integer class indices, got "
                            f"{type(key).__name__} {key!r}.")
        k = int(key)
        if k < 0:
            raise ValueError(f"`class_weight` keys must be class indices >= 0, got {k}.")
        if n_classes is not None and k >= n_classes:
            raise ValueError(f"`class_weight` key {k} is out of range: the model's output "
                             f"has {n_classes} classes (indices 0..{n_classes - 1}).")
        if isinstance(weight, bool) or not isinstance(weight, (numbers.Real, np.number)):
            raise TypeError(f"`class_weight[{k}]` must be a number, got "
                            f"{type(weight).__name__} {weight!r}.")
        if not np.isfinite(float(weight)) or float(weight) < 0:
            raise ValueError(f"`class_weight[{k}]` must be a finite number >= 0, got "
                             f"{weight!r}.")
        out[k] = float(weight)
    return out


def check_dims(shape, name, owner):
    """Every dimension of a shape is None or a positive integer."""
    for d in shape:
        if d is None:
            continue
        if not _is_int(d):
            raise TypeError(f"{owner}: `{name}` must contain integers or None, got "
                            f"{type(d).__name__} {d!r} in {tuple(shape)}.")
        if d < 0:
            raise ValueError(f"{owner}: `{name}` must not have negative dimensions, got "
                             f"{tuple(shape)}.")
