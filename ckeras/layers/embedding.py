"""Embedding: integer ids -> rows of a trainable (input_dim, output_dim) table.

Forward is a gather (``ops.embedding_lookup``), backward a deterministic
scatter-add into ``embeddings.grad`` (``ops.embedding_lookup_backward``).
Every id is range-checked; a bad one raises a ValueError that names the layer,
the id, where it sits in the batch and ``input_dim``.

``sparse_grad=True`` (a ckeras extension, not written to the config) also
records which rows a step touched, so zeroing the gradient and a plain-SGD
update cost O(touched rows) instead of O(input_dim); see
``ckeras.variables.RowSparseVariable``. Results are identical to the dense path.
"""
import numpy as np

from ckeras import ops, regularizers
from ckeras.layers.layer import Layer
from ckeras.layers.weight_options import add_weight_with_options, config_values, set_weight_options
from ckeras.variables import RowSparseVariable
from ckeras.ops.errors import OutOfRangeError


class Embedding(Layer):

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None,
                 mask_zero=False, weights=None, input_length=None,
                 activity_regularizer=None, sparse_grad=False, **kwargs):
        # tf.keras 2 scripts pass input_length to fix the sequence length of
        # a first Sequential layer; Keras 3 ignores it, we use it for the shape.
        if input_length is not None and not any(
                kwargs.get(k) is not None for k in ("input_shape", "batch_input_shape")):
            kwargs["batch_input_shape"] = (kwargs.pop("batch_size", None), int(input_length))
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Embedding: `{arg}` must be a positive integer, "
                                 f"got {value!r}.")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        set_weight_options(self, "embeddings", embeddings_initializer, embeddings_regularizer,
                           embeddings_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_dtype = "int32"      # an auto-created InputLayer holds ids
        self.output_dtype = "float32"
        self._sparse_grad = bool(sparse_grad)
        if weights is not None:
            self.build()
            if not (isinstance(weights, (list, tuple)) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    # ---- weights -------------------------------------------------------------
    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = add_weight_with_options(self, "embeddings",
                                                  (self.input_dim, self.output_dim))
        self.built = True
        if self._sparse_grad:
            self._use_row_sparse_variable()

    @property
    def sparse_grad(self):
        return self._sparse_grad

    @sparse_grad.setter
    def sparse_grad(self, value):
        self._sparse_grad = bool(value)
        if self._sparse_grad and self.built:
            self._use_row_sparse_variable()

    def _use_row_sparse_variable(self):
        if not isinstance(self.embeddings, RowSparseVariable):
            var = RowSparseVariable.from_variable(self.embeddings)
            self._weights[self._weights.index(self.embeddings)] = var
            self.embeddings = var

    # ---- running ---------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return np.asarray(inputs) != 0

    def forward(self, x, training=False, mask=None):
        ids = self._as_ids(x)
        table = self.embeddings.value
        try:
            y = ops.embedding_lookup(ids.reshape(-1), table)
        except OutOfRangeError as e:  # the kernel found it first: same message
            raise self._range_error(ids, e.index, e.position) from None
        y = y.reshape(ids.shape + (self.output_dim,))

        def backward(dy, need_dx=True):
            # Ids have no gradient (as in Keras); only the table learns.
            if self.trainable:
                var = self.embeddings
                dout = np.ascontiguousarray(dy, dtype=var.grad.dtype).reshape(-1, self.output_dim)
                ops.embedding_lookup_backward(ids.reshape(-1), dout, var.grad)
                if self._sparse_grad and hasattr(var, "record_rows"):
                    var.record_rows(ids.reshape(-1))
            return None
        return y, backward

    def _as_ids(self, x):
        """Integer ids, checked once: int32/int64 as given, else converted."""
        x = np.asarray(x)
        kind = x.dtype.kind
        if kind == "i":
            ids = x if x.dtype in (np.int32, np.int64) else x.astype(np.int64)
        elif kind == "u" or kind == "b":
            if kind == "u" and x.size and x.max() >= self.input_dim:
                self._raise_first_bad(x)
            ids = x.astype(np.int64)
        elif kind == "f":
            # Keras casts float ids to int; we also refuse silent truncation.
            bad = ~np.isfinite(x) | (x < 0) | (x >= self.input_dim)
            if bad.any():
                self._raise_first_bad(x, bad)
            if not np.array_equal(x, np.floor(x)):
                pos = int(np.argmax((x != np.floor(x)).reshape(-1)))
                raise ValueError(
                    f"Layer {self.name!r} (Embedding) expects integer token ids, "
                    f"but input {self._where(x.shape, pos)} is "
                    f"{x.reshape(-1)[pos]!r}, which is not a whole number. Pass "
                    "an integer array (e.g. from pad_sequences) or round the ids.")
            ids = x.astype(np.int64)
        else:
            raise TypeError(f"Layer {self.name!r} (Embedding) expects integer token "
                            f"ids, got an array of dtype {x.dtype}.")
        if not ids.flags.c_contiguous:
            ids = np.ascontiguousarray(ids)
        if kind == "i" and ids.size:
            # One cheap pass here so the message can say sample/step even
            # when the compiled kernel is not the one that would catch it.
            lo, hi = ids.min(), ids.max()
            if lo < 0 or hi >= self.input_dim:
                self._raise_first_bad(ids)
        return ids

    def _raise_first_bad(self, x, bad=None):
        flat = x.reshape(-1)
        if bad is None:
            bad = (flat < 0) | (flat >= self.input_dim)
        pos = int(np.argmax(bad.reshape(-1)))
        raise self._range_error(x, flat[pos], pos)

    def _where(self, shape, pos):
        if len(shape) == 0:
            return "(a scalar)"
        idx = np.unravel_index(pos, shape)
        if len(shape) == 1:
            return f"at sample {idx[0]}"
        if len(shape) == 2:
            return f"at sample {idx[0]}, step {idx[1]}"
        return f"at sample {idx[0]}, position {tuple(int(i) for i in idx[1:])}"

    def _range_error(self, x, value, pos):
        value = value.item() if hasattr(value, "item") else value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return ValueError(
            f"Layer {self.name!r} (Embedding): input id {value} "
            f"{self._where(np.shape(x), int(pos))} is out of range for "
            f"input_dim={self.input_dim} (valid ids are 0..{self.input_dim - 1}). "
            "input_dim must be the vocabulary size, i.e. the largest id + 1: "
            "with a ckeras Tokenizer use input_dim=tokenizer.vocab_size (or "
            "num_words when you set it).")

    # ---- config ----------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(config_values(self, (
            "input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer",
            "activity_regularizer", "embeddings_constraint", "mask_zero")))
        return config
