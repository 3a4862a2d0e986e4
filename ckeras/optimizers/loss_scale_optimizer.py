"""LossScaleOptimizer — Keras 3's dynamic loss scaling around an inner optimizer.

Keras's trainer differentiates ``optimizer.scale_loss(loss)`` (the loss times
``dynamic_scale``); ``apply`` then

* if every gradient is finite: divides them by ``dynamic_scale``, lets the
  inner optimizer step, and counts the step; after ``dynamic_growth_steps``
  finite steps in a row the scale doubles and the count restarts;
* otherwise: skips the step (the inner optimizer and the weights are left
  alone), halves the scale and restarts the count.

ckeras computes in float32, where a loss scale guards nothing (it exists for
float16 gradients that underflow), so here it has no numeric role: multiplying
by a power of two and dividing by it again is exact unless the product
overflows, and then the step is skipped as in Keras. ckeras's ``fit`` scales the
gradients with ``scale_loss`` just as Keras's does; a custom ``train_step``
that calls ``apply`` itself must do the same (Keras's rule too).

State, Keras's layout: its own ``iteration`` (never advanced: ``iterations``
is the inner optimizer's) and ``learning_rate`` (0), ``step_counter``,
``dynamic_scale``, then the inner optimizer's variables.
"""
import numpy as np

from ckeras import registry
from ckeras.optimizers import wrapper
from ckeras.optimizers.base import Optimizer, apply_arguments

# Base-optimizer arguments Keras once wrote into this optimizer's config: their
# default values are accepted (older files), anything else is an error.
_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, "
                             "simply set `loss_scale_factor` directly on the `inner_optimizer`.")
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set "
                                 f"`{arg}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError("LossScaleOptimizer: `inner_optimizer` must be an Optimizer "
                            f"instance. Received: inner_optimizer={inner_optimizer!r}")
        self.inner_optimizer = inner_optimizer
        super().__init__(learning_rate=0.0, name=name)
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        # the inner optimizer must not unscale a second time
        self.inner_optimizer.loss_scale_factor = None
        self.step_counter = None
        self.dynamic_scale = None

    # ``iterations`` and the learning rate are the inner optimizer's; the base
    # class's own counter (Keras saves it, never advanced) lives in _own_iterations.
    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        self._own_iterations = int(value)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    def build(self, variables):
        if self.built:
            return
        self.step_counter = np.zeros((), np.int32)
        self.dynamic_scale = np.full((), self.initial_scale, np.float32)
        self.inner_optimizer.build(variables)
        super().build(variables)
        self._slot_vars = [(f"{self.name}/step_counter", self.step_counter),
                           (f"{self.name}/dynamic_scale", self.dynamic_scale)]

    def scale_loss(self, loss):
        scale = self.dynamic_scale if self.built else self.initial_scale
        return loss * float(scale)

    def apply(self, variables=None, grads=None, trainable_variables=None):
        variables, grads = apply_arguments(self, variables, grads, trainable_variables)
        self.build(variables)
        present = [np.asarray(g) for g in grads if g is not None]
        if all(np.isfinite(g).all() for g in present):
            scale = np.float32(self.dynamic_scale)
            unscaled = [None if g is None else np.asarray(g, np.float32) / scale for g in grads]
            self.inner_optimizer.apply(variables, grads=unscaled)
            if int(self.step_counter) == self.dynamic_growth_steps - 1:
                self.step_counter[...] = 0
                self.dynamic_scale *= np.float32(2.0)
            else:
                self.step_counter += 1
        else:
            self.step_counter[...] = 0
            self.dynamic_scale *= np.float32(0.5)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def variables(self):
        own = [(f"{self.name}/iteration", np.array(self._own_iterations, np.int64)),
               (f"{self.name}/learning_rate", self._lr_var)] + self._slot_vars
        return own + self.inner_optimizer.variables()

    def set_variables(self, values, trainable_variables=None):
        wrapper.build_for_set_variables(self, trainable_variables)
        values = list(values)
        n_own = 2 + len(self._slot_vars)
        n_inner = len(self.inner_optimizer.variables())
        if len(values) != n_own + n_inner:
            raise ValueError(f"Optimizer '{self.name}' has {n_own + n_inner} variables "
                             f"({n_own} own, {n_inner} of its inner optimizer), but "
                             f"{len(values)} values were provided.")
        for (name, current), value in zip(self._slot_vars, values[2:n_own]):
            if np.size(value) != 1:
                raise ValueError(f"Optimizer variable {name!r} is a scalar; got a value of "
                                 f"shape {np.shape(value)}.")
        self.inner_optimizer.set_variables(values[n_own:])
        self._own_iterations = int(np.asarray(values[0]).reshape(()))
        for (_, current), value in zip(self._slot_vars, values[2:n_own]):
            current[...] = np.asarray(value).reshape(())

    set_weights = set_variables

    def get_config(self):
        return {"name": self.name,
                "inner_optimizer": registry.serialize(self.inner_optimizer, "keras.optimizers"),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = wrapper.inner_from_config(config.pop("inner_optimizer", None), custom_objects)
        return cls(inner, **config)
