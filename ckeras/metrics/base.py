"""The metric base classes: Metric, Mean, Sum, MeanMetricWrapper (the package
docstring, ``ckeras/metrics/__init__.py``, says what every metric offers)."""

import numpy as np

from ckeras.losses.base import squeeze_or_expand_to_same_rank  # one rule for losses and metrics
from ckeras import registry
from ckeras.registry import to_snake_case as _to_snake_case

EPSILON = 1e-7

# name -> metric function (what MeanMetricWrapper's ``fn`` may name); filled by
# ckeras.metrics from the family modules.
_FUNCTIONS = {}


def _pair(y_true, y_pred):
    """y_pred as a float array (float32 unless already float), y_true cast to it."""
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float32)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    return y_true, y_pred


def _divide_no_nan(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape, dtype=np.float64)
    np.divide(a, b, out=out, where=(b != 0))
    return out


def _scalar_or_array(x):
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


# ---- base classes ------------------------------------------------------------

class Metric:
    """Base class: ``update_state``, ``result``, ``reset_state``, ``name``."""

    def __init__(self, name=None, dtype=None):
        self.name = name if name else _to_snake_case(type(self).__name__)
        if isinstance(dtype, dict):       # Keras 3 DTypePolicy object
            dtype = (dtype.get("config") or {}).get("name")
        self._dtype = np.dtype(dtype).name if dtype is not None else "float32"

    @property
    def dtype(self):
        return self._dtype

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """A state variable (Keras 3): ``update_state`` changes it with
        ``assign``/``assign_add``; the default ``reset_state`` zeroes it."""
        from ckeras import initializers
        from ckeras.variables import Variable
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        variables = self.__dict__.setdefault("_variables", [])
        var = Variable(np.asarray(initializers.get(initializer)(shape)),
                       name=name or f"variable_{len(variables)}", trainable=False,
                       dtype=dtype or self.dtype)
        variables.append(var)
        return var

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None, **kwargs):
        return self.add_variable(shape, initializer, dtype, name=name)

    @property
    def variables(self):
        return list(self.__dict__.get("_variables", []))

    def reset_state(self):
        if not self.__dict__.get("_variables"):
            raise NotImplementedError(f"Metric {self.name!r}: implement reset_state(), or "
                                      "keep the state in add_variable() variables.")
        for v in self._variables:
            v.assign(np.zeros(v.shape, v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _reduce_to_samplewise(values, sample_weight):
    """Keras 3 ``reduce_to_samplewise_values`` with mean reduction."""
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        values, sw = squeeze_or_expand_to_same_rank(values, sw)
        w_nd, v_nd = sw.ndim, values.ndim
        if v_nd > w_nd:
            values = values.mean(axis=tuple(range(w_nd, v_nd)))
        sw = np.broadcast_to(sw, values.shape)
        values = values * sw
        if w_nd > 1:
            sw = sw.mean(axis=tuple(range(1, w_nd)))
        sample_weight = sw
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values, _ = _reduce_to_samplewise(values, sample_weight)
        self.total += float(np.sum(values))

    def result(self):
        return self.total


class Mean(Metric):
    """Weighted mean: ``Σ w·v / Σ w`` (``Σ w`` = sample count when unweighted)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if (sample_weight is not None and isinstance(sample_weight, (int, float))
                and np.ndim(values) == 0):
            self.total += float(values) * sample_weight
            self.count += sample_weight
            return
        values, sample_weight = _reduce_to_samplewise(values, sample_weight)
        self.total += float(np.sum(values))
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight))
        elif values.ndim >= 1:
            self.count += values.shape[0]
        else:
            self.count += 1

    def result(self):
        return self.total / self.count if self.count != 0 else 0.0


def _fn_name(fn):
    for key, value in _FUNCTIONS.items():
        if value is fn:
            return key
    return getattr(fn, "__name__", repr(fn))


class MeanMetricWrapper(Mean):
    """Mean of ``fn(y_true, y_pred, **kwargs)`` (one value per sample)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if isinstance(fn, str):
            fn = _resolve_fn(fn)
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "fn": _fn_name(self._fn)}
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = _resolve_fn(config["fn"])
        return cls(**config)


class FixedFunctionMetric(MeanMetricWrapper):
    """A built-in mean metric whose class fixes its function: the function's
    arguments are attributes too, and the config is Keras 3's (name, dtype, those
    arguments; no ``fn``)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(fn, name=name, dtype=dtype, **kwargs)
        self.__dict__.update(kwargs)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype}
        config.update({key: getattr(self, key) for key in self._fn_kwargs})
        return config


def _resolve_fn(fn):
    if isinstance(fn, dict):          # Keras 3 serialised function
        fn = fn.get("config", fn.get("class_name"))
    if callable(fn):
        return fn
    found = _FUNCTIONS.get(fn)
    if found is None:
        found = registry.lookup_custom(fn)
    if found is None:
        raise ValueError(f"Unknown metric function: {fn!r}. Accepted names: "
                         f"{', '.join(sorted(_FUNCTIONS))}")
    return found
