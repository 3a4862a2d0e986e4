"""Keras 3's integer ops (bitwise logic, shifts, gcd/lcm) and signal windows.

All are piecewise constant or take no tensor input, so none joins the tape.
"""
import numpy as np

from ckeras.ops.array_ops import _dtype, _v, op

__all__ = [
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_invert",
    "bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift", "gcd", "lcm",
    "bartlett", "blackman", "hamming", "hanning", "kaiser",
]


def _integers(name, *xs):
    vals = [np.asarray(_v(x)) for x in xs]
    for v in vals:
        if v.dtype.kind not in "iub":
            raise TypeError(f"ops.{name}: inputs must be integers or booleans, got dtype "
                            f"{v.dtype}.")
    return vals


def _integer_op(np_fn, name):
    def apply(*xs):
        return np_fn(*_integers(name, *xs))
    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"numpy.{np_fn.__name__} on integers (no gradient)."
    return op(apply)


bitwise_and = _integer_op(np.bitwise_and, "bitwise_and")
bitwise_or = _integer_op(np.bitwise_or, "bitwise_or")
bitwise_xor = _integer_op(np.bitwise_xor, "bitwise_xor")
bitwise_invert = _integer_op(np.invert, "bitwise_invert")
bitwise_not = _integer_op(np.invert, "bitwise_not")
bitwise_left_shift = _integer_op(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _integer_op(np.right_shift, "bitwise_right_shift")
left_shift = _integer_op(np.left_shift, "left_shift")
right_shift = _integer_op(np.right_shift, "right_shift")
gcd = _integer_op(np.gcd, "gcd")
lcm = _integer_op(np.lcm, "lcm")


# ---- windows (float32, Keras's floatx) ------------------------------------------------

def _length(x, name):
    n = np.asarray(_v(x))
    if n.ndim != 0 or n.dtype.kind not in "iu":
        raise TypeError(f"ops.{name}: x is the window length, an integer scalar; got {n!r}.")
    return int(n)


def _window(np_fn, name):
    def apply(x):
        return np_fn(_length(x, name)).astype(_dtype(None))
    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"numpy.{name}: the window of length x, as float32."
    return op(apply)


bartlett = _window(np.bartlett, "bartlett")
blackman = _window(np.blackman, "blackman")
hamming = _window(np.hamming, "hamming")
hanning = _window(np.hanning, "hanning")


@op
def kaiser(x, beta):
    return np.kaiser(_length(x, "kaiser"), float(np.asarray(_v(beta)))).astype(_dtype(None))
