"""CSVLogger: one CSV row per epoch, as Keras 3 writes it."""
import collections.abc
import csv
import os

import numpy as np

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary


class CSVLogger(Callback):
    """Stream epoch results to ``filename``.

    Keras 3's format: header ``epoch`` + the first epoch's log keys sorted;
    when the first epoch has no ``val_`` key, ``val_<key>`` columns are added
    anyway (filled with ``NA`` until validation runs, e.g. validation_freq>1).
    Rows end in ``\\r\\n`` (csv's excel dialect). ``append=True`` adds to an
    existing file and writes the header only if the file is empty.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None
        self._silent = False

    def on_train_begin(self, logs=None):
        self._silent = is_secondary()       # logs are identical: rank 0 writes
        if self._silent:
            return
        mode = "w"
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    @staticmethod
    def _format(value):
        if isinstance(value, str):
            return value
        if isinstance(value, collections.abc.Iterable) and not (
                isinstance(value, np.ndarray) and value.ndim == 0):
            return f'"[{", ".join(map(str, value))}]"'
        return value

    def on_epoch_end(self, epoch, logs=None):
        if self._silent:
            return
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in self.keys]
        if self.writer is None:
            class Dialect(csv.excel):
                delimiter = self.sep
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, self._format(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
