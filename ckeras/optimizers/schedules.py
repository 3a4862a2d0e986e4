"""Learning-rate schedules (Keras 3 ``keras.optimizers.schedules``).

A schedule is a callable ``schedule(step) -> float`` where ``step`` is the
optimizer's iteration count *before* the update (0 for the first step), which
is what Keras passes. Formulas, argument names, defaults and ``get_config``
keys follow Keras 3.
"""
import math

from ckeras import registry

__all__ = [
    "LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
    "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts",
    "serialize", "deserialize", "get",
]


def _check_positive(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


def _cosine_to_alpha(fraction, alpha, scale=1.0):
    """Half a cosine period over ``fraction`` in [0, 1], from ``scale`` down to 0,
    lifted to end at ``alpha``: ``(1 - alpha) * scale * (1 + cos(pi f)) / 2 + alpha``."""
    cosine = 0.5 * scale * (1.0 + math.cos(math.pi * fraction))
    alpha = float(alpha)
    return (1.0 - alpha) * cosine + alpha


class LearningRateSchedule:
    """Base class. Subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return registry.config_repr(self)


class _RatioDecay(LearningRateSchedule):
    """The decays driven by ``step / decay_steps`` at ``decay_rate``, the ratio
    floored with ``staircase=True`` (ExponentialDecay, InverseTimeDecay)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def _ratio(self, step):
        p = float(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RatioDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with
    ``staircase=True`` the exponent is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate,
                 staircase=False, name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return float(self.initial_learning_rate) * float(self.decay_rate) ** self._ratio(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last
    boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of "
                f"values. Received: boundaries={boundaries} of length "
                f"{len(boundaries)}, and values={values} of length {len(values)}.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values,
                "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step/decay_steps) ** power + end``, the step
    clipped at ``decay_steps``; with ``cycle=True`` ``decay_steps`` grows to the
    first multiple above ``step``."""

    def __init__(self, initial_learning_rate, decay_steps,
                 end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = float(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
            decay_steps *= multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        init, end = float(self.initial_learning_rate), float(self.end_learning_rate)
        return (init - end) * (1.0 - p) ** float(self.power) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_RatioDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with
    ``staircase=True`` the ratio is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate,
                 staircase=False, name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate)
                                                    * self._ratio(step))


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup (Keras 3 semantics).

    Without ``warmup_target``: ``lr = initial * ((1-alpha) * c + alpha)`` with
    ``c = 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))``.
    With ``warmup_target``: for ``step < warmup_steps`` the rate rises linearly
    from ``initial_learning_rate`` to ``warmup_target``; afterwards it decays
    from ``warmup_target`` as above over ``step - warmup_steps``.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0,
                 name="CosineDecay", warmup_target=None, warmup_steps=0):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, step, decay_from):
        return decay_from * _cosine_to_alpha(step / float(self.decay_steps), self.alpha)

    def __call__(self, step):
        step = float(step)
        initial = float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(min(step, float(self.decay_steps)), initial)
        warmup_steps = float(self.warmup_steps)
        target = float(self.warmup_target)
        step = min(step, float(self.decay_steps) + warmup_steps)
        if step < warmup_steps:
            return (target - initial) * (step / warmup_steps) + initial
        return self._decay(step - warmup_steps, target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay restarted every period; period ``i`` lasts
    ``first_decay_steps * t_mul**i`` steps and starts at ``m_mul**i`` times the
    initial rate."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0,
                 m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = float(step) / float(self.first_decay_steps)
        t_mul, m_mul = float(self._t_mul), float(self._m_mul)
        if t_mul == 1.0:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        else:
            i_restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul))
                                   / math.log(t_mul))
            sum_r = (1.0 - t_mul ** i_restart) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_mul ** i_restart
        return float(self.initial_learning_rate) * _cosine_to_alpha(fraction, self.alpha,
                                                                    m_mul ** i_restart)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul,
                "alpha": self.alpha, "name": self.name}


_BUILTINS = {cls.__name__: cls for cls in (
    ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
    InverseTimeDecay, CosineDecay, CosineDecayRestarts)}
_BUILTINS.update({
    "exponential_decay": ExponentialDecay,
    "piecewise_constant_decay": PiecewiseConstantDecay,
    "polynomial_decay": PolynomialDecay,
    "inverse_time_decay": InverseTimeDecay,
    "cosine_decay": CosineDecay,
    "cosine_decay_restarts": CosineDecayRestarts,
})


def serialize(learning_rate_schedule):
    """Keras 3 dict: ``{"module", "class_name", "config", "registered_name"}``."""
    return registry.serialize(learning_rate_schedule, "keras.optimizers.schedules")


def deserialize(config, custom_objects=None):
    """Schedule from a Keras 2 or Keras 3 dict (or a class name with no args)."""
    return registry.deserialize_object(config, _BUILTINS, "learning rate schedule",
                                       custom_objects)


def get(identifier, custom_objects=None):
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    return deserialize(identifier, custom_objects=custom_objects)
