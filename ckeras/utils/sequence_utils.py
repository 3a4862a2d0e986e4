"""`pad_sequences` and `to_categorical` with Keras 3 semantics and errors."""

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre",
                  truncating="pre", value=0.0):
    """Pad/truncate a list of sequences to a `(len(sequences), maxlen, ...)` array.

    Args:
        sequences: list (or tuple / array) of sequences; members may be
            sequences of vectors, giving a 3-D or higher result.
        maxlen: output length; defaults to the longest sequence.
        dtype: output dtype (default int32, so float data is truncated).
            Pass the Python type `object` (not the string "object") for
            variable-length strings.
        padding: 'pre' or 'post', where to put the padding.
        truncating: 'pre' or 'post', which end to drop from long sequences.
        value: padding value, cast to `dtype`.

    Errors match Keras, including when they are raised: the truncating and
    padding types are only checked once a non-empty sequence is placed, and
    a `maxlen` that is not a positive integer is refused up front (Keras
    fails with NumPy's broadcast error for 0, as `s[-0:]` is all of `s`).
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    num_samples = len(sequences)

    lengths = []
    sample_shape = None
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError as e:
            raise ValueError("`sequences` must be a list of iterables. "
                             f"Found non-iterable: {s}") from e
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    if sample_shape is None:
        sample_shape = ()

    if maxlen is None:
        maxlen = np.max(lengths)
    elif (isinstance(maxlen, bool)
          or not isinstance(maxlen, (int, np.integer))):
        raise TypeError(f"pad_sequences: `maxlen` must be a positive integer or None, got "
                        f"{type(maxlen).__name__} {maxlen!r}.")
    elif maxlen < 1:
        # Keras fails later with a broadcast error (s[-0:] is all of s).
        raise ValueError(f"pad_sequences: `maxlen` must be a positive integer, got {maxlen}.")

    is_str_dtype = (np.issubdtype(dtype, np.str_)
                    or np.issubdtype(dtype, np.bytes_))
    # Identity test on purpose: Keras rejects the string "object".
    if isinstance(value, str) and dtype is not object and not is_str_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: "
            f"{type(value)}\nYou should set `dtype=object` for variable "
            "length strings.")

    x = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)

    # One pass; each member is converted by NumPy in C, never element-wise.
    for idx, s in enumerate(sequences):
        if not lengths[idx]:
            continue
        if truncating == "pre":
            trunc = s[-maxlen:]
        elif truncating == "post":
            trunc = s[:maxlen]
        else:
            raise ValueError(f'Truncating type "{truncating}" not understood')
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {trunc.shape[1:]} of sequence at position "
                f"{idx} is different from expected shape {sample_shape}")
        if padding == "post":
            x[idx, :len(trunc)] = trunc
        elif padding == "pre":
            x[idx, -len(trunc):] = trunc
        else:
            raise ValueError(f'Padding type "{padding}" not understood')
    return x


class LabelOutOfRange(ValueError, IndexError):
    """A label >= num_classes (an IndexError too, as Keras raises)."""


def to_categorical(x, num_classes=None):
    """One-hot encode integer class labels into a float64 array.

    A trailing axis of size 1 is replaced by the class axis (`(N, 1)` ->
    `(N, C)`); other shapes gain a new last axis. `num_classes` defaults to
    `max(x) + 1`. Unlike Keras 3, which truncates fractional labels and
    wraps negative ones silently, a label that is negative, fractional or
    >= `num_classes` raises a ValueError (also an IndexError for the last,
    which is what Keras raises there).
    """
    raw = np.asarray(x)
    if raw.dtype.kind not in "iub" and raw.dtype.kind != "f":
        raise TypeError(f"to_categorical: labels must be integers, got dtype {raw.dtype}.")
    if raw.dtype.kind == "f" and raw.size:
        bad = ~np.isfinite(raw) | (raw != np.round(raw))
        if bad.any():
            v = raw.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]]
            raise ValueError(f"to_categorical: labels must be whole numbers, got {v!r}.")
    if num_classes is not None:
        from ckeras.utils.arg_checks import check_int
        num_classes = check_int(num_classes, "num_classes", 1) if num_classes != 0 else None
    x = np.array(raw, dtype="int64")
    if x.size and x.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, got {int(x.min())}.")
    if x.size and num_classes is not None and x.max() >= num_classes:
        raise LabelOutOfRange(f"to_categorical: label {int(x.max())} is out of range for "
                              f"num_classes={num_classes} (labels 0..{num_classes - 1}).")
    input_shape = x.shape
    if len(input_shape) > 1 and input_shape[-1] == 1:
        input_shape = input_shape[:-1]
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(input_shape + (num_classes,))
