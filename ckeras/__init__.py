"""ckeras: the Keras API on the CPU, with Cython + OpenMP kernels over BLAS.

    import ckeras as keras
"""
from ckeras._version import __version__  # noqa: E402,F401

from ckeras import activations, initializers, losses, metrics, optimizers  # noqa: E402
from ckeras import callbacks, datasets, layers, models, utils, backend  # noqa: E402
from ckeras.layers import Input, InputSpec, Layer  # noqa: E402
from ckeras.models import Model, Sequential  # noqa: E402
from ckeras.models import load_model  # noqa: E402
from ckeras import distribute  # noqa: E402
from ckeras import preprocessing  # noqa: E402
from ckeras import config, ops, random, saving  # noqa: E402
from ckeras.ops.tape import GradientTape  # noqa: E402
from ckeras._show_config import show_config  # noqa: E402
