"""SpectralNormalization (Miyato et al. 2018): in training, divide the wrapped
layer's kernel by its largest singular value, estimated by power iteration
from the persistent non-trainable ``vector_u`` (Keras 3's weights and
update: the kernel variable itself is overwritten, then the layer runs)."""
import numpy as np

from ckeras import initializers
from ckeras.layers.input_spec import InputSpec
from ckeras.layers.wrapper import Wrapper

_EPSILON = 1e-7   # Keras's ops.normalize floor on the norm


def _normalize(v):
    return v * min(1.0 / np.sqrt(np.sum(v * v)), 1.0 / _EPSILON)


class SpectralNormalization(Wrapper):
    """Wraps a layer with a ``kernel`` (Dense, Conv*) or ``embeddings``."""

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) \
                or power_iterations <= 0:
            raise ValueError(f"SpectralNormalization: `power_iterations` should be greater "
                             f"than zero. Received: `power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if kernel is None:
            raise ValueError(f"Layer {self.name!r} (SpectralNormalization): "
                             f"{type(self.layer).__name__} object has no attribute 'kernel' "
                             "nor 'embeddings'")
        self.kernel = kernel
        self.vector_u = self.add_weight(
            name="vector_u", shape=(1, kernel.shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False)
        self.built = True

    # Keras tracks the wrapped kernel as the wrapper's own variable too: its
    # weights are [kernel, vector_u, the wrapped layer's others], and its files
    # hold the kernel twice (<wrapper>/vars: kernel, vector_u; <wrapper>/layer/vars).
    @property
    def weights(self):
        if not self.built:
            return self.layer.weights
        own = [self.kernel, self.vector_u]
        return own + [w for w in self.layer.weights if w is not self.kernel]

    def _keras3_variable_groups(self):
        inner = self.layer._weights
        inner = [w for w in inner if w.trainable] + [w for w in inner if not w.trainable]
        return [("", [self.kernel, self.vector_u]), ("layer", inner)]

    def normalized_weights(self):
        """(new vector_u, kernel / sigma) from ``power_iterations`` steps."""
        kernel = self.kernel.value
        w = kernel.reshape(-1, kernel.shape[-1])
        u = self.vector_u.value
        for _ in range(self.power_iterations):
            v = _normalize(u @ w.T)
            u = _normalize(v @ w)
        sigma = (v @ w) @ u.T
        return u.astype(self.vector_u.value.dtype), (kernel / sigma).astype(kernel.dtype)

    def forward(self, x, training=False, mask=None):
        if training and np.any(self.kernel.value != 0):
            u, kernel = self.normalized_weights()
            self.vector_u.assign(u)
            self.kernel.assign(kernel)
        return self.layer.forward(x, training, mask)

    def get_config(self):
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
