"""Metrics (being split into one module per family; this commit only moves the file)."""
from ckeras.metrics import confusion_metrics as _moved
from ckeras.metrics.confusion_metrics import *  # noqa: F401,F403


def __getattr__(name):
    return getattr(_moved, name)
