"""``ckeras.ops``: the one door to the kernels, and Keras's public ops.

Two floors behind one namespace:

* ``dispatch.py``: the numerical operations layers, losses and optimizers call
  (``dense``, ``conv_forward``, ``sgd_update`` ...), each on its compiled
  kernel or the numpy twin in ``reference.py``; its docstring has the rules.
* ``array_ops.py``, ``nn.py``, ``linalg.py``, and beside them ``numpy_math.py``,
  ``numpy_stats.py``, ``numpy_shape.py``, ``numpy_bitwise.py``, ``core_ops.py``,
  ``signal_ops.py``:
  Keras 3's op names, recorded on the tape (``tape.py``) for automatic
  gradients. ``ckeras.ops.numpy`` is the namespace of the numpy-style ones. They call the dispatch, never
  this package, so nothing below imports ``ckeras.ops`` itself.

``matmul``, ``sigmoid`` and ``softmax`` come from the dispatch and serve both
the kernels' callers and Keras's signature; every other public op name comes
from the modules above. They resolve through this module's ``__getattr__``,
not its globals, so names such as max, sum or all never shadow Python's
builtins here (tests/ops/test_autodiff_ops.py checks it). The dispatch's
switches (``_FORCE_REF`` ...) are read live from it through the same hook:
``use_reference()`` changes them there.

Layers import ``ckeras.ops``, never ``ckeras._kernels``.
"""
from ckeras.ops import dispatch as _dispatch
from ckeras.ops.dispatch import *  # noqa: F401,F403  (its __all__)
from ckeras.ops.dispatch import __all__ as _dispatch_all
from ckeras.ops.dispatch import (  # noqa: F401  (public, outside its __all__)
    KERNEL_MODULES, avg_pool_backward, avg_pool_forward, col2im, conv_backward,
    conv_forward, conv_transpose_backward, conv_transpose_forward, depthwise_backward,
    depthwise_forward, im2col, max_pool_backward, max_pool_forward)
from ckeras.ops import array_ops as _array_ops
from ckeras.ops import image, linalg, nn
from ckeras.ops import (core_ops, numpy_bitwise, numpy_math, numpy_shape, numpy_stats,
                        signal_ops)
from ckeras.ops.tape import GradientTape, Tensor  # noqa: F401
from ckeras.ops import numpy  # noqa: E402,F401  (keras.ops.numpy; after the modules it names)

PUBLIC_OPS = ([n for n in _array_ops.__all__ if n not in ("matmul",)]
              + [n for n in nn.__all__ if n not in ("sigmoid", "softmax")] + linalg.__all__)
_PUBLIC = {n: getattr(linalg, n) if n in linalg.__all__ else getattr(_array_ops, n, None)
           or getattr(nn, n) for n in PUBLIC_OPS}
# the numpy-style and core ops beyond those, one module per concept
MORE_OPS_MODULES = (numpy_math, numpy_stats, numpy_shape, numpy_bitwise, core_ops,
                    signal_ops)
MORE_OPS = [n for m in MORE_OPS_MODULES for n in m.__all__]
_PUBLIC.update({n: getattr(m, n) for m in MORE_OPS_MODULES for n in m.__all__})
__all__ = list(_dispatch_all) + [n for n in PUBLIC_OPS + MORE_OPS if n not in _dispatch_all] \
    + ["nn", "linalg", "image", "numpy"]


def __getattr__(name):
    try:
        return _PUBLIC[name]
    except KeyError:
        pass
    if name.startswith("_") and not name.startswith("__") and hasattr(_dispatch, name):
        return getattr(_dispatch, name)
    raise AttributeError(f"module 'ckeras.ops' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
