"""Dtype names and Keras 3's type promotion (``keras.backend.result_type``).

Keras promotes along JAX's lattice: Python ``int``/``float`` are "weak"
types that adopt the other operand's kind and width, and a 64-bit result is
narrowed to 32 bits (as on Keras's JAX, torch and numpy backends; ckeras
computes in float32). Ground floor: numpy and ``ckeras.config`` only.
"""
import functools

import numpy as np

from ckeras import config

ALLOWED_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64",
                  "int8", "int16", "int32", "int64", "bfloat16", "bool", "string",
                  "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
_PYTHON = {bool: "bool", int: "int32", float: "float32", str: "string", "int": "int32",
           complex: "complex64"}


def standardize_dtype(dtype):
    """A dtype (None -> floatx, a Python type, a numpy dtype or name) as
    Keras's canonical string; ValueError for anything else."""
    if dtype is None:
        return config.floatx()
    try:
        dtype = _PYTHON.get(dtype, dtype)
    except TypeError:          # an unhashable object: not a dtype
        raise ValueError(f"Invalid dtype: {dtype!r}") from None
    if isinstance(dtype, np.dtype):
        dtype = dtype.name
    elif isinstance(dtype, type):
        dtype = np.dtype(dtype).name if issubclass(dtype, np.generic) else dtype.__name__
    elif hasattr(dtype, "name") and not isinstance(dtype, str):
        dtype = dtype.name
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype


def is_float_dtype(dtype):
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype):
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


# Each type -> the types directly above it. "int" and "float" are the weak
# (Python scalar) types.
_ABOVE = {
    "bool": ["int"],
    "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"], "uint64": ["float"],
    "int": ["uint8", "int8", "complex64"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"],
    "bfloat16": ["float32"], "float16": ["float32"],
    "float32": ["float64", "complex64"], "float64": ["complex128"],
    "complex64": ["complex128"], "complex128": [],
}


def _closure():
    """Every type's set of upper bounds (itself included)."""
    bounds = {}

    def up(t):
        if t not in bounds:
            bounds[t] = {t}.union(*(up(u) for u in _ABOVE[t]))
        return bounds[t]
    for t in _ABOVE:
        up(t)
    return bounds


_UPPER = _closure()
_NARROW = {"int64": "int32", "uint64": "uint32", "float64": "float32",
           "complex128": "complex64"}
_FLOAT8 = ("float8_e4m3fn", "float8_e5m2")


@functools.lru_cache(512)
def _join(types):
    """The least upper bound of a set of lattice types."""
    for t in types:
        if t not in _UPPER:
            raise ValueError(f"dtype={t!r} is not a valid dtype for Keras type promotion.")
    common = set.intersection(*(_UPPER[t] for t in types))
    least = [c for c in common if common <= _UPPER[c]]
    if len(least) != 1:
        raise ValueError(f"Input dtypes {tuple(types)} have no available implicit dtype "
                         "promotion path. Try explicitly casting inputs to the desired "
                         "output type.")
    return least[0]


def _weak(dtype):
    """The weak lattice type of a Python scalar's dtype."""
    if dtype == "bool":
        return dtype
    if "float" in dtype:
        return "float"
    if "int" in dtype:
        return "int"
    raise ValueError(f"Invalid dtype for a weak (Python scalar) type: {dtype}")


def _resolve_weak(dtype):
    """A weak result takes floatx's width: int -> int32, float -> float32."""
    width = config.floatx()[-2:]
    kind = "f" if dtype == "bfloat16" else dtype[:1]
    return {"b": "bool", "i": f"int{width}", "u": f"uint{width}"}.get(kind, f"float{width}")


def result_type(*dtypes):
    """The dtype Keras gives an op on operands of these dtypes (None means
    floatx; Python ``int``/``float`` are weak). No operands: floatx."""
    if not dtypes:
        return config.floatx()
    if any(d in _FLOAT8 for d in dtypes if isinstance(d, str)):
        raise ValueError("There is no implicit conversions from float8 dtypes to others. "
                         f"You must cast it internally. Received: {dtypes}")
    args = [config.floatx() if d is None else d for d in dtypes]
    names = [standardize_dtype(a) for a in args]
    weak = [a is int or a is float for a in args]
    if len(names) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _join(frozenset(names)), True
    else:
        out = _join(frozenset(_weak(n) if w else n for n, w in zip(names, weak)))
        out_weak = out in ("int", "float")
    if out_weak and out != "bool":
        out = _resolve_weak(out)
    return _NARROW.get(out, out)
