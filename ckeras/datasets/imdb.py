"""IMDB movie reviews, sentiment-labelled (25,000 train + 25,000 test), as
sequences of word indices (by frequency rank).

Files, origins and hashes as Keras (``imdb.npz``, ``imdb_word_index.json``).
"""
import json

import numpy as np

from ckeras.datasets._common import (ORIGIN_FOLDER, drop_long, limit_words, load_npz,
                                     object_array, offset_words)
from ckeras.utils.file_utils import get_file

_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``: x are object arrays of word
    index lists, y int labels (1 positive). Each split is shuffled with
    ``RandomState(seed)``; words are re-indexed (``+index_from``, led by
    ``start_char``), reviews of ``maxlen`` words or more dropped, and words
    outside ``[skip_top, num_words)`` replaced by ``oov_char``."""
    if kwargs:
        raise TypeError(f"imdb.load_data(): unrecognized keyword arguments {sorted(kwargs)}.")
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb.npz", file_hash=_SHA256)
    f = load_npz(path)
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    x_train = offset_words(x_train, start_char, index_from)
    x_test = offset_words(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen="
                             f"{maxlen}, no sequence was kept. Increase maxlen.")
    xs = limit_words(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return (object_array(xs[:idx]), labels[:idx]), (object_array(xs[idx:]), labels[idx:])


def get_word_index(path="imdb_word_index.json"):
    """{word: index} (indices before ``index_from`` is added)."""
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb_word_index.json",
                    file_hash=_INDEX_MD5)
    with open(path) as f:
        return json.load(f)
