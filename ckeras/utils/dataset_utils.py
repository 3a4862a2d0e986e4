"""Datasets built by ``keras.utils.*_dataset_from_*`` and ``split_dataset``.

Keras returns ``tf.data.Dataset`` objects; ckeras returns a ``Dataset``, a
PyDataset (so fit/evaluate/predict take it) over per-sample columns: numpy
arrays, or loaders that read a batch of samples on demand (image files).
It also iterates (``for x, y in ds``), has the tf.data methods scripts chain
(``take``, ``batch``, ``unbatch``, ``map`` -- applied to each batch as it is
read --, ``shuffle``, and ``cache``/``prefetch``, which change nothing here:
batches are computed on demand), and keeps ``class_names`` / ``file_paths``.
With ``shuffle`` the sample order is drawn from ``RandomState(seed)``
and drawn again after every epoch, like a reshuffling tf.data pipeline.
"""
import math
import os

import numpy as np

from ckeras.utils.py_dataset import PyDataset


class Loader:
    """A column whose samples are computed from their indices (``fn(indices)``
    returns the stacked batch), e.g. image files read on demand."""

    def __init__(self, fn, n):
        self.fn, self.n = fn, n

    def __len__(self):
        return self.n

    def __getitem__(self, indices):
        return self.fn(np.asarray(indices))


class Dataset(PyDataset):
    """Batches of ``columns`` (arrays or Loaders of equal length): ``x`` alone
    when there is one column, else a tuple ``(x, y[, ...])``. ``batch_size``
    None yields single samples (as an unbatched tf.data.Dataset)."""

    def __init__(self, columns, batch_size=32, shuffle=False, seed=None, order=None,
                 class_names=None, file_paths=None, transforms=()):
        super().__init__()
        self.transforms = tuple(transforms)
        self.columns = tuple(columns)
        lengths = {len(c) for c in self.columns}
        if len(lengths) != 1:
            raise ValueError(f"Dataset columns have different lengths {sorted(lengths)}.")
        self.n = lengths.pop()
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                       or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive integer or None, got "
                             f"{batch_size!r}.")
        self.batch_size = batch_size
        self._shuffle = shuffle
        self.seed = seed
        self._rng = np.random.RandomState(seed) if shuffle else None
        self.order = np.arange(self.n) if order is None else np.asarray(order)
        if self._rng is not None and order is None:
            self._rng.shuffle(self.order)
        self.class_names = class_names
        self.file_paths = file_paths

    def _derive(self, **changes):
        args = dict(columns=self.columns, batch_size=self.batch_size, shuffle=self._shuffle,
                    seed=self.seed, order=self.order, class_names=self.class_names,
                    file_paths=self.file_paths, transforms=self.transforms)
        args.update(changes)
        return Dataset(**args)

    def __len__(self):
        if self.batch_size is None:
            return self.n
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Dataset index {index} out of range ({len(self)} batches).")
        if self.batch_size is None:
            parts = [_first(c[self.order[index:index + 1]]) for c in self.columns]
        else:
            idx = self.order[index * self.batch_size:(index + 1) * self.batch_size]
            parts = [c[idx] for c in self.columns]
        element = parts[0] if len(parts) == 1 else tuple(parts)
        for fn in self.transforms:
            element = fn(*element) if isinstance(element, tuple) else fn(element)
        return element

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def on_epoch_end(self):
        if self._rng is not None:
            self._rng.shuffle(self.order)

    def take(self, count):
        """The first ``count`` batches (all when count is -1)."""
        count = len(self) if count is None or count < 0 else min(int(count), len(self))
        return [self[i] for i in range(count)]

    def batch(self, batch_size):
        if self.transforms:
            raise NotImplementedError("batch() after map() is not supported: call batch() "
                                      "first, then map().")
        return self._derive(batch_size=batch_size)

    def unbatch(self):
        if self.transforms:
            raise NotImplementedError("unbatch() after map() is not supported: call "
                                      "unbatch() first, then map().")
        return self._derive(batch_size=None)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Apply ``map_func`` to every element (a batch, or a sample when
        unbatched); a tuple element is passed as separate arguments."""
        return self._derive(transforms=self.transforms + (map_func,))

    def shuffle(self, buffer_size=None, seed=None, reshuffle_each_iteration=None, name=None):
        """Shuffle all samples (every epoch), whatever ``buffer_size``."""
        order = np.arange(self.n)
        rng_seed = seed if seed is not None else self.seed
        return self._derive(shuffle=True, seed=rng_seed,
                            order=np.random.RandomState(rng_seed).permutation(order))

    def cache(self, filename="", name=None):
        return self

    def prefetch(self, buffer_size=None, name=None):
        return self

    def cardinality(self):
        return len(self)

    def samples(self, indices):
        """The samples at positions ``indices`` of the current order (for split_dataset)."""
        idx = self.order[np.asarray(indices, dtype=np.int64)]
        parts = [c[idx] for c in self.columns]
        return parts

    def __repr__(self):
        return (f"<ckeras Dataset: {self.n} samples, batch_size={self.batch_size}, "
                f"{len(self.columns)} column(s)>")


def _first(batch):
    if isinstance(batch, dict):
        return {k: v[0] for k, v in batch.items()}
    return batch[0]


# ---- folders of files -------------------------------------------------------------------

def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """Keras's file indexing: ``(file_paths, labels, class_names)``.

    ``labels="inferred"``: one class per subfolder (sorted, hidden ones
    skipped; ``class_names`` picks and orders them), files found recursively
    in sorted order. A list gives one label per file in that order. Shuffled
    with ``RandomState(seed)`` (paths and labels alike).
    """
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` {directory!r} is not a folder.")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories "
                    f"of the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` "
                                 "cannot be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` "
                             "cannot be specified (the `class_names` will be the sorted "
                             "list of labels).")
        subdirs = [""]
    filenames, found = [], []
    for index, subdir in enumerate(subdirs):
        root_dir = os.path.join(directory, subdir)
        for root, _, files in sorted(os.walk(root_dir, followlinks=follow_links),
                                     key=lambda w: w[0]):
            for fname in sorted(files):
                if fname.lower().endswith(formats):
                    filenames.append(os.path.join(root, fname))
                    found.append(index)
    if labels == "inferred":
        label_array = np.asarray(found, dtype=np.int32)
        class_names = subdirs
    elif labels is None:
        label_array, class_names = None, None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                f"Expected the lengths of `labels` to match the number of files in the "
                f"target directory. len(labels) is {len(labels)} while we found "
                f"{len(filenames)} files in directory {directory}.")
        label_array = np.asarray(labels)
        class_names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if label_array is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(filenames)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return filenames, label_array, class_names


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must "
                         "provide a `seed` argument, to make sure that there is no overlap "
                         "between the training and validation subset.")


def split_training_validation(samples, labels, validation_split, subset, verbose=True):
    """Keras's split: the last ``int(validation_split * n)`` samples validate."""
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print(f"Using {len(samples) - n_val} files for training.")
        cut = slice(0, len(samples) - n_val)
    else:
        if verbose:
            print(f"Using {n_val} files for validation.")
        cut = slice(len(samples) - n_val, len(samples))
    return samples[cut], None if labels is None else labels[cut]


def encode_labels(labels, label_mode, num_classes):
    """int: int32 class indices; categorical: float32 one-hot; binary: float32 (n, 1)."""
    if label_mode == "int":
        return np.asarray(labels, dtype=np.int32)
    if label_mode == "binary":
        return np.asarray(labels, dtype=np.float32).reshape(-1, 1)
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]
    raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", '
                     f"or None. Received: label_mode={label_mode}")


def check_label_args(labels, label_mode, class_names):
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple, np.ndarray)):
        raise ValueError("`labels` argument should be a list/tuple of integer labels, of the "
                         "same size as the number of files in the target directory. If you "
                         "wish to infer the labels from the subdirectory names in the target "
                         'directory, pass `labels="inferred"`. If you wish to get a dataset '
                         f"that only contains images (no labels), pass `labels=None`. "
                         f"Received: labels={labels}")
    if class_names and labels != "inferred":
        raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                         f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')


def files_dataset(directory, formats, load, labels, label_mode, class_names, batch_size,
                  shuffle, seed, validation_split, subset, follow_links, verbose):
    """What image_ and text_dataset_from_directory share: index the files,
    split, encode labels, and wrap a Loader of ``load(path)`` samples."""
    check_label_args(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_array, class_names = index_directory(
        directory, labels, formats=formats, class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")

    def make(subset_name):
        p, l = split_training_validation(paths, label_array, validation_split, subset_name,
                                         verbose)
        if not p:
            raise ValueError(f"No files found in directory {directory}. Allowed formats: "
                             f"{formats}" if not paths else
                             f"The {subset_name} subset of {directory} is empty.")
        p = list(p)
        column = Loader(lambda idx: np.stack([load(p[i]) for i in idx]), len(p))
        columns = [column]
        if l is not None:
            columns.append(encode_labels(l, label_mode, len(class_names)))
        # The files are already in Keras's shuffled order; later epochs reshuffle.
        return Dataset(columns, batch_size=batch_size, shuffle=shuffle, seed=seed,
                       order=np.arange(len(p)), class_names=class_names, file_paths=p)
    if subset == "both":
        return make("training"), make("validation")
    return make(subset)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split arrays (or a tuple/list/dict of arrays, or a ckeras Dataset) into
    two unbatched Datasets of ``left_size`` and ``right_size`` samples (ints:
    counts; floats in (0, 1): fractions; one of them None: the rest; both
    None: 0.5 / 0.5). Use ``.batch(n)`` on the parts before fit."""
    if isinstance(dataset, Dataset):
        columns = dataset.samples(np.arange(dataset.n))
        keys = None
    elif isinstance(dataset, dict):
        keys = sorted(dataset)
        columns = [np.asarray(dataset[k]) for k in keys]
    elif isinstance(dataset, (tuple, list)) and len(dataset) and \
            all(np.ndim(a) >= 1 for a in dataset):
        keys = None  # a tuple/list of arrays: columns split together, as Keras
        columns = [np.asarray(a) for a in dataset]
    else:
        keys = None
        columns = [np.asarray(dataset)]
    n = len(columns[0])
    if any(len(c) != n for c in columns):
        raise ValueError(f"split_dataset: the arrays have different lengths "
                         f"{[len(c) for c in columns]}.")
    left, right = _split_sizes(left_size, right_size, n)
    order = np.arange(n)
    if shuffle:
        np.random.RandomState(seed if seed is not None else np.random.randint(1e6)) \
            .shuffle(order)
    parts = []
    for idx in (order[:left], order[left:left + right]):
        cols = [c[idx] for c in columns]
        if keys is not None:
            cols = [_DictColumn(keys, cols)]
        parts.append(Dataset(cols, batch_size=None))
    return tuple(parts)


class _DictColumn:
    """Samples of a dict of arrays, indexed together (split_dataset of a dict)."""

    def __init__(self, keys, arrays):
        self.keys, self.arrays = keys, arrays

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, idx):
        return {k: a[idx] for k, a in zip(self.keys, self.arrays)}


def _split_sizes(left_size, right_size, total):
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is None:
            continue
        if isinstance(size, float) and not 0 < size < 1:
            raise ValueError(f"`{name}` as a float must be in (0, 1), got {size}.")
        if isinstance(size, (int, np.integer)) and not 0 < size <= total:
            raise ValueError(f"`{name}` as an int must be in [1, {total}] (the number of "
                             f"samples), got {size}.")
        if not isinstance(size, (int, float, np.integer)):
            raise TypeError(f"`{name}` must be an int, a float or None, got "
                            f"{type(size).__name__}.")

    def count(size):
        return int(size) if isinstance(size, (int, np.integer)) else round(size * total)
    if left_size is None and right_size is None:
        left_size = 0.5
    if left_size is None:
        right = count(right_size)
        left = total - right
    elif right_size is None:
        left = count(left_size)
        right = total - left
    else:
        left, right = count(left_size), count(right_size)
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` ({left} + {right} "
                         f"samples) is larger than the dataset ({total} samples).")
    if left == 0 or right == 0:
        raise ValueError(f"Both splits must be non-empty: left_size gives {left} and "
                         f"right_size {right} samples out of {total}.")
    return left, right
