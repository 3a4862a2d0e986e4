"""MultiOptimizer and OptimizerMap (Keras 3): each variable is stepped by the
optimizer its path maps to.

``OptimizerMap(default_optimizer, {pattern: optimizer})`` picks, for a
variable's ``path``, the optimizer of an exact key, else of the one pattern
that ``re.fullmatch``-es it (two matching patterns are an error), else the
default. ``MultiOptimizer(optimizer_map)`` accepts that map or any callable
``variable -> optimizer``; its inner optimizers are the map's values, then the
default, then any other optimizer the callable returns, in first-seen order.

State, Keras's layout: its own ``iteration`` (advanced once per ``apply``) and
``learning_rate`` (0; the property itself raises, as in Keras), then every
inner optimizer's variables in that order (an inner optimizer no variable
maps to is never built: its iteration and learning rate only).
"""
import re
from collections.abc import MutableMapping

from ckeras import registry
from ckeras.optimizers import wrapper
from ckeras.optimizers.base import Optimizer, apply_arguments
from ckeras.optimizers.loss_scale_optimizer import LossScaleOptimizer


def _check_inner(optimizer, what):
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"{what} must be a Keras Optimizer instance. Received: {optimizer!r}")
    if isinstance(optimizer, LossScaleOptimizer):
        raise ValueError("LossScaleOptimizer cannot be used inside a MultiOptimizer.")
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError("MultiOptimizer cannot be used inside a MultiOptimizer.")


class OptimizerMap(MutableMapping):
    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("default_optimizer must be a Keras Optimizer instance. "
                            f"Received: {default_optimizer!r}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key} (patterns "
                             f"{matching}).")
        return self._optimizer_map[matching[0]] if matching else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap with value "
                             f"{self._optimizer_map[key]}. Please make sure to not use "
                             "duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key!r}")
        _check_inner(optimizer, "optimizer")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        return {"default_optimizer": registry.serialize(self._default_optimizer,
                                                        "keras.optimizers"),
                "optimizer_map": {k: registry.serialize(v, "keras.optimizers")
                                  for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        default = wrapper.inner_from_config(config["default_optimizer"], custom_objects)
        mapping = {k: wrapper.inner_from_config(v, custom_objects)
                   for k, v in (config.get("optimizer_map") or {}).items()}
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if isinstance(optimizer_map, dict) and "class_name" in optimizer_map:
            optimizer_map = OptimizerMap.from_config(optimizer_map.get("config") or {})
        if not callable(optimizer_map):
            raise TypeError("MultiOptimizer: `optimizer_map` must be an OptimizerMap or a "
                            f"callable variable -> optimizer. Received: {optimizer_map!r}")
        self._inner_optimizers = []
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        inner = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for optimizer in inner + ([default] if default is not None else []):
            self._add_inner(optimizer)

    def _add_inner(self, optimizer):
        if not any(optimizer is o for o in self._inner_optimizers):
            optimizer.loss_scale_factor = self.loss_scale_factor
            self._inner_optimizers.append(optimizer)
        return next(i for i, o in enumerate(self._inner_optimizers) if o is optimizer)

    @property
    def optimizers(self):
        return list(self._inner_optimizers)

    @property
    def loss_scale_factor(self):
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for optimizer in self.__dict__.get("_inner_optimizers", []):
            optimizer.loss_scale_factor = value

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access "
                             "the learning rate on the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the "
                             "learning rate on the individual sub-optimizers instead.")

    def build(self, variables):
        if self.built:
            return
        variables = list(variables)
        owner = []
        for v in variables:
            optimizer = self._optimizer_map(v)
            _check_inner(optimizer, f"The optimizer for variable {getattr(v, 'path', v)!r}")
            owner.append(self._add_inner(optimizer))
        for k, optimizer in enumerate(self._inner_optimizers):
            mine = [v for v, o in zip(variables, owner) if o == k]
            if mine:
                optimizer.build(mine)
        self._owner = {id(v): o for v, o in zip(variables, owner)}
        super().build(variables)

    def apply(self, variables=None, grads=None, trainable_variables=None):
        variables, grads = apply_arguments(self, variables, grads, trainable_variables)
        if not variables:
            return
        self.build(variables)
        groups = [([], []) for _ in self._inner_optimizers]
        for v, g in zip(variables, grads):
            k = self._owner.get(id(v))
            if k is None:
                raise ValueError(f"Unknown variable: {v!r}. This optimizer can only be called "
                                 "for the variables it was originally built with.")
            groups[k][0].append(v)
            groups[k][1].append(g)
        for optimizer, (vs, gs) in zip(self._inner_optimizers, groups):
            if vs:
                optimizer.apply(vs, grads=gs)
        self.iterations += 1

    def finalize_variable_values(self, var_list):
        for optimizer in self._inner_optimizers:
            optimizer.finalize_variable_values(var_list)

    def variables(self):
        own = super().variables()
        return own + [pair for o in self._inner_optimizers for pair in o.variables()]

    def set_variables(self, values, trainable_variables=None):
        wrapper.build_for_set_variables(self, trainable_variables)
        values = list(values)
        counts = [len(o.variables()) for o in self._inner_optimizers]
        if len(values) != 2 + sum(counts):
            raise ValueError(f"Optimizer '{self.name}' has {2 + sum(counts)} variables (2 own, "
                             f"{counts} of its inner optimizers), but {len(values)} values were "
                             "provided.")
        start = 2
        for optimizer, n in zip(self._inner_optimizers, counts):
            part = values[start:start + n]
            if optimizer.built:
                optimizer.set_variables(part)
            else:   # never built: its iteration (and learning rate) only
                optimizer.iterations = int(part[0])
                if n > 1 and optimizer._lr_var is not None:
                    optimizer._lr_var[...] = part[1]
            start += n
        self.iterations = int(values[0])

    set_weights = set_variables

    def get_config(self):
        if not hasattr(self._optimizer_map, "get_config"):
            raise ValueError("MultiOptimizer: a callable optimizer_map has no config; use an "
                             "OptimizerMap to save this optimizer.")
        return {"optimizer_map": registry.serialize(self._optimizer_map, "keras.optimizers"),
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        spec = config.pop("optimizer_map")
        if isinstance(spec, dict):
            spec = OptimizerMap.from_config(spec.get("config") or {}, custom_objects)
        return cls(spec, **config)
