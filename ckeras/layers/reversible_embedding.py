"""ReversibleEmbedding: an Embedding that can also run backwards, from
vectors to logits over the vocabulary (``layer(h, reverse=True)``), with the
embedding table transposed (``tie_weights=True``) or a separate
``reverse_embeddings`` (output_dim, input_dim) weight; Keras 3's layer.

In a functional graph each call keeps its own ``reverse`` (a node option, see
``layers/layer.py:node_options``), so one layer embeds the tokens and scores
the outputs of the same model."""
import numpy as np

from ckeras.layers.embedding import Embedding
from ckeras.layers.keras_tensor import any_symbolic

_REVERSE_DTYPES = (None, "float32", "float64")


class ReversibleEmbedding(Embedding):
    _forward_options = ("reverse",)

    def __init__(self, input_dim, output_dim, tie_weights=True,
                 embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        if isinstance(reverse_dtype, dict):   # a DTypePolicy config
            reverse_dtype = reverse_dtype.get("config", {}).get("name")
        if reverse_dtype not in _REVERSE_DTYPES:
            raise NotImplementedError(
                f"ReversibleEmbedding {self.name!r}: reverse_dtype={reverse_dtype!r} is not "
                f"supported by ckeras (it computes in float32); use one of {_REVERSE_DTYPES}.")
        if logit_soft_cap is not None and not logit_soft_cap > 0:
            raise ValueError(f"ReversibleEmbedding {self.name!r}: `logit_soft_cap` must be "
                             f"positive or None, got {logit_soft_cap!r}.")
        if self._sparse_grad:
            raise NotImplementedError(f"ReversibleEmbedding {self.name!r}: sparse_grad=True "
                                      "is not supported (the reverse call's gradient is "
                                      "dense).")
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        self.reverse_embeddings = None

    def build(self, input_shape=None):
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                "reverse_embeddings", (self.output_dim, self.input_dim),
                self.embeddings_initializer)
        self.built = True

    # ``layer(x, reverse=True)``: the flag lives only for the duration of the
    # call (Layer.__call__ runs forward / compute_output_shape inside it).
    def __call__(self, inputs, *args, reverse=False, **kwargs):
        if not reverse:
            return super().__call__(inputs, *args, **kwargs)
        self.__dict__["_reverse_call"] = True
        try:
            if any_symbolic(inputs):
                kwargs["reverse"] = True   # kept in the graph node (and saved configs)
            return super().__call__(inputs, *args, **kwargs)
        finally:
            self.__dict__["_reverse_call"] = False

    def _reverse(self, reverse):
        return self.__dict__.get("_reverse_call", False) if reverse is None else bool(reverse)

    def compute_output_shape(self, input_shape, reverse=None):
        if self._reverse(reverse):
            return tuple(input_shape[:-1]) + (self.input_dim,)
        return super().compute_output_shape(input_shape)

    def compute_mask(self, inputs, mask=None, reverse=None):
        # Keras: no mask out of the reverse call; the forward call's mask is the
        # Embedding's (mask_zero).
        return None if self._reverse(reverse) else super().compute_mask(inputs, mask)

    def infer(self, x, mask=None, reverse=None):
        return self.forward(x, False, mask, reverse)[0]

    def forward(self, x, training=False, mask=None, reverse=None):
        if not self._reverse(reverse):
            return super().forward(x, training, mask)
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        if x.ndim < 1 or x.shape[-1] != self.output_dim:
            raise ValueError(f"Layer {self.name!r} (ReversibleEmbedding): reverse=True needs "
                             f"inputs whose last axis is output_dim={self.output_dim}, got "
                             f"shape {x.shape}.")
        kernel = self.embeddings.value.T if self.tie_weights else self.reverse_embeddings.value
        x2 = x.reshape(-1, self.output_dim)
        z = x2 @ kernel
        cap = self.logit_soft_cap
        t = np.tanh(z / cap) if cap is not None else None
        y = (t * cap if cap is not None else z).reshape(x.shape[:-1] + (self.input_dim,))

        def backward(dy, need_dx=True):
            dz = np.asarray(dy).reshape(z.shape)
            if cap is not None:
                dz = dz * (1.0 - t * t)
            if self.trainable:
                dk = x2.T @ dz
                if self.tie_weights:
                    self.embeddings.grad += dk.T
                else:
                    self.reverse_embeddings.grad += dk
            return (dz @ kernel.T).reshape(x.shape) if need_dx else None
        return y, backward

    def get_config(self):
        config = super().get_config()
        config.update({"quantization_config": None, "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                       "logit_soft_cap": self.logit_soft_cap})
        return config
