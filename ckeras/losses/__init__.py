"""Losses (being split into one module per family; this commit only moves the file)."""
from ckeras.losses import probabilistic as _moved
from ckeras.losses.probabilistic import *  # noqa: F401,F403


def __getattr__(name):
    return getattr(_moved, name)
