"""HashedCrossing: the hash of a tuple of categorical features (ints or
strings) into ``num_bins`` bins, as Keras 3's layer (TensorFlow's
``sparse.cross_hashed``): start from TensorFlow's default key 0xDECAFCAFFE,
fold in each feature with FingerprintCat64 (strings through FarmHash's
Fingerprint64, integers as their 64-bit two's complement), take the result
modulo ``num_bins``."""
import numpy as np

from ckeras.layers.preprocessing.base import PreprocessingLayer, encode_categorical
from ckeras.layers.preprocessing.hashing import fingerprint64

_M = (1 << 64) - 1
_KMUL = 0xC6A4A7935BD1E995
_DEFAULT_HASH_KEY = 0xDECAFCAFFE


def _shift_mix(v):
    return v ^ (v >> 47)


def fingerprint_cat64(fp1, fp2):
    """TensorFlow's FingerprintCat64: combine two 64-bit fingerprints."""
    result = fp1 ^ _KMUL
    result ^= (_shift_mix((fp2 * _KMUL) & _M) * _KMUL) & _M
    result = (result * _KMUL) & _M
    result = (_shift_mix(result) * _KMUL) & _M
    return _shift_mix(result)


def _feature_hash(value):
    if isinstance(value, bytes):
        return fingerprint64(value)
    if isinstance(value, str):
        return fingerprint64(value.encode("utf-8"))
    return int(value) & _M


class HashedCrossing(PreprocessingLayer):
    """Cross two or more features, each of shape (), (batch,) or (batch, 1)."""

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) \
                or num_bins < 1:
            raise ValueError(f"HashedCrossing: `num_bins` must be a positive integer, got "
                             f"{num_bins!r}.")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"HashedCrossing: invalid `output_mode` {output_mode!r}; "
                             "expected one of ('int', 'one_hot').")
        if sparse:
            raise NotImplementedError("HashedCrossing: sparse=True is not supported (Keras "
                                      "too allows it only on the TensorFlow backend).")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False
        self.output_dtype = self.dtype

    def compute_output_shape(self, input_shape):
        if not (isinstance(input_shape, (list, tuple)) and len(input_shape) >= 2
                and all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ValueError(f"Layer {self.name!r} (HashedCrossing): expected as input a "
                             f"list/tuple of at least 2 tensors. Received "
                             f"input_shape={input_shape}")
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if first and first[-1] == 1:
            first = first[:-1]
        return first + (self.num_bins,)

    def __call__(self, inputs, *args, **kwargs):
        from ckeras.layers.keras_tensor import any_symbolic
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if any_symbolic(inputs) or not isinstance(inputs, list):
            return super().__call__(inputs, *args, **kwargs)
        # each feature keeps its own dtype (the base would make one array of them)
        xs = [np.asarray(x, dtype=object) if isinstance(x, (str, bytes)) or (
            isinstance(x, (list, tuple)) and any(isinstance(v, (str, bytes)) for v in x))
            else np.asarray(x) for x in inputs]
        self.built = True
        return self.forward(xs, False)[0]

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer {self.name!r}: `HashedCrossing` should be called on a "
                             f"list or tuple of inputs. Received: inputs={inputs!r}")
        if len(inputs) < 2:
            raise ValueError(f"Layer {self.name!r}: `HashedCrossing` should be called on at "
                             f"least two inputs. Received: {len(inputs)} input(s).")
        xs = [np.asarray(x) for x in inputs]
        shape = xs[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(f"Layer {self.name!r}: all `HashedCrossing` inputs should have "
                             f"shape (), (batch_size) or (batch_size, 1). Received shape "
                             f"{shape}.")
        if any(x.shape != shape for x in xs[1:]):
            raise ValueError(f"Layer {self.name!r}: all `HashedCrossing` inputs should have "
                             f"equal shape. Received shapes {[x.shape for x in xs]}.")
        for x in xs:
            strings = x.dtype.kind in "US" or (x.dtype.kind == "O" and all(
                isinstance(v, (str, bytes)) for v in x.reshape(-1)))
            if x.dtype.kind not in "iu" and not strings:
                raise ValueError(f"Layer {self.name!r}: all `HashedCrossing` inputs should "
                                 f"have an integer or string dtype. Received dtype {x.dtype}.")
        return xs

    def _call(self, inputs, training):
        xs = self._check(inputs)
        shape = xs[0].shape
        flat = [x.reshape(-1) for x in xs]
        out = np.empty(flat[0].size, np.int64)
        for i in range(out.size):
            h = _DEFAULT_HASH_KEY
            for column in flat:
                h = fingerprint_cat64(h, _feature_hash(column[i].item()
                                                       if hasattr(column[i], "item")
                                                       else column[i]))
            out[i] = h % self.num_bins
        out = out.reshape(shape)
        if self.output_mode == "int":
            return out.astype(self.dtype)
        return encode_categorical(out, "one_hot", self.num_bins, self.name,
                                  dtype=np.dtype(self.dtype))

    def get_config(self):
        # Keras writes exactly these keys (no "trainable"), dtype as a string.
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype}
