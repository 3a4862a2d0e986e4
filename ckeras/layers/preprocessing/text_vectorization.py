"""TextVectorization: strings -> token indices or bag-of-words vectors.

Pipeline (Keras's): standardize ("lower_and_strip_punctuation" default:
ASCII lower-casing, as tf.strings.lower, then Keras's punctuation set
removed; "lower"; "strip_punctuation"; None; or a callable on a numpy array
of str) -> split ("whitespace", "character", None, or a callable on one
standardized str) -> ngrams (all n-grams of each width, widths in order,
joined by " ") -> a StringLookup with mask token "" (int mode: 0 is padding,
1 is "[UNK]") -> output_mode "int" (padded with 0 / truncated to
output_sequence_length, else padded to the longest), "multi_hot", "count" or
"tf_idf". Inputs are Python strings, lists of them or numpy str / bytes /
object arrays of shape (batch,) or (batch, 1).
"""
import contextlib
import gc

import numpy as np

from ckeras.layers.preprocessing.base import PreprocessingLayer, adapt_batches
from ckeras.layers.preprocessing.lookup import StringLookup

# Keras's punctuation character class, as a translation table.
_PUNCTUATION = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
_TABLES = {   # one str.translate pass per standardization
    "lower": str.maketrans(_UPPER, _LOWER),
    "strip_punctuation": str.maketrans("", "", _PUNCTUATION),
    "lower_and_strip_punctuation": str.maketrans(_UPPER, _LOWER, _PUNCTUATION),
}
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


@contextlib.contextmanager
def _no_cyclic_gc():
    """Token lists hold no reference cycles; without this the cyclic
    collector rescans the growing lists again and again (a third of adapt)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ngrams(tokens, widths):
    out = []
    for n in widths:
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


class TextVectorization(PreprocessingLayer):

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", **kwargs):
        kwargs.pop("vocabulary_size", None)      # written for Keras; derived here
        kwargs.pop("has_input_vocabulary", None)
        super().__init__(**kwargs)
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ValueError(f"TextVectorization: `standardize` must be one of {_STANDARDIZE}, "
                             f"None or a callable, got {standardize!r}.")
        if not (split is None or callable(split) or split in _SPLIT):
            raise ValueError(f"TextVectorization: `split` must be one of {_SPLIT}, None or a "
                             f"callable, got {split!r}.")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("int", "multi_hot", "count", "tf_idf"):
            raise ValueError(f"TextVectorization: `output_mode` must be 'int', 'multi_hot', "
                             f"'count' or 'tf_idf', got {output_mode!r}.")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool)
                                   and ngrams >= 1)
                or (isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams))):
            raise ValueError(f"TextVectorization: `ngrams` must be None, an int >= 1 or a tuple "
                             f"of ints, got {ngrams!r}.")
        if output_sequence_length is not None and (
                output_mode != "int" or isinstance(output_sequence_length, bool)
                or not isinstance(output_sequence_length, int) or output_sequence_length < 1):
            raise ValueError("TextVectorization: `output_sequence_length` must be a positive "
                             "int, and is only used with output_mode='int'; got "
                             f"{output_sequence_length!r} with {output_mode!r}.")
        if ragged:      # as Keras on JAX or PyTorch: ragged tensors are TensorFlow's
            raise ValueError("TextVectorization: `ragged=True` can only be used with Keras's "
                             "TensorFlow backend; ckeras, like Keras on JAX or PyTorch, pads "
                             "sequences (use output_sequence_length).")
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self.input_dtype = "string"
        self.output_dtype = "int64" if output_mode == "int" else "float32"
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, encoding=encoding, name=self.name + "_string_lookup")

    # ---- text -> tokens -------------------------------------------------------------------
    def _texts(self, x):
        a = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
        if a.ndim == 0:
            a = a.reshape(1)
        if a.ndim > 1 and (self._split is not None or a.shape[-1] == 1):
            if a.shape[-1] != 1:
                raise ValueError(f"Layer {self.name!r} (TextVectorization): to split strings "
                                 "the input must have rank 1 or a last dimension of 1, got "
                                 f"shape {a.shape}.")
            a = a.reshape(a.shape[:-1])
        enc = self._encoding
        flat = [t.decode(enc) if isinstance(t, bytes) else str(t) for t in a.reshape(-1)]
        return flat, a.shape

    def _standardized(self, texts):
        std = self._standardize
        if std is None:
            return texts
        if callable(std):
            return [str(t) for t in np.asarray(std(np.array(texts, dtype=str))).reshape(-1)]
        table = _TABLES[std]
        return [t.translate(table) for t in texts]

    def _tokens(self, texts):
        """One token list per text (or the texts themselves when split is None)."""
        texts = self._standardized(texts)
        split = self._split
        if split is None:
            rows = [[t] for t in texts]
        elif split == "whitespace":
            rows = [t.split() for t in texts]
        elif split == "character":
            rows = [list(t) for t in texts]
        else:
            rows = [[str(s) for s in split(t)] for t in texts]
        if self._ngrams is not None:
            rows = [_ngrams(r, self._ngrams) for r in rows]
        return rows

    # ---- vocabulary -------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Count tokens (and, for tf_idf, documents per token) over the data,
        then keep the most frequent max_tokens (see lookup.py for the order)."""
        from collections import Counter
        from itertools import chain
        counts, docs, n_docs = Counter(), Counter(), 0
        with _no_cyclic_gc():
            for batch in adapt_batches(data, batch_size, steps):
                texts, _ = self._texts(batch)
                rows = self._tokens(texts)
                counts.update(chain.from_iterable(rows))
                if self._output_mode == "tf_idf":
                    docs.update(chain.from_iterable(set(r) for r in rows))
                n_docs += len(rows)
        self._lookup_layer._finalize(counts, docs, n_docs)

    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    def _has_vocabulary(self):
        return self._lookup_layer._has_vocabulary()

    def _restore_vocabulary(self, lines, idf_weights=None):
        self._lookup_layer._restore_vocabulary(lines, idf_weights)

    def _keras3_datasets(self):
        # Keras saves its inner StringLookup twice: as this layer's own state
        # and as the sub-layer "_lookup_layer".
        inner = self._lookup_layer._keras3_datasets()
        return ([("", self.name, data) for _, _, data in inner]
                + [("_lookup_layer", name, data) for _, name, data in inner])

    # ---- calling ------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        lookup = self._lookup_layer
        depth = lookup._depth() if lookup._tokens is not None or lookup.pad_to_max_tokens \
            else None
        return (input_shape[0], depth)

    def _call(self, x, training):
        with _no_cyclic_gc():
            return self._vectorize(x)

    def _vectorize(self, x):
        texts, shape = self._texts(x)
        rows = self._tokens(texts)
        lookup = self._lookup_layer
        if self._output_mode != "int":
            # each text is one document: (batch, depth)
            out = np.zeros((len(rows), lookup._depth()), np.float32)
            for i, row in enumerate(rows):
                if row:
                    enc = lookup._call(np.array(row, dtype=object), False)
                    out[i] = enc
            return out.reshape(shape + (out.shape[-1],)) if len(shape) > 1 else out
        if lookup._tokens is None:
            lookup._lookup(np.zeros(0, dtype=object))    # raises: no vocabulary yet
        length = self._output_sequence_length
        if length is None:
            length = max((len(r) for r in rows), default=0)
        # One dict lookup per kept token, then one scatter into the padded block.
        index = dict(lookup._index)
        index[""] = 0                                   # the mask (padding) token
        oov = lookup._oov_start()
        kept = [r[:length] for r in rows]
        ids = np.fromiter((index.get(t, oov) for r in kept for t in r), np.int64)
        lens = np.fromiter((len(r) for r in kept), np.int64, len(kept))
        out = np.zeros((len(kept), length), np.int64)
        starts = np.cumsum(lens) - lens
        row = np.repeat(np.arange(len(kept)), lens)
        out[row, np.arange(ids.size) - np.repeat(starts, lens)] = ids
        return out.reshape(shape + (length,)) if len(shape) > 1 else out

    def get_config(self):
        config = super().get_config()
        lookup = self._lookup_layer
        config.update({
            "max_tokens": lookup.max_tokens, "standardize": self._standardize,
            "split": self._split, "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False, "ragged": False,
            "vocabulary": None if lookup._tokens is None else lookup.get_vocabulary(),
            "idf_weights": None if lookup._idf is None else lookup._idf.tolist(),
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size() if lookup._tokens is not None else None,
        })
        for key in ("standardize", "split"):
            if callable(config[key]):
                config[key] = _serialize_function(config[key])
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("standardize", "split"):
            if isinstance(config.get(key), dict):
                config[key] = _deserialize_function(config[key], key)
        return cls(**config)


def _serialize_function(fn):
    """Keras's form for a registered function (register_keras_serializable)."""
    name = getattr(fn, "_registered_name", None)    # set by register_keras_serializable
    if name is None:
        raise ValueError(f"TextVectorization: cannot save the callable {fn!r}; decorate it "
                         "with @ckeras.saving.register_keras_serializable() so a loaded "
                         "model can find it.")
    return {"module": None, "class_name": "function", "config": name, "registered_name": name}


def _deserialize_function(entry, key):
    from ckeras import registry
    fn = registry.lookup_custom(entry.get("config"), entry.get("registered_name"))
    if fn is None:
        raise ValueError(f"TextVectorization: unknown `{key}` function {entry.get('config')!r}; "
                         "register it with @ckeras.saving.register_keras_serializable() or "
                         "pass it in custom_objects.")
    return fn
