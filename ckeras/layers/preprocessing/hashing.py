"""Hashing: values -> bins by FarmHash Fingerprint64 (TensorFlow's
``to_hash_bucket_fast``, which Keras's Hashing uses) modulo ``num_bins``.

Fingerprint64 here follows the published FarmHash algorithm (farmhashna
Hash64: separate paths for 0-16, 17-32, 33-64 and longer inputs) in Python
integer arithmetic modulo 2^64. Integers (and floats, truncated) are hashed
as their decimal strings, as ``tf.as_string``. With ``mask_value``, that
value goes to bin 0 and the others to 1 + hash % (num_bins - 1).

A ``salt`` selects keyed hashing instead (TensorFlow's
``to_hash_bucket_strong``): SipHash-2-4 (Aumasson and Bernstein 2012) with the
128-bit key (k0, k1); an integer salt s means the key (s, s), as Keras writes
it in the config.
"""
import numpy as np

from ckeras.layers.preprocessing.base import PreprocessingLayer, encode_categorical

_M = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _u64(b, i):
    return int.from_bytes(b[i:i + 8], "little")


def _u32(b, i):
    return int.from_bytes(b[i:i + 4], "little")


def _rot(v, s):
    return ((v >> s) | (v << (64 - s))) & _M if s else v


def _shift_mix(v):
    return v ^ (v >> 47)


def _rotl(v, s):
    return _rot(v, 64 - s)


def _sip_round(v0, v1, v2, v3):
    v0 = (v0 + v1) & _M
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & _M
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & _M
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & _M
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(k0, k1, data):
    """SipHash-2-4 of bytes ``data`` under the key (k0, k1), as an unsigned
    64-bit int: two compression rounds per 8-byte word, four finalisation."""
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    n = len(data)
    whole = n - n % 8
    # the last word: the remaining bytes, and the length's low byte on top
    words = [_u64(data, i) for i in range(0, whole, 8)]
    words.append(((n & 0xFF) << 56) | int.from_bytes(data[whole:], "little"))
    v0, v1, v2, v3 = v
    for m in words:
        v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3 ^ m))
        v0 ^= m
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def _len16(u, v, mul):
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(s, n):
    if n >= 8:
        mul = _K2 + n * 2
        a = (_u64(s, 0) + _K2) & _M
        b = _u64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _len16((n + (_u32(s, 0) << 3)) & _M, _u32(s, n - 4), mul)
    if n > 0:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _len17to32(s, n):
    mul = _K2 + n * 2
    a = (_u64(s, 0) * _K1) & _M
    b = _u64(s, 8)
    c = (_u64(s, n - 8) * mul) & _M
    d = (_u64(s, n - 16) * _K2) & _M
    return _len16((_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M,
                  (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)


def _len33to64(s, n):
    mul = _K2 + n * 2
    a = (_u64(s, 0) * _K2) & _M
    b = _u64(s, 8)
    c = (_u64(s, n - 8) * mul) & _M
    d = (_u64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _len16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    e = (_u64(s, 16) * mul) & _M
    f = _u64(s, 24)
    g = ((y + _u64(s, n - 32)) * mul) & _M
    h = ((z + _u64(s, n - 24)) * mul) & _M
    return _len16((_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M,
                  (e + _rot((f + a) & _M, 18) + g) & _M, mul)


def _weak32(s, i, a, b):
    """WeakHashLen32WithSeeds on the four words at s[i:i+32]."""
    w, x, y, z = _u64(s, i), _u64(s, i + 8), _u64(s, i + 16), _u64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(data):
    """FarmHash Fingerprint64 of ``data`` (bytes) as a Python int."""
    s, n = bytes(data), len(data)
    if n <= 16:
        return _len0to16(s, n)
    if n <= 32:
        return _len17to32(s, n)
    if n <= 64:
        return _len33to64(s, n)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M
    z = (_shift_mix((y * _K2 + 113) & _M) * _K2) & _M
    v0 = v1 = w0 = w1 = 0
    x = (x * _K2 + _u64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last64 = n - 64
    i = 0
    while True:
        x = (_rot((x + y + v0 + _u64(s, i + 8)) & _M, 37) * _K1) & _M
        y = (_rot((y + v1 + _u64(s, i + 48)) & _M, 42) * _K1) & _M
        x ^= w1
        y = (y + v0 + _u64(s, i + 40)) & _M
        z = (_rot((z + w0) & _M, 33) * _K1) & _M
        v0, v1 = _weak32(s, i, (v1 * _K1) & _M, (x + w0) & _M)
        w0, w1 = _weak32(s, i + 32, (z + w1) & _M, (y + _u64(s, i + 16)) & _M)
        x, z = z, x
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w0 = (w0 + ((n - 1) & 63)) & _M
    v0 = (v0 + w0) & _M
    w0 = (w0 + v0) & _M
    x = (_rot((x + y + v0 + _u64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v1 + _u64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w1 * 9) & _M
    y = (y + v0 * 9 + _u64(s, i + 40)) & _M
    z = (_rot((z + w0) & _M, 33) * mul) & _M
    v0, v1 = _weak32(s, i, (v1 * mul) & _M, (x + w0) & _M)
    w0, w1 = _weak32(s, i + 32, (z + w1) & _M, (y + _u64(s, i + 16)) & _M)
    x, z = z, x
    return _len16((_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z) & _M,
                  (_len16(v1, w1, mul) + x) & _M, mul)


def _as_bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, (float, np.floating)):
        v = int(v)                     # Keras casts floats to int64 first
    return str(int(v)).encode("ascii")


def _check_salt(salt):
    """None, or the SipHash key (k0, k1) from an int or a pair of ints."""
    if salt is None:
        return None
    pair = list(salt) if isinstance(salt, (list, tuple)) else [salt, salt]
    if len(pair) != 2 or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool)
                                 and 0 <= k <= _M for k in pair):
        raise ValueError(f"Hashing: `salt` must be an integer or a pair of integers in "
                         f"[0, 2**64), got {salt!r}.")
    return int(pair[0]), int(pair[1])


class Hashing(PreprocessingLayer):
    """Hash strings or integers into ``num_bins`` bins (Keras 3's Hashing)."""

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) \
                or num_bins < 1:
            raise ValueError(f"Hashing: `num_bins` must be a positive integer, got {num_bins!r}.")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Hashing: unknown `output_mode` {output_mode!r}.")
        salt = _check_salt(salt)
        if sparse:
            raise NotImplementedError("Hashing: sparse=True is not supported.")
        self.num_bins = int(num_bins)
        self.mask_value, self.salt = mask_value, salt
        self.output_mode, self.sparse = output_mode, False
        self.output_dtype = "int64" if output_mode == "int" else "float32"

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return tuple(input_shape)[:-1] + (self.num_bins,)

    def _bins(self, x):
        flat = np.asarray(x, dtype=object).reshape(-1)
        bins = self.num_bins
        mask = self.mask_value is not None and bins > 1
        if mask:
            bins -= 1
        if self.salt is None:
            hash64 = fingerprint64
        else:
            k0, k1 = self.salt
            def hash64(data):
                return siphash24(k0, k1, data)
        out = np.empty(flat.size, np.int64)
        for i, v in enumerate(flat):
            if mask and v == self.mask_value:
                out[i] = 0
            else:
                out[i] = hash64(_as_bytes(v)) % bins + (1 if mask else 0)
        return out.reshape(np.shape(x))

    def _call(self, x, training):
        x = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
        if self.output_mode == "one_hot" and x.ndim and x.shape[-1] == 1:
            x = x.reshape(x.shape[:-1])
        return encode_categorical(self._bins(x), self.output_mode, self.num_bins, self.name)

    def get_config(self):
        config = super().get_config()
        config.update({"num_bins": self.num_bins,
                       "salt": None if self.salt is None else list(self.salt),
                       "mask_value": self.mask_value,
                       "output_mode": self.output_mode, "sparse": False})
        return config
