"""Vocabulary lookups: StringLookup and IntegerLookup (Keras's IndexLookup).

Index layout (Keras's): [mask token (only with a mask_token and
output_mode="int")] [num_oov_indices OOV slots] [vocabulary...]. ``adapt``
orders the vocabulary by count, descending, ties by token descending (Keras
sorts (count, token) ascending and reverses), truncated to max_tokens.
Non-"int" modes encode the indices ("one_hot", "multi_hot", "count",
"tf_idf"; a mask token then counts for nothing). ``invert=True`` maps
indices back to tokens.

The vocabulary (adapted or given) is written into the config (``vocabulary``,
and ``idf_weights`` for tf_idf), so a saved model keeps it; Keras reads such a
config as a fixed vocabulary. Keras itself keeps an adapted vocabulary out of
the config, in the ``.keras`` archive's assets; ``_restore_vocabulary`` takes
it from there. More than one OOV index needs Keras's string
hash (FarmHash) and is not implemented for strings; IntegerLookup spreads OOV
integers over its OOV slots by value modulo num_oov_indices, as Keras.
"""
from collections import Counter

import numpy as np

from ckeras.layers.preprocessing.base import (PreprocessingLayer, adapt_batches,
                                              encode_categorical)

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IndexLookup(PreprocessingLayer):
    """Shared machinery of StringLookup / IntegerLookup."""

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, vocabulary_size=None, oov_method="floormod",
                 salt=None, **kwargs):
        kwargs.pop("has_input_vocabulary", None)
        super().__init__(**kwargs)
        name = type(self).__name__
        if max_tokens is not None and (isinstance(max_tokens, bool) or max_tokens <= 1):
            raise ValueError(f"{name}: `max_tokens` must be > 1 when set, got {max_tokens!r}.")
        if isinstance(num_oov_indices, bool) or num_oov_indices < 0:
            raise ValueError(f"{name}: `num_oov_indices` must be >= 0, got {num_oov_indices!r}.")
        if num_oov_indices > 1 and (self._string_vocab or oov_method != "floormod"):
            raise NotImplementedError(
                f"{name}: num_oov_indices > 1 hashes OOV tokens with Keras's FarmHash, "
                "which ckeras does not implement; use 0 or 1 (IntegerLookup: or the "
                "default oov_method='floormod').")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in _MODES:
            raise ValueError(f"{name}: `output_mode` must be one of {_MODES}, got "
                             f"{output_mode!r}.")
        if invert and output_mode != "int":
            raise ValueError(f"{name}: `invert=True` needs output_mode='int', got "
                             f"{output_mode!r}.")
        if sparse:      # as Keras on JAX or PyTorch: sparse outputs are TensorFlow's
            raise ValueError(f"{name}: `sparse=True` can only be used with Keras's "
                             "TensorFlow backend; ckeras, like Keras on JAX or PyTorch, "
                             "returns dense arrays (drop sparse=True).")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{name}: `pad_to_max_tokens=True` needs `max_tokens`.")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.oov_method, self.salt = oov_method, salt
        self.input_dtype = "string" if self._string_vocab else "int64"
        self.output_dtype = "int64" if output_mode == "int" and not invert else (
            self.input_dtype if invert else "float32")
        self._tokens = None            # the vocabulary without special tokens
        self._index = {}
        self._idf = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"{name}: `idf_weights` needs a `vocabulary`.")

    # ---- vocabulary ---------------------------------------------------------------------
    def _oov_start(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self):
        return self._oov_start() + self.num_oov_indices

    def _special_tokens(self):
        return [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices

    def _token(self, t):
        return t

    def set_vocabulary(self, vocabulary, idf_weights=None):
        name = type(self).__name__
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding="utf-8") as f:
                vocabulary = [line.rstrip("\n") for line in f]
        vocab = [self._token(t) for t in np.asarray(vocabulary, dtype=object).reshape(-1)]
        if not vocab:
            raise ValueError(f"Layer {self.name!r} ({name}): the vocabulary is empty.")
        special = self._special_tokens()
        found_special = vocab[:len(special)] == special and len(special) > 0
        tokens = vocab[len(special):] if found_special else vocab
        repeated = [t for t, c in Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"Layer {self.name!r} ({name}): repeated tokens in the "
                             f"vocabulary: {repeated[:5]}.")
        for t in (self.mask_token, self.oov_token):
            if t is not None and t in tokens and (t == self.mask_token or self.invert):
                raise ValueError(f"Layer {self.name!r} ({name}): the special token {t!r} "
                                 "must not be in the vocabulary.")
        if self.max_tokens is not None and self._token_start() + len(tokens) > self.max_tokens:
            raise ValueError(f"Layer {self.name!r} ({name}): a vocabulary of "
                             f"{self._token_start() + len(tokens)} entries is larger than "
                             f"max_tokens={self.max_tokens}.")
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"Layer {self.name!r} ({name}): output_mode='tf_idf' needs "
                                 "`idf_weights` with the vocabulary.")
            w = np.asarray(idf_weights, np.float32).reshape(-1)
            if w.size != len(vocab):
                raise ValueError(f"Layer {self.name!r} ({name}): {w.size} idf_weights for a "
                                 f"vocabulary of {len(vocab)}.")
            if not found_special:      # special slots weigh the mean idf (Keras)
                w = np.concatenate([np.full(self._token_start(), w.mean(), np.float32), w])
            self._idf = w
        elif idf_weights is not None:
            raise ValueError(f"Layer {self.name!r} ({name}): `idf_weights` is only used with "
                             "output_mode='tf_idf'.")
        self._set_tokens(tokens)

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        start = self._token_start()
        self._index = {t: i + start for i, t in enumerate(self._tokens)}
        self._inverse = np.array(self._special_tokens() + self._tokens, dtype=object)

    def _has_vocabulary(self):
        return self._tokens is not None

    def _restore_vocabulary(self, lines, idf_weights=None):
        """The vocabulary a Keras archive holds as vocabulary.txt (special tokens
        first, one entry per line); see saving/keras_v3.py."""
        if not lines:
            return
        if not self._string_vocab:
            bad = [t for t in lines if not t.strip().lstrip("+-").isdigit()]
            if bad:
                raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): vocabulary "
                                 f"lines must be integers, got {bad[:3]}.")
            lines = [int(t) for t in lines]
        self.set_vocabulary(lines, idf_weights if self.output_mode == "tf_idf" else None)

    def _keras3_datasets(self):
        """[(sub-path, group name, {dataset: array})] that Keras keeps beside the
        variables: tf_idf's weights as "idf_weights", padded to max_tokens with
        pad_to_max_tokens (saving/keras_v3.py writes them)."""
        if self.output_mode != "tf_idf" or self._idf is None:
            return []
        idf = np.pad(self._idf, (0, max(0, self._depth() - self._idf.size)))
        return [("", self.name, {"idf_weights": idf})]

    def get_vocabulary(self, include_special_tokens=True):
        tokens = list(self._tokens or [])
        if not include_special_tokens:
            return tokens
        return self._special_tokens() + tokens

    def vocabulary_size(self):
        return self._token_start() + len(self._tokens or [])

    def adapt(self, data, batch_size=None, steps=None):
        counts, docs, n_docs = Counter(), Counter(), 0
        for batch in adapt_batches(data, batch_size, steps):
            rows = self._adapt_rows(batch)
            for row in rows:
                counts.update(row)
                if self.output_mode == "tf_idf":
                    docs.update(set(row))
            n_docs += len(rows)
        self._finalize(counts, docs, n_docs)

    def _adapt_rows(self, batch):
        a = np.asarray(batch, dtype=object)
        if a.ndim == 0:
            a = a.reshape(1, 1)
        elif a.ndim == 1:
            a = a.reshape(1, -1)      # Keras: a rank-1 batch is one document
        return [[self._token(t) for t in row.reshape(-1)] for row in a]

    def _finalize(self, counts, docs, n_docs):
        for t in (self.mask_token, self.oov_token):
            counts.pop(t, None)
        # count descending, ties token descending (Keras's reversed lexsort)
        tokens = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens is not None:
            tokens = tokens[:self.max_tokens - self._token_start()]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            idf = np.log(1 + n_docs / (1 + np.array([docs[t] for t in tokens], np.float64)))
            idf = idf.astype(np.float32)
            mean = idf.mean() if idf.size else 0.0
            self._idf = np.concatenate([np.full(self._token_start(), mean, np.float32), idf])

    # ---- calling ----------------------------------------------------------------------
    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        depth = self._depth() if self._tokens is not None or self.pad_to_max_tokens else None
        if self.output_mode == "one_hot":
            return (shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape) + (depth,)
        return shape[:-1] + (depth,)

    def _lookup(self, x):
        """Indices of the tokens of x (any shape); masked tokens -> mask index."""
        if self._tokens is None:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) has no vocabulary: "
                             "pass `vocabulary=` or call adapt() first.")
        flat = np.asarray(x, dtype=object).reshape(-1)
        oov = self._oov_start() if self.num_oov_indices else -1
        n_oov = self.num_oov_indices
        mask_id = 0 if self.output_mode == "int" else -1
        index, mask = self._index, self.mask_token
        out = np.empty(flat.size, np.int64)
        missing = []
        for i, t in enumerate(flat):
            t = self._token(t)
            if mask is not None and t == mask:
                out[i] = mask_id
                continue
            j = index.get(t)
            if j is None:
                if oov < 0:
                    missing.append(t)
                j = oov + t % n_oov if n_oov > 1 else oov   # IntegerLookup's floormod
            out[i] = j
        if missing:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): with "
                             "num_oov_indices=0 every input must be in the vocabulary; "
                             f"found {missing[:5]}.")
        return out.reshape(np.shape(x))

    def _call(self, x, training):
        if self.invert:
            return self._invert(x)
        ids = self._lookup(x)
        if self.output_mode == "int":
            return ids
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_categorical(ids, mode, self._depth(), self.name,
                                 skip_negative=self.mask_token is not None)
        if self.output_mode == "tf_idf":
            idf = self._idf
            if out.shape[-1] > idf.size:          # pad_to_max_tokens: zeros beyond
                idf = np.pad(idf, (0, out.shape[-1] - idf.size))
            out = out * idf
        return out

    def _invert(self, x):
        ids = np.asarray(x)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Layer {self.name!r} ({type(self).__name__}) with invert=True "
                            f"expects integer indices, got dtype {ids.dtype}.")
        table = self._inverse
        bad = (ids < 0) | (ids >= table.size)
        out = table[np.where(bad, 0, ids)]
        if bad.any():
            out = np.where(bad, self.oov_token, out)
        if self.mask_token is not None:
            out = np.where(ids == 0, self.mask_token, out)
        return self._invert_output(out)

    def _invert_output(self, out):
        return out

    # ---- config -------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update({
            "invert": self.invert, "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
            "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": False, "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.input_dtype,
            "idf_weights": None if self._idf is None else self._idf.tolist(),
            "vocabulary": None if self._tokens is None else self._json_tokens(),
            "vocabulary_size": None if self._tokens is None else self.vocabulary_size(),
            "oov_method": self.oov_method, "salt": self.salt,
        })
        return config

    def _json_tokens(self):
        return self.get_vocabulary()


class StringLookup(IndexLookup):
    """Strings -> vocabulary indices (default: OOV "[UNK]" at 0, tokens from 1)."""

    _string_vocab = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", **kwargs):
        kwargs.pop("vocabulary_dtype", None)
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens,
                         **kwargs)

    def _token(self, t):
        if isinstance(t, bytes):
            return t.decode(self.encoding)
        return t if isinstance(t, str) else str(t)

    def _invert_output(self, out):
        return out.astype(str)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """Integers -> vocabulary indices (default: OOV -1 at index 0)."""

    _string_vocab = False

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(f"IntegerLookup: `vocabulary_dtype` must be 'int64' or 'int32', "
                             f"got {vocabulary_dtype!r}.")
        super().__init__(max_tokens, num_oov_indices,
                         None if mask_token is None else int(mask_token),
                         None if oov_token is None else int(oov_token), vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens, **kwargs)

    def _token(self, t):
        if isinstance(t, (float, np.floating)) and float(t) != int(t):
            raise ValueError(f"Layer {self.name!r} (IntegerLookup) expects integers, got {t!r}.")
        return int(t)

    def _invert_output(self, out):
        return out.astype(np.int64)

    def _json_tokens(self):
        return [int(t) for t in self.get_vocabulary()]
