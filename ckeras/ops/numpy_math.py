"""Keras 3's elementwise numpy-style ops beyond ``array_ops``: inverse and
hyperbolic trigonometry, ``cbrt``, ``hypot``, ``logaddexp`` ..., each with its
backward beside its forward (the conventions of ``ckeras.ops.array_ops``),
and the piecewise-constant ones (``trunc``, ``signbit``, ``isclose`` ...),
which return arrays and never join the tape.

Integer inputs of the transcendental functions compute in float32, as
Keras's floatx.
"""
import math

import numpy as np

from ckeras.ops.array_ops import (_binary, _float, _piecewise_constant, _split_by_share,
                                   _unary, _v, op)

__all__ = [
    "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "sinh", "cosh",
    "arctan2", "cbrt", "hypot", "logaddexp", "logaddexp2", "exp2", "deg2rad", "rad2deg",
    "sinc", "fabs", "fmax", "fmin", "fmod", "ldexp", "heaviside", "divide_no_nan",
    "erfc", "erfinv", "i0",
    "trunc", "signbit", "isneginf", "isposinf", "isreal", "isclose", "allclose",
    "logical_xor", "nextafter", "real", "imag", "conj", "conjugate", "angle",
]


def _f(np_fn):
    """``np_fn`` on the value in floating point (ints as float32)."""
    return lambda a: np_fn(_float(a))


# ---- trigonometric and hyperbolic ----------------------------------------------------

@op
def arcsin(x):
    return _unary(x, _f(np.arcsin), lambda g, a, y: g / np.sqrt(1 - a * a))


@op
def arccos(x):
    return _unary(x, _f(np.arccos), lambda g, a, y: -g / np.sqrt(1 - a * a))


@op
def arctan(x):
    return _unary(x, _f(np.arctan), lambda g, a, y: g / (1 + a * a))


@op
def arcsinh(x):
    return _unary(x, _f(np.arcsinh), lambda g, a, y: g / np.sqrt(a * a + 1))


@op
def arccosh(x):
    return _unary(x, _f(np.arccosh), lambda g, a, y: g / np.sqrt(a * a - 1))


@op
def arctanh(x):
    return _unary(x, _f(np.arctanh), lambda g, a, y: g / (1 - a * a))


@op
def sinh(x):
    return _unary(x, _f(np.sinh), lambda g, a, y: g * np.cosh(a))


@op
def cosh(x):
    return _unary(x, _f(np.cosh), lambda g, a, y: g * np.sinh(a))


@op
def arctan2(x1, x2):
    """The angle of the point (x2, x1): d/dx1 = x2 / r^2, d/dx2 = -x1 / r^2."""
    def grad(g, a, b, y, n1, n2):
        r2 = a * a + b * b
        return (g * b / r2 if n1 else None, -g * a / r2 if n2 else None)
    return _binary(x1, x2, lambda a, b: np.arctan2(_float(a), _float(b)), grad)


@op
def sinc(x):
    """sin(pi x) / (pi x); the derivative (cos(pi x) - sinc x) / x is 0 at 0."""
    def grad(g, a, y):
        safe = np.where(a == 0, 1, a)
        return g * np.where(a == 0, 0, (np.cos(math.pi * a) - y) / safe)
    return _unary(x, _f(np.sinc), grad)


@op
def deg2rad(x):
    return _unary(x, _f(np.deg2rad), lambda g, a, y: g * (math.pi / 180))


@op
def rad2deg(x):
    return _unary(x, _f(np.rad2deg), lambda g, a, y: g * (180 / math.pi))


# ---- powers, logarithms, magnitudes ---------------------------------------------------

@op
def cbrt(x):
    def grad(g, a, y):
        with np.errstate(divide="ignore"):
            return g / (3 * y * y)   # inf at 0, as sqrt's
    return _unary(x, _f(np.cbrt), grad)


@op
def exp2(x):
    return _unary(x, _f(np.exp2), lambda g, a, y: g * y * math.log(2))


@op
def hypot(x1, x2):
    def grad(g, a, b, y, n1, n2):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (g * a / y if n1 else None, g * b / y if n2 else None)
    return _binary(x1, x2, lambda a, b: np.hypot(_float(a), _float(b)), grad)


@op
def logaddexp(x1, x2):
    """log(e^x1 + e^x2): the gradients are the softmax weights of the pair."""
    def grad(g, a, b, y, n1, n2):
        return (g * np.exp(a - y) if n1 else None, g * np.exp(b - y) if n2 else None)
    return _binary(x1, x2, lambda a, b: np.logaddexp(_float(a), _float(b)), grad)


@op
def logaddexp2(x1, x2):
    def grad(g, a, b, y, n1, n2):
        return (g * np.exp2(a - y) if n1 else None, g * np.exp2(b - y) if n2 else None)
    return _binary(x1, x2, lambda a, b: np.logaddexp2(_float(a), _float(b)), grad)


@op
def fabs(x):
    return _unary(x, _f(np.fabs), lambda g, a, y: g * np.sign(a))


def _fpick_share(a, b, wins):
    """Share of fmax/fmin(a, b)'s gradient to a: 1 where a wins (``wins(a, b)``)
    or b is nan, 0 where a is nan or loses, half at a tie."""
    return np.where(np.isnan(b), 1.0, np.where(np.isnan(a), 0.0, wins(a, b) + 0.5 * (a == b)))


@op
def fmax(x1, x2):
    return _binary(x1, x2, np.fmax,
                   lambda g, a, b, y, n1, n2: _split_by_share(g, _fpick_share(a, b, np.greater),
                                                              n1, n2))


@op
def fmin(x1, x2):
    return _binary(x1, x2, np.fmin,
                   lambda g, a, b, y, n1, n2: _split_by_share(g, _fpick_share(a, b, np.less),
                                                              n1, n2))


@op
def fmod(x1, x2):
    """C's remainder (sign of x1): d/dx1 = 1, d/dx2 = -trunc(x1 / x2)."""
    return _binary(x1, x2, np.fmod,
                   lambda g, a, b, y, n1, n2: (g, -g * np.trunc(a / b) if n2 else None))


@op
def ldexp(x1, x2):
    """x1 * 2**x2 for an integer exponent x2 (no gradient with respect to it)."""
    e = np.asarray(_v(x2))
    if e.dtype.kind not in "iub":
        raise TypeError(f"ops.ldexp: x2 must hold integers, got dtype {e.dtype}.")
    return _binary(x1, x2, lambda a, b: np.ldexp(_float(a), b),
                   lambda g, a, b, y, n1, n2: (g * np.ldexp(1.0, b), None))


@op
def divide_no_nan(x1, x2):
    """x1 / x2, and 0 (value and gradient) wherever x2 is 0."""
    def f(a, b):
        a, b = np.asarray(a), np.asarray(b)
        dt = _F_OR(np.result_type(a, b))   # ints divide in float32 (int64 in float64)
        a, b = a.astype(dt, copy=False), b.astype(dt, copy=False)
        safe = np.where(b == 0, 1, b).astype(dt, copy=False)
        return np.where(b == 0, 0, a / safe).astype(dt, copy=False)

    def grad(g, a, b, y, n1, n2):
        safe = np.where(b == 0, 1, b)
        return (np.where(b == 0, 0, g / safe) if n1 else None,
                np.where(b == 0, 0, -g * y / safe) if n2 else None)
    return _binary(x1, x2, f, grad)


@op
def heaviside(x1, x2):
    """0 below zero, 1 above, x2 at zero: the gradient flows to x2 at zero only."""
    def f(a, b):
        a, b = np.asarray(a), np.asarray(b)
        dt = np.result_type(a, b)
        return np.heaviside(a, b).astype(_F_OR(dt), copy=False)
    return _binary(x1, x2, f, lambda g, a, b, y, n1, n2: (np.zeros_like(g) if n1 else None,
                                                          g * (a == 0) if n2 else None))


def _F_OR(dt):
    """Keras's float result of an op on ints: float32 (float64 for int64)."""
    if dt.kind in "fc":
        return dt
    return np.dtype(np.float64) if dt == np.int64 else np.dtype(np.float32)


def _special(name):
    def f(a):
        a = _float(a)
        import scipy.special
        return getattr(scipy.special, name)(a).astype(a.dtype, copy=False)
    return f


@op
def erfc(x):
    return _unary(x, _special("erfc"), lambda g, a, y: -g * (2 / math.sqrt(math.pi))
                  * np.exp(-a * a))


@op
def erfinv(x):
    """The inverse of erf: d/dx = sqrt(pi)/2 * exp(y^2)."""
    return _unary(x, _special("erfinv"), lambda g, a, y: g * (math.sqrt(math.pi) / 2)
                  * np.exp(y * y))


@op
def i0(x):
    """The modified Bessel function of order 0; its derivative is i1."""
    def grad(g, a, y):
        import scipy.special
        return g * scipy.special.i1(a)
    return _unary(x, lambda a: np.i0(_float(a)), grad)


# ---- piecewise constant (no gradient) ------------------------------------------------

@op
def trunc(x):
    a = np.asarray(_v(x))
    return a.copy() if a.dtype.kind in "iub" else np.trunc(a)


signbit = _piecewise_constant(np.signbit)
isneginf = _piecewise_constant(np.isneginf)
isposinf = _piecewise_constant(np.isposinf)
isreal = _piecewise_constant(np.isreal)
logical_xor = _piecewise_constant(np.logical_xor)


@op
def nextafter(x1, x2):
    """The next float after x1 towards x2 (ints as float32; no gradient)."""
    a, b = np.asarray(_v(x1)), np.asarray(_v(x2))
    dt = _F_OR(np.result_type(a, b))
    return np.nextafter(a.astype(dt, copy=False), b.astype(dt, copy=False))


@op
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return np.isclose(_v(x1), _v(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


@op
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return np.asarray(np.allclose(_v(x1), _v(x2), rtol=rtol, atol=atol, equal_nan=equal_nan))


# ---- complex parts (ckeras computes on real arrays: real parts pass the gradient) ----

def _identity_on_reals(np_fn, x):
    """``np_fn`` of x: the identity on real x (gradient passes), a value on complex x."""
    a = np.asarray(_v(x))
    if a.dtype.kind == "c":
        return np_fn(a)
    return _unary(x, np_fn, lambda g, v, y: g)


@op
def real(x):
    return _identity_on_reals(np.real, x)


@op
def imag(x):
    return np.imag(_v(x))


@op
def conjugate(x):
    return _identity_on_reals(np.conjugate, x)


conj = conjugate


@op
def angle(x):
    """The argument: 0 or pi for real inputs, a piecewise-constant function."""
    a = np.asarray(_v(x))
    return np.angle(a) if a.dtype.kind in "fc" else np.angle(a).astype(np.float32)
