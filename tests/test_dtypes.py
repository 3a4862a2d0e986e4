"""keras.backend.result_type / standardize_dtype against Keras 3.15 (JAX backend,
tests/data/utils/make_result_type.py)."""
import json
import pathlib

import numpy as np
import pytest

from ckeras import backend

GOLD = json.loads((pathlib.Path(__file__).parent / "data" / "utils" /
                   "result_type.json").read_text())
PY = {"int": int, "float": float, "bool": bool}


def test_result_type_matches_keras_on_every_pair():
    wrong = []
    for key, expected in GOLD.items():
        if key in ("none", "empty"):
            continue
        args = [PY.get(a, a) for a in key.split(",")]
        got = backend.result_type(*args)
        if got != expected:
            wrong.append((key, got, expected))
    assert not wrong, wrong[:10]
    assert backend.result_type(None, "int8") == GOLD["none"]
    assert backend.result_type() == GOLD["empty"]
    with pytest.raises(ValueError, match="float8"):
        backend.result_type("float8_e4m3fn", "float32")


def test_standardize_dtype_and_kinds():
    assert backend.standardize_dtype(None) == "float32"
    assert backend.standardize_dtype(np.float64) == "float64"
    assert backend.standardize_dtype(np.dtype("int16")) == "int16"
    assert backend.standardize_dtype(int) == "int32"
    assert backend.standardize_dtype(bool) == "bool"
    with pytest.raises(ValueError, match="Invalid dtype"):
        backend.standardize_dtype("float31")
    assert backend.is_float_dtype("bfloat16") and not backend.is_float_dtype("int8")
    assert backend.is_int_dtype("uint8") and not backend.is_int_dtype(float)
