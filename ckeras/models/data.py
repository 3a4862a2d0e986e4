"""Turning what users pass to fit/evaluate/predict into batches.

Arrays are validated once here (lengths, emptiness, dtype) so the training
loop never sees a malformed batch. Every source -- ArrayData, GeneratorData
(a generator, iterator or re-iterable of batches), PyDatasetData -- offers:

  first_inputs()           arrays whose shapes build the model
  has_targets              whether batches carry y
  steps(batch_size)        steps per epoch, None while unknown
  batches(batch_size, shuffle)  one epoch of (xs, ys, sample_weight)
  n                        sample count (None for streams)
  ran_out                  a one-shot stream ended before its step limit

``adapt()`` picks the source; epoch/step semantics follow Keras 3's
EpochIterator (see _EpochSource).
"""
import math
import warnings

import numpy as np

from ckeras import random as ck_random


def to_array_list(data, what, names=None):
    """Normalise x or y into a list of numpy arrays (one per model input/output)."""
    if data is None:
        return None
    if isinstance(data, dict):
        if names is None:
            raise ValueError(f"`{what}` was given as a dict but the model has no names to match.")
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"`{what}` dict is missing keys {missing}; expected keys {names}.")
        data = [data[n] for n in names]
    if isinstance(data, (list, tuple)):
        if not len(data):
            raise ValueError(f"`{what}` is an empty {type(data).__name__}.")
        if all(hasattr(a, "shape") and np.ndim(a) > 0 for a in data):   # not numpy scalars
            return [_as_batchable(a, what) for a in data]
        if names is not None and len(names) > 1 and len(data) == len(names):
            return [_as_batchable(a, what) for a in data]  # one plain list per input
        # A plain Python list of samples (tf.keras 2 accepted it): one array.
    return [_as_batchable(data, what)]


def is_text(a):
    """Strings: a numpy str/bytes array, or an object array of str/bytes."""
    if a.dtype.kind in "US":
        return True
    return a.dtype == object and a.size > 0 and all(
        isinstance(t, (str, bytes)) for t in a.reshape(-1))


def refuse_text(what, dtype):
    # numpy's cast error would name neither the argument nor the remedy
    remedy = ("tokenize text first (e.g. ckeras.preprocessing.text.Tokenizer), or start "
              "the model with a layer that takes strings (TextVectorization, StringLookup)"
              if what == "x" else "map class names to integers first (e.g. "
              "np.unique(y, return_inverse=True))")
    raise ValueError(f"`{what}` has dtype {dtype} (strings), expected numbers; {remedy}.")


def _as_batchable(a, what):
    a = _to_numpy(a, what)
    if a.ndim == 0:
        raise ValueError(f"`{what}` must have a batch dimension, got a scalar.")
    if is_text(a):
        # Inputs may be text for a model that takes strings (the model checks,
        # training.py:_check_text_inputs); targets never are.
        if what != "x":
            refuse_text(what, a.dtype)
        return a
    if a.dtype == object:
        a = _numbers_from_objects(a, what)
    if a.dtype.kind == "c":  # casting would silently drop the imaginary part
        raise TypeError(f"`{what}` has dtype {a.dtype} (complex numbers), expected real "
                        "numbers; pass the real part (x.real) or split real and "
                        "imaginary parts into features.")
    if a.dtype.kind == "V":
        raise ValueError(f"`{what}` has dtype {a.dtype} (records), expected numbers.")
    if a.dtype == np.float64 or a.dtype == np.float16 or a.dtype == np.bool_:
        a = a.astype(np.float32)  # the model is float32: cast once, not per layer
    return a


def _to_numpy(a, what):
    """numpy array of a list, array or pandas DataFrame/Series (pandas is
    optional: only objects with ``to_numpy`` are treated as frames)."""
    if hasattr(a, "to_numpy") and not isinstance(a, np.ndarray):
        a = a.to_numpy()
    try:
        return np.asarray(a)
    except ValueError as e:  # numpy refuses ragged nested lists
        raise ValueError(f"`{what}` is ragged (samples of different lengths): {e}. "
                         "Pad sequences with ckeras.utils.pad_sequences first.") from None


def _numbers_from_objects(a, what):
    """An object array holding only numbers (e.g. pandas' mixed-type columns,
    or labels read as objects) becomes a numeric array; anything else is refused."""
    try:
        out = np.array(a.tolist())
    except ValueError:
        out = a
    if out.dtype.kind not in "biuf":
        raise ValueError(f"`{what}` has dtype object and holds values that are not "
                         "numbers (ragged sequences, strings or None?); pad sequences "
                         "with ckeras.utils.pad_sequences or convert to numbers first.")
    return out


_RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your "
            "dataset or generator can generate at least `steps_per_epoch * epochs` "
            "batches.")


class _EpochSource:
    """Keras 3's epoch iteration over ``_open()`` (a fresh pass of batches).

    Without a step limit an epoch is one full pass. With ``steps_limit`` (fit's
    steps_per_epoch / validation_steps, evaluate/predict's steps) an epoch
    takes that many batches from an iterator that carries on across epochs
    and restarts after a full pass; running out early warns (Keras's
    message) and ends the epoch. A one-shot iterator that runs out sets
    ``ran_out`` so fit() stops after that epoch: no later epoch can get data.
    """

    steps_limit = None
    one_shot = False
    exhausted = False    # a one-shot source has been read to its end
    ran_out = False      # ... and that happened before a step limit was met
    _iter = None
    _seen = 0
    _known_batches = None

    def _num_batches(self, batch_size):
        return self._known_batches

    def steps(self, batch_size):
        """Steps per epoch, or None while unknown (a stream before its first pass)."""
        return self.steps_limit or self._num_batches(batch_size)

    def _epoch_begin(self):
        pass

    def _epoch_end(self):
        pass

    def _fresh(self, batch_size, shuffle):
        if self.exhausted:
            raise ValueError(
                "The generator is exhausted: a Python generator can be iterated "
                "only once. Make it loop forever (`while True:`) and pass "
                "steps_per_epoch / validation_steps / steps, or use a "
                "keras.utils.PyDataset, which is re-read every epoch.")
        return self._open(batch_size, shuffle)

    def batches(self, batch_size, shuffle=False):
        """One epoch of (xs, ys, sample_weight) batches."""
        self._epoch_begin()
        limit = self.steps_limit
        if limit is None:
            count = 0
            for batch in self._fresh(batch_size, shuffle):
                count += 1
                yield batch
            self._known_batches = count
            if self.one_shot:
                self.exhausted = True
            self._epoch_end()
            return
        total = self._num_batches(batch_size)
        if self._iter is None:
            self._iter, self._seen = iter(self._fresh(batch_size, shuffle)), 0
        for _ in range(limit):
            if total and self._seen >= total:
                warnings.warn(_RAN_OUT, stacklevel=3)
                break
            try:
                batch = next(self._iter)
            except StopIteration:
                warnings.warn(_RAN_OUT, stacklevel=3)
                self._iter = None
                if self.one_shot:
                    self.exhausted = self.ran_out = True
                elif self._known_batches is None:
                    self._known_batches = self._seen
                break
            self._seen += 1
            yield batch
        if total and self._seen >= total:
            self._iter = None
        self._epoch_end()


class ArrayData(_EpochSource):
    """In-memory arrays split into batches (the last one partial, as Keras)."""

    def __init__(self, xs, ys=None, sample_weight=None, steps=None):
        self.xs, self.ys = xs, ys
        self.sample_weight = None
        self.steps_limit = steps
        lengths = {len(a) for a in xs}
        if ys is not None:
            lengths |= {len(a) for a in ys}
        if len(lengths) > 1:
            xl = [len(a) for a in xs]
            yl = [len(a) for a in ys] if ys is not None else []
            raise ValueError(f"Data cardinality is ambiguous: x sizes {xl}, y sizes {yl}. "
                             "Make sure all arrays contain the same number of samples.")
        self.n = lengths.pop()
        if self.n == 0:
            raise ValueError("Expected non-empty input data, but x has 0 samples.")
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float32)
            if sw.ndim > 1:
                sw = sw.reshape(len(sw), -1)[:, 0] if sw.shape[1:] == (1,) * (sw.ndim - 1) else sw
            if sw.ndim == 0:
                raise ValueError(f"sample_weight must hold one weight per sample, shape "
                                 f"({self.n},), got the scalar {sw}.")
            if sw.shape[0] != self.n:
                raise ValueError(f"sample_weight has {sw.shape[0]} entries but x has "
                                 f"{self.n} samples.")
            if sw.ndim > 1:   # per-timestep weights: not supported by the losses
                raise ValueError(f"sample_weight must hold one weight per sample, shape "
                                 f"({self.n},), got shape {sw.shape}.")
            self.sample_weight = sw

    @property
    def has_targets(self):
        return self.ys is not None

    def first_inputs(self):
        """Arrays whose shapes build the model (the first batch's, for streams)."""
        return self.xs

    def _num_batches(self, batch_size):
        return math.ceil(self.n / batch_size)

    def _open(self, batch_size, shuffle):
        order = None
        if shuffle:
            order = ck_random.global_generator().permutation(self.n)
        for start in range(0, self.n, batch_size):
            sl = slice(start, start + batch_size) if order is None else order[start:start + batch_size]
            xs = [a[sl] for a in self.xs]
            ys = None if self.ys is None else [a[sl] for a in self.ys]
            sw = None if self.sample_weight is None else self.sample_weight[sl]
            yield xs, ys, sw

    def split(self, validation_split):
        """Keras's split: the LAST fraction of the samples validates, unshuffled."""
        split_at = int(math.floor(self.n * (1.0 - validation_split)))
        if split_at == 0 or split_at == self.n:
            raise ValueError(
                f"validation_split={validation_split} leaves "
                f"{split_at} training and {self.n - split_at} validation samples "
                f"out of {self.n}; both must be non-empty.")

        def part(sl):
            return ArrayData([a[sl] for a in self.xs],
                             None if self.ys is None else [a[sl] for a in self.ys],
                             None if self.sample_weight is None else self.sample_weight[sl],
                             steps=self.steps_limit)
        return part(slice(0, split_at)), part(slice(split_at, None))


def class_weight_to_sample_weight(class_weight, y, sample_weight):
    """Per-sample weights from a {class: weight} dict, as Keras 3 derives them:
    the label is the argmax of a last axis wider than 1 (one-hot), else the
    rounded label value; classes missing from the dict weigh 1. Multiplied
    with ``sample_weight`` when both are given."""
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        labels = y.argmax(axis=-1)
    else:
        labels = np.rint(y.reshape(len(y))).astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"class_weight: labels must be non-negative class indices, "
                         f"got {int(labels.min())}.")
    table_size = int(max(max(int(k) for k in class_weight) + 1,
                         labels.max() + 1 if labels.size else 0))
    table = np.ones(table_size, dtype=np.float32)
    for k, w in class_weight.items():
        table[int(k)] = w
    weights = table[labels]
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float32)
        if sw.ndim == 0 or len(sw) != len(labels):
            raise ValueError(f"sample_weight has shape {sw.shape} but y has {len(labels)} "
                             "samples; give one weight per sample.")
        if sw.ndim > 1 and sw.shape[1:] == (1,) * (sw.ndim - 1):
            sw = sw.reshape(len(sw))
        weights = weights.reshape(weights.shape + (1,) * (sw.ndim - 1)) * sw
    return weights


# ---- streams: generators, iterables, PyDataset ------------------------------

def is_stream(x):
    """A source of batches (not arrays): a PyDataset, generator or iterable."""
    from ckeras.utils.py_dataset import PyDataset
    if isinstance(x, (PyDataset, _EpochSource)):
        return True
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)):
        return False
    if hasattr(x, "shape"):  # array-likes (tensors, DataFrames) are data, not streams
        return False
    return hasattr(x, "__next__") or hasattr(x, "__iter__")


def _source_name(x):
    from ckeras.utils.py_dataset import PyDataset
    return "PyDataset" if isinstance(x, PyDataset) else "Python generator"


def unpack_batch(batch, input_names=None, output_names=None, class_weight=None,
                 where="the generator"):
    """One yielded batch -> (xs, ys or None, sample_weight or None)."""
    if isinstance(batch, dict) or hasattr(batch, "shape"):
        batch = (batch,)
    elif isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        raise ValueError(
            f"{where} must yield a tuple (inputs,), (inputs, targets) or "
            f"(inputs, targets, sample_weights); got {type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, tuple) else "")
            + f": {str(batch)[:100]}")
    x, y, sw = (tuple(batch) + (None, None))[:3]
    xs = to_array_list(x, "x", input_names)
    if xs is None:
        raise ValueError(f"{where} yielded a batch whose inputs are None.")
    ys = to_array_list(y, "y", output_names)
    if sw is not None:
        sw = np.asarray(sw, dtype=np.float32)
        if sw.ndim > 1 and sw.shape[1:] == (1,) * (sw.ndim - 1):
            sw = sw.reshape(len(sw))
    if class_weight is not None:
        if ys is None or len(ys) != 1:
            raise ValueError("class_weight is only supported for single-output models "
                             "with targets.")
        sw = class_weight_to_sample_weight(class_weight, ys[0], sw)
    sizes = {len(a) for a in xs} | {len(a) for a in ys or ()}
    if sw is not None:
        sizes.add(len(sw))
    if len(sizes) != 1:
        raise ValueError(
            f"{where} yielded a batch whose parts disagree on the batch size: x "
            f"{[len(a) for a in xs]}, y {[len(a) for a in ys or ()]}, sample_weight "
            f"{None if sw is None else len(sw)}.")
    if sizes == {0}:
        raise ValueError(f"{where} yielded an empty batch (0 samples).")
    return xs, ys, sw


class _Stream(_EpochSource):
    """What generators and PyDatasets share: the first batch is read at once
    (it builds the model and tells whether targets are present)."""

    n = None  # sample count unknown

    def _init_names(self, input_names, output_names, class_weight, where):
        self._names = (input_names, output_names)
        self._class_weight = class_weight
        self._where = where

    def _unpack(self, batch):
        return unpack_batch(batch, *self._names, self._class_weight, self._where)

    @property
    def has_targets(self):
        return self._first[1] is not None

    def first_inputs(self):
        return self._first[0]


class GeneratorData(_Stream):
    """Batches from a Python generator/iterator (read once) or a re-iterable
    object (re-read every epoch)."""

    def __init__(self, source, steps=None, input_names=None, output_names=None,
                 class_weight=None):
        self._init_names(input_names, output_names, class_weight, "The generator")
        self.steps_limit = steps
        self._source = source
        it = iter(source)
        self.one_shot = it is source
        try:
            raw = next(it)
        except StopIteration:
            raise ValueError("The generator/iterable passed as x yielded no batch.") from None
        self._first = self._unpack(raw)
        self._pending = (self._first, it)   # the peeked batch and the rest of its pass

    def _open(self, batch_size, shuffle):
        if self._pending is not None:
            first, it = self._pending
            self._pending = None
            yield first
        else:
            it = iter(self._source)
        for raw in it:
            yield self._unpack(raw)


class PyDatasetData(_Stream):
    """Batches ``dataset[i]`` of a PyDataset, i over ``range(len)`` per epoch
    (shuffled when fit's ``shuffle=True``, as Keras does)."""

    def __init__(self, dataset, steps=None, input_names=None, output_names=None,
                 class_weight=None):
        self._init_names(input_names, output_names, class_weight,
                         f"{type(dataset).__name__}.__getitem__")
        self.dataset = dataset
        self.steps_limit = steps
        total = dataset.num_batches
        if total is None and steps is None:
            raise ValueError(
                f"{type(dataset).__name__} is endless (num_batches is None): pass "
                "steps_per_epoch (fit), validation_steps or steps (evaluate/predict).")
        if total == 0:
            raise ValueError(f"{type(dataset).__name__} has length 0: no batch to read.")
        self._first = self._unpack(dataset[0])

    def _num_batches(self, batch_size):
        return self.dataset.num_batches

    def _epoch_begin(self):
        self.dataset.on_epoch_begin()

    def _epoch_end(self):
        self.dataset.on_epoch_end()

    def _open(self, batch_size, shuffle):
        import itertools
        total = self.dataset.num_batches
        if total is None:
            indices = itertools.count()
        else:
            indices = list(range(total))
            if shuffle:
                ck_random.global_generator().shuffle(indices)
        ds = self.dataset
        if ds.workers > 1 or (ds.workers > 0 and ds.use_multiprocessing):
            from ckeras.utils.py_dataset import parallel_batches
            raw = parallel_batches(ds, indices)
        else:
            raw = (ds[i] for i in indices)
        for batch in raw:
            yield self._unpack(batch)


def adapt(x, y=None, sample_weight=None, class_weight=None, input_names=None,
          output_names=None, steps=None):
    """The one entry point from fit/evaluate/predict to a data source."""
    if isinstance(x, _EpochSource):
        return x
    if is_stream(x):
        from ckeras.utils.py_dataset import PyDataset
        kind = _source_name(x)
        for value, arg, what in ((y, "y", "the targets"),
                                 (sample_weight, "sample_weight", "the sample weights")):
            if value is not None:
                raise ValueError(f"When providing `x` as a {kind}, `{arg}` should not be "
                                 f"passed. Instead, {what} should be included as part of "
                                 f"the {kind}.")
        cls = PyDatasetData if isinstance(x, PyDataset) else GeneratorData
        return cls(x, steps=steps, input_names=input_names, output_names=output_names,
                   class_weight=class_weight)
    xs = to_array_list(x, "x", input_names)
    if xs is None:
        raise ValueError("No input data: pass x (a numpy array).")
    ys = to_array_list(y, "y", output_names)
    if class_weight is not None:
        if ys is None or len(ys) != 1:
            raise ValueError("class_weight is only supported for single-output models.")
        sample_weight = class_weight_to_sample_weight(class_weight, ys[0], sample_weight)
    return ArrayData(xs, ys, sample_weight, steps=steps)


def check_passes(source, passes, what, steps_arg):
    """A one-shot generator without a step limit can feed only one pass:
    refuse up front (Keras 3 would silently replay its first two batches)."""
    if passes > 1 and source.one_shot and source.steps_limit is None:
        raise ValueError(
            f"{what} is a Python generator/iterator, which can be read only once, "
            f"but it would be needed for {passes} passes. Make it loop forever "
            f"(`while True:`) and pass `{steps_arg}=<batches per epoch>`, or use a "
            "keras.utils.PyDataset (re-read every epoch).")
