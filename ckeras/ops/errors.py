"""The error the kernels and their numpy twins raise for a bad integer id.

Its own module so the compiled kernels (``ckeras._kernels``) and the twins
(``ops/reference.py``) share one type without importing each other.
"""


class OutOfRangeError(IndexError, ValueError):
    """An integer id or class label outside ``[0, limit)``."""

    def __init__(self, message, index=None, position=None, limit=None):
        super().__init__(message)
        self.index = index
        self.position = position
        self.limit = limit


def out_of_range_error(kind, value, position, limit):
    """Build the error for a bad ``kind`` ("id" or "label") at ``position``."""
    value, position, limit = int(value), int(position), int(limit)
    if kind == "label":
        msg = (f"label {value} at row {position} is out of range for {limit} "
               f"classes (valid labels are 0..{limit - 1})")
    else:
        msg = (f"id {value} at flat position {position} is out of range for "
               f"input_dim {limit} (valid ids are 0..{limit - 1})")
    return OutOfRangeError(msg, index=value, position=position, limit=limit)
