"""``keras.ops.numpy``: the numpy-style ops under their own namespace (the
same functions ``ckeras.ops`` holds). Names resolve through ``__getattr__``,
so ``sum``/``max``/``abs`` never shadow Python's builtins here either."""
from ckeras.ops import (array_ops, core_ops, numpy_bitwise, numpy_math, numpy_shape,
                        numpy_stats)

# Keras 3's keras.ops.numpy names (its api/ops/numpy/__init__.py)
NAMES = """
abs absolute add all allclose amax amin angle any append arange arccos arccosh arcsin
arcsinh arctan arctan2 arctanh argmax argmin argpartition argsort array array_split average
bartlett bincount bitwise_and bitwise_invert bitwise_left_shift bitwise_not bitwise_or
bitwise_right_shift bitwise_xor blackman broadcast_to cbrt ceil clip concatenate conj
conjugate copy corrcoef correlate cos cosh count_nonzero cross cumprod cumsum deg2rad diag
diagflat diagonal diff digitize divide divide_no_nan dot dsplit dstack einsum empty
empty_like equal exp exp2 expand_dims expm1 eye fabs flip fliplr flipud floor floor_divide
fmax fmin fmod full full_like gcd geomspace get_item greater greater_equal hamming hanning
heaviside histogram hsplit hstack hypot i0 identity imag inner isclose isfinite isin isinf
isnan isneginf isposinf isreal kaiser kron lcm ldexp left_shift less less_equal linspace log
log1p log2 log10 logaddexp logaddexp2 logical_and logical_not logical_or logical_xor logspace
matmul max maximum mean median meshgrid min minimum mod moveaxis multiply nan_to_num
nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin nanpercentile
nanprod nanquantile nanstd nansum nanvar ndim negative nextafter nonzero not_equal ones
ones_like outer pad percentile power prod ptp quantile rad2deg ravel real reciprocal repeat
reshape right_shift roll rot90 round searchsorted select sign signbit sin sinc sinh size
slogdet sort split sqrt square squeeze stack std subtract sum swapaxes take take_along_axis
tan tanh tensordot tile trace transpose trapezoid tri tril triu true_divide trunc unique
unravel_index vander var vdot vectorize view vsplit vstack where zeros zeros_like
""".split()

_MODULES = (array_ops, numpy_math, numpy_stats, numpy_shape, numpy_bitwise, core_ops)
_OPS = {}
for _name in NAMES:
    for _m in _MODULES:
        if _name in _m.__all__:
            _OPS[_name] = getattr(_m, _name)
            break
    else:
        raise ImportError(f"ckeras.ops.numpy: no op implements {_name!r}")
del _name, _m
__all__ = list(NAMES)


def __getattr__(name):
    try:
        return _OPS[name]
    except KeyError:
        raise AttributeError(f"module 'ckeras.ops.numpy' has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(_OPS))
