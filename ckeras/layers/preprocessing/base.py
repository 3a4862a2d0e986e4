"""What the preprocessing layers share: a data-layer base (no weights to
train, no input gradient unless the map is differentiable), ``adapt`` input
handling, and Keras's categorical encodings."""
import numpy as np

from ckeras.layers.layer import Layer


class PreprocessingLayer(Layer):
    """A layer whose output does not depend on trainable weights. Subclasses
    implement ``_call(x, training)``; ``forward`` runs it and returns no input
    gradient (ids, strings and counts have none) unless the subclass defines
    ``_backward(dy, x, y)``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def forward(self, x, training=False, mask=None):
        y = self._call(x, training)
        back = getattr(self, "_backward", None)

        def backward(dy, need_dx=True):
            return back(dy, x, y) if need_dx and back is not None else None
        return y, backward

    def _call(self, x, training):
        raise NotImplementedError

    def __call__(self, inputs, *args, **kwargs):
        from ckeras.layers.keras_tensor import any_symbolic
        if any_symbolic(inputs):
            return super().__call__(inputs, *args, **kwargs)
        x = _as_input_array(inputs)
        if not self.built:
            self._maybe_build((None,) + tuple(np.shape(x))[1:])
        return self.forward(x, bool(kwargs.get("training", False)))[0]


def _as_input_array(x):
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, str):
        return np.array(x, dtype=object)
    if isinstance(x, (list, tuple)):
        arr = np.asarray(x, dtype=object)
        if arr.dtype == object and arr.size and not any(isinstance(v, str) for v in arr.flat):
            return np.asarray(x)
        return arr
    return np.asarray(x)


def adapt_batches(data, batch_size=None, steps=None):
    """``adapt`` accepts an array (one batch), or an iterable of batches
    (lists, generators, ckeras datasets); yields numpy batches."""
    if isinstance(data, (np.ndarray, str)) or (
            isinstance(data, (list, tuple)) and data and not hasattr(data[0], "__len__")
            or isinstance(data, (list, tuple)) and data and isinstance(data[0], str)):
        yield _as_input_array(data)
        return
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, tuple) and len(batch) in (2, 3):  # (x, y) pairs
            batch = batch[0]
        yield _as_input_array(batch)


def encode_categorical(ids, output_mode, depth, layer_name, count_weights=None,
                       dtype=np.float32, skip_negative=False):
    """Keras's encode_categorical_inputs for ids in [0, depth):
    "int" as is; "one_hot" (a trailing axis of 1 dropped); "multi_hot" /
    "count" reduce axis 1 (axis 0 for rank-1 input, i.e. one sample).
    ``skip_negative``: ids -1 (masked tokens) contribute nothing."""
    ids = np.asarray(ids)
    if output_mode == "int":
        return ids
    if ids.ndim == 0:
        ids = ids.reshape(1)
    if skip_negative:
        # a zero row at index depth, dropped at the end
        ids = np.where(ids < 0, depth, ids)
        eye = np.eye(depth + 1, depth, dtype=dtype)
        return _encode_with(eye, ids, output_mode, count_weights, dtype)
    if ids.size and (ids.min() < 0 or ids.max() >= depth):
        bad = ids[(ids < 0) | (ids >= depth)].reshape(-1)[0]
        raise ValueError(f"Layer {layer_name!r}: input id {bad} is out of range for "
                         f"{depth} tokens (valid ids are 0..{depth - 1}).")
    return _encode_with(np.eye(depth, dtype=dtype), ids, output_mode, count_weights, dtype,
                        layer_name)


def _encode_with(eye, ids, output_mode, count_weights, dtype, layer_name=None):
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids.reshape(ids.shape[:-1])
        return eye[ids]
    axis = 1 if ids.ndim > 1 else 0
    onehot = eye[ids]
    if output_mode == "multi_hot":
        return onehot.max(axis=axis)
    if output_mode == "count":
        if count_weights is not None:
            onehot = onehot * np.asarray(count_weights, dtype)[..., None]
        return onehot.sum(axis=axis)
    raise ValueError(f"Layer {layer_name!r}: unknown output_mode {output_mode!r}.")


def encoded_shape(input_shape, output_mode, depth):
    """compute_output_shape of encode_categorical."""
    shape = tuple(input_shape)
    if output_mode == "int":
        return shape
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (depth,)
    if len(shape) <= 1:
        return (depth,)
    return (shape[0],) + shape[2:] + (depth,)
