"""What the Keras dataset loaders share: Keras's origin folder, a pickle
reader that builds only numpy arrays, and Keras's shuffle-then-split."""
import io
import pickle
import zipfile

import numpy as np

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# The only globals a Keras dataset pickle may name (numpy arrays and dtypes).
_ALLOWED_GLOBALS = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, lists, dicts and numbers; refuses any other
    class (a tampered dataset file cannot run code)."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to deserialize `{module}.{name}` while loading a Keras dataset. "
            "The file may be corrupted or malicious.")


def load_npz(path):
    """Every array of an ``.npz`` file; object arrays (imdb/reuters sequences)
    are read through RestrictedUnpickler instead of ``allow_pickle=True``."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            with archive.open(member) as raw:
                buffer = io.BytesIO(raw.read())
            arrays[member[:-4]] = _read_npy(buffer)
    return arrays


def _read_npy(fp):
    version = np.lib.format.read_magic(fp)
    if version[0] == 1:
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version[0] in (2, 3):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"Unsupported .npy file version: {version}.")
    if dtype.hasobject:
        return RestrictedUnpickler(fp).load()
    fp.seek(0)
    return np.lib.format.read_array(fp, allow_pickle=False)


def split_shuffled(x, y, test_split, seed):
    """Keras's boston/california split: shuffle with RandomState(seed), the
    first ``int(n * (1 - test_split))`` samples train."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between "
                         "0 and 1 (exclusive of 1).")
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def offset_words(xs, start_char, index_from):
    """Keras's re-indexing: every word index + ``index_from``, each sequence
    led by ``start_char`` (when not None)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def drop_long(maxlen, xs, labels):
    """Keep the sequences shorter than ``maxlen`` (Keras's strict <)."""
    kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_words(xs, num_words, skip_top, oov_char):
    """Words outside ``[skip_top, num_words)`` become ``oov_char`` (or are
    dropped when it is None); ``num_words`` None keeps them all."""
    if not num_words:
        num_words = max(max(x) for x in xs if len(x)) if any(len(x) for x in xs) else 0
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(seqs):
    """A 1-D object array of lists (np.array would make a 2-D int array when
    all lists have the same length)."""
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out
