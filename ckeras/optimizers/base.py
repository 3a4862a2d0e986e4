"""Optimizer base class: Keras 3 semantics on numpy arrays updated in place.

One step (``apply``) does, in Keras 3's order:

1. build the slots on first use (``build``);
2. take each variable's ``.grad`` (never modified: clipping works on a scratch
   buffer), divide by ``loss_scale_factor``, then clip (``clipnorm`` per
   variable, ``global_clipnorm`` over all, or ``clipvalue``);
3. decoupled weight decay ``variable -= variable * weight_decay * lr``;
4. the optimizer's own update (``_update_step``), with the learning rate of the
   current iteration (a schedule is called with ``iterations``);
5. the variable's constraint;
6. ``iterations += 1`` — so step ``t`` of a bias correction is
   ``iterations + 1``.

Saved state (``variables()``) follows Keras 3 exactly: ``<name>/iteration``
(int64), ``<name>/learning_rate`` (float32, absent when the rate is a
schedule, as in Keras), then the slots, named
``<name>/<variable path with "/" -> "_">_<slot>``. Slot *groups* reproduce
Keras's creation order: the slots of one group are interleaved per variable
(Adam: kernel_momentum, kernel_velocity, bias_momentum, ...), separate groups
follow each other (RMSprop: every velocity, then every momentum, then every
average_gradient; Adam(amsgrad): the velocity_hat slots after all pairs).
"""
import numbers
import re
import warnings

import numpy as np

from ckeras.optimizers import schedules as _schedules
from ckeras.registry import to_snake_case

_LR_TYPE_MESSAGE = (
    "Argument `learning_rate` should be float, or an instance of "
    "LearningRateSchedule, or a callable (that takes in the current iteration "
    "value and returns the corresponding learning rate value). "
    "Received instead: learning_rate={!r}")


def _variable_slot_prefix(variable):
    path = getattr(variable, "path", None)
    if path:
        return str(path).replace("/", "_")
    return str(getattr(variable, "name", "var")).replace("/", "_").replace(":", "_")


def _all_variables(items):
    items = list(items) if not isinstance(items, list) else items
    return all(hasattr(v, "grad_for_overwrite") for v in items)


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def apply_arguments(optimizer, variables, grads, trainable_variables):
    """``apply``'s arguments as (variables, gradients), as ``Optimizer.apply``
    reads them: ckeras's ``(variables, grads=None)`` (None: each ``.grad``) or
    Keras's ``(grads, trainable_variables)``."""
    if trainable_variables is not None:
        variables, grads = trainable_variables, variables
    elif variables is not None and not _all_variables(variables):
        variables, grads = grads, variables
    if variables is None:
        if not optimizer.built:
            raise ValueError("Pass the trainable variables to the first `apply()` call, or "
                             "call `build()` first.")
        variables = optimizer._trainable
    variables = list(variables)
    grads = [v.grad for v in variables] if grads is None else list(grads)
    if len(grads) != len(variables):
        raise ValueError(f"Got {len(grads)} gradients for {len(variables)} variables.")
    return variables, grads



class Optimizer:
    """Base class. Subclasses define ``_slot_groups``, ``_update_step`` and
    their own ``get_config`` keys (``_own_config``)."""

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        if "lr" in kwargs:
            # tf.keras 2 scripts write lr=; Keras 3 rejects it, ckeras accepts it.
            warnings.warn("The `lr` argument is deprecated, use `learning_rate` instead.",
                          DeprecationWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)
        if decay is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if use_ema:
            raise NotImplementedError(
                "use_ema=True (a moving average of the model weights) is not "
                "supported by ckeras optimizers.")
        if gradient_accumulation_steps:
            if not gradient_accumulation_steps >= 2:
                raise ValueError(
                    "`gradient_accumulation_steps` must be an integer >= 2. "
                    f"Received: gradient_accumulation_steps={gradient_accumulation_steps}")
            raise NotImplementedError(
                "gradient_accumulation_steps is not supported by ckeras "
                "optimizers; use a larger batch size instead.")
        n_clip = sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm))
        if n_clip > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                f"be set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}")
        self.name = name if name is not None else to_snake_case(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.iterations = 0
        self.built = False
        self._schedule = None      # LearningRateSchedule
        self._lr_fn = None         # zero-argument callable
        self._lr_var = None        # 0-d float32 array (saved as <name>/learning_rate)
        self._set_learning_rate(learning_rate)
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._trainable = []
        self._index = {}
        self._slots = {}           # slot name -> list of arrays (per variable index)
        self._slot_vars = []       # [(full name, array)] in Keras order
        self._extras = {}          # scalar optimizer variables (Nadam's u_product)
        self._work = []            # flat float32 scratch buffers

    # ---- learning rate ------------------------------------------------------

    def _set_learning_rate(self, learning_rate):
        if isinstance(learning_rate, _schedules.LearningRateSchedule):
            self._schedule, self._lr_fn, self._lr_var = learning_rate, None, None
        elif _is_number(learning_rate) or (
                isinstance(learning_rate, np.ndarray) and learning_rate.size == 1
                and learning_rate.dtype.kind == "f"):
            if self._schedule is not None:
                raise TypeError(
                    "This optimizer was created with a `LearningRateSchedule` "
                    "object as its `learning_rate` constructor argument, hence "
                    "its learning rate is not settable. If you need the learning "
                    "rate to be settable, you should instantiate the optimizer "
                    "with a float `learning_rate` argument.")
            if self._lr_var is None:
                self._lr_var = np.zeros((), dtype=np.float32)
            self._lr_fn = None
            self._lr_var[...] = np.float32(np.asarray(learning_rate).reshape(()))
        elif callable(learning_rate):
            self._schedule, self._lr_fn, self._lr_var = None, learning_rate, None
        else:
            raise ValueError(_LR_TYPE_MESSAGE.format(learning_rate))

    @property
    def learning_rate(self):
        """The rate the next step uses (a schedule is evaluated at ``iterations``)."""
        if self._schedule is not None:
            value = self._schedule(self.iterations)
        elif self._lr_fn is not None:
            value = self._lr_fn()
        else:
            value = self._lr_var
        return float(np.float32(value))

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_learning_rate(value)

    # ``lr=`` (tf.keras 2) is accepted with a warning; the attribute is an alias.
    @property
    def lr(self):
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        self._set_learning_rate(value)

    # ---- slots --------------------------------------------------------------

    def _slot_groups(self):
        """List of groups; a group is a list of ``(slot name, initial value)``
        created interleaved per variable. Groups follow each other."""
        return []

    def _extra_variables(self):
        """Scalar optimizer variables created after all slots: ``[(name, init)]``."""
        return []

    def build(self, variables):
        """Create the slots for ``variables`` (the trainable variables, in
        order). A second call is a no-op, as in Keras."""
        if self.built:
            return
        variables = list(variables)
        self._trainable = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        n = len(variables)
        self._slots, self._slot_vars, self._extras = {}, [], {}
        for group in self._slot_groups():
            for slot, _ in group:
                self._slots[slot] = [None] * n
            for i, v in enumerate(variables):
                prefix = _variable_slot_prefix(v)
                shape = np.shape(v.value) if hasattr(v, "value") else np.shape(v)
                for slot, init in group:
                    arr = np.zeros(shape, dtype=np.float32)
                    if init:
                        arr.fill(init)
                    self._slots[slot][i] = arr
                    self._slot_vars.append((f"{self.name}/{prefix}_{slot}", arr))
        for extra, init in self._extra_variables():
            arr = np.full((), init, dtype=np.float32)
            self._extras[extra] = arr
            self._slot_vars.append((f"{self.name}/{extra}", arr))
        size = max((int(np.prod(np.shape(v.value))) for v in variables), default=0)
        self._work = [np.empty(size, dtype=np.float32) for _ in range(self._n_work())]
        self.built = True

    def _n_work(self):
        """Scratch buffers needed: one for the processed gradient plus the
        update's temporaries."""
        return 1

    def _scratch(self, k, shape):
        buf = self._work[k]
        size = int(np.prod(shape))
        return buf[:size].reshape(shape)

    # ---- weight decay ---------------------------------------------------------

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exclude variables (objects, or names matched as regex anywhere in
        ``variable.name``) from weight decay. Call before the first step."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be "
                             "configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or [])}
        self._exclude_pattern = (re.compile("|".join(set(var_names)))
                                 if var_names else None)

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None and self._exclude_pattern.search(
                str(getattr(variable, "name", ""))):
            return False
        return True

    # ---- the step -------------------------------------------------------------

    def apply(self, variables=None, grads=None, trainable_variables=None):
        """One step over ``variables`` using their ``.grad`` (or ``grads``).

        ``variables`` defaults to the list the optimizer was built with. The
        gradients are read, never modified or zeroed. Keras 3's order
        ``apply(grads, trainable_variables)`` is accepted too (told apart by
        the first list holding arrays/tensors rather than Variables).
        """
        variables, grads = apply_arguments(self, variables, grads, trainable_variables)
        if not self.built:
            self.build(variables)
        indices = []
        for v in variables:
            i = self._index.get(id(v))
            if i is None:
                raise ValueError(
                    f"Unknown variable: {v!r}. This optimizer can only be called "
                    "for the variables it was originally built with. When working "
                    "with a new set of variables, you should recreate a new "
                    "optimizer instance.")
            indices.append(i)
        todo = [(i, v, g) for i, v, g in zip(indices, variables, grads) if g is not None]
        if not todo:
            raise ValueError("No gradients provided for any variable.")
        todo = [(i, v, g if (isinstance(g, np.ndarray) and g.dtype == np.float32
                             and g.flags.c_contiguous)
                 else np.ascontiguousarray(g, dtype=np.float32)) for i, v, g in todo]

        lr = self.learning_rate
        multipliers = self._grad_multipliers([g for _, _, g in todo])
        wd = self.weight_decay
        self._pre_update(lr)
        for (i, v, g), mult in zip(todo, multipliers):
            g = self._process_grad(g, mult)
            value = v.value
            if wd and self._use_weight_decay(v):
                value *= np.float32(1.0 - float(np.float32(wd)) * lr)
            self._update_step(i, value, g, lr)
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                value[...] = constraint(value)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars):
        """Keras-style ``[(grad, variable), ...]``; returns ``iterations``."""
        pairs = list(grads_and_vars)
        self.apply([v for _, v in pairs], grads=[g for g, _ in pairs])
        return self.iterations

    def _grad_multipliers(self, grads):
        base = 1.0
        if self.loss_scale_factor is not None:
            base = 1.0 / float(self.loss_scale_factor)
        if self.clipnorm and self.clipnorm > 0:
            clip = float(self.clipnorm)
            out = []
            for g in grads:
                norm = self._norm(g) * base
                out.append(base * clip / max(norm, clip) if norm > clip else base)
            return out
        if self.global_clipnorm and self.global_clipnorm > 0:
            clip = float(self.global_clipnorm)
            norm = float(np.sqrt(sum(self._sq_norm(g) for g in grads))) * base
            if not np.isfinite(norm):
                scale = float("nan")
            else:
                scale = clip / max(norm, clip) if norm > clip else 1.0
            return [base * scale] * len(grads)
        return [base] * len(grads)

    @staticmethod
    def _sq_norm(g):
        flat = g.reshape(-1)
        return float(np.dot(flat, flat))

    @classmethod
    def _norm(cls, g):
        return float(np.sqrt(cls._sq_norm(g)))

    def _process_grad(self, g, mult):
        if mult != 1.0:
            out = self._scratch(0, g.shape)
            np.multiply(g, np.float32(mult), out=out)
            g = out
        if self.clipvalue and self.clipvalue > 0:
            out = self._scratch(0, g.shape)
            cv = np.float32(self.clipvalue)
            np.clip(g, -cv, cv, out=out)
            g = out
        return g

    def _pre_update(self, lr):
        """Hook run once per step before the per-variable updates."""

    def _update_step(self, index, value, grad, lr):
        raise NotImplementedError

    def finalize_variable_values(self, var_list):
        """Keras calls this at the end of fit (EMA swap); nothing to do here."""

    def scale_loss(self, loss):
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # ---- saved state ----------------------------------------------------------

    def variables(self):
        """``[(name, ndarray)]`` in Keras 3 order (see module docstring).

        Slot arrays are the live buffers (copy them for a snapshot);
        ``iteration`` is a fresh int64 0-d array.
        """
        out = [(f"{self.name}/iteration", np.array(self.iterations, dtype=np.int64))]
        if self._lr_var is not None:
            out.append((f"{self.name}/learning_rate", self._lr_var))
        out.extend(self._slot_vars)
        return out

    def get_weights(self):
        return [np.array(a, copy=True) for _, a in self.variables()]

    def set_variables(self, values, trainable_variables=None):
        """Restore the state by position (the layout of ``variables()``).

        Needs the slots: call ``build(trainable_variables)`` first, or pass
        ``trainable_variables`` here. Raises ValueError on a count or shape
        mismatch without changing anything.
        """
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "You are calling `set_variables()` on an optimizer that has "
                    "not yet been built. Please call "
                    "`optimizer.build(trainable_variables)` to create the "
                    "optimizer weights before calling `set_variables()`.")
            self.build(trainable_variables)
        current = self.variables()
        values = list(values)
        if len(values) != len(current):
            names = [n for n, _ in current]
            raise ValueError(
                f"Optimizer '{self.name}' has {len(current)} variables {names}, "
                f"but {len(values)} values were provided.")
        arrays = []
        for pos, ((name, cur), val) in enumerate(zip(current, values)):
            arr = np.asarray(val)
            if arr.shape != cur.shape and not (cur.ndim == 0 and arr.size == 1):
                raise ValueError(
                    f"Optimizer variable {name!r} (position {pos}) has shape "
                    f"{cur.shape}, not compatible with the provided value of "
                    f"shape {arr.shape}.")
            arrays.append(arr)
        self.iterations = int(np.asarray(arrays[0]).reshape(()))
        for (name, cur), arr in zip(current[1:], arrays[1:]):
            cur[...] = arr.reshape(cur.shape)

    set_weights = set_variables

    # ---- config ---------------------------------------------------------------

    def _config_learning_rate(self):
        if self._schedule is not None:
            return _schedules.serialize(self._schedule)
        return self.learning_rate

    def _own_config(self):
        return {}

    def get_config(self):
        config = {
            "name": self.name,
            "learning_rate": self._config_learning_rate(),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        config.update(self._own_config())
        return config

    # Keys tf.keras 2 wrote that Keras 3 has no argument for.
    _LEGACY_KEYS = ("is_legacy_optimizer", "jit_compile")

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in cls._LEGACY_KEYS:
            config.pop(key, None)
        if "lr" in config and "learning_rate" not in config:
            config["learning_rate"] = config.pop("lr")   # Keras 1/2 files
        if config.get("decay", None) in (0, 0.0):
            config.pop("decay")
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _schedules.deserialize(
                lr, custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return (f"<{type(self).__name__} name={self.name!r} "
                f"learning_rate={self.learning_rate:g} iterations={self.iterations}>")
