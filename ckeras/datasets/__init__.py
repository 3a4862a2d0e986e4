"""Small real data sets that ship with ckeras (or with a pip package)."""
from ckeras.datasets import digits  # noqa: F401
