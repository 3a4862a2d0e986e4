"""Aliases for the public API's type hints (mypy checks them in CI).

The API is Keras's, so most data arguments are deliberately broad: numpy
arrays, nested lists, a list/dict of arrays for multi-input models, a
PyDataset or a generator.
"""
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

ArrayLike = Any
Data = Any
PathLike = Union[str, "os.PathLike[str]"]
Shape = Sequence[Optional[int]]
Logs = Dict[str, float]

__all__ = ["Any", "ArrayLike", "Callable", "Data", "Dict", "List", "Logs", "Optional",
           "PathLike", "Sequence", "Shape", "Union"]
