"""Keras 3's overridable training steps: ``train_step(data)`` /
``test_step(data)`` written by the user, with ``self.compute_loss``,
``self.compute_metrics``, ``self.metrics`` and ``self.optimizer.apply``.

When a model overrides ``train_step`` (or ``test_step``), ``fit`` (or
``evaluate``) hands it each batch packed as Keras does (``x``; ``(x, y)``;
``(x, y, sample_weight)``) and logs the dict it returns (nested dicts
flattened, values as floats). The user's step computes gradients with
``ckeras.GradientTape``; the built-in step (``TrainingMixin._step``) is used
otherwise.
"""
import numpy as np

from ckeras import metrics as metrics_mod
from ckeras.ops import array_ops as ops
from ckeras.ops.tape import Tensor


class CompileMetrics(metrics_mod.Metric):
    """The metrics given to ``compile()``, as one entry of ``model.metrics``."""

    def __init__(self, model):
        super().__init__(name="compile_metrics")
        self._model = model

    def update_state(self, y_true, y_pred, sample_weight=None):
        model = self._model
        ys, preds = _as_list(y_true), _as_list(y_pred)
        ys = [np.asarray(_value(y)) for y in ys]
        preds = [np.asarray(_value(p)) for p in preds]
        if model._outputs_spec[0].metrics is None:
            model._resolve_metrics(ys, preds)
        sw = None if sample_weight is None else np.asarray(_value(sample_weight))
        for spec, y, p in zip(model._outputs_spec, ys, preds):
            for i, m in enumerate(spec.metrics):
                weighted = i >= getattr(spec, "n_unweighted", 0)
                m.update_state(y, p, sample_weight=sw if weighted else None)

    def result(self):
        model = self._model
        multi = len(model._outputs_spec) > 1
        return {(f"{spec.name}_{m.name}" if multi else m.name): float(m.result())
                for spec in model._outputs_spec for m in (spec.metrics or [])}

    def reset_state(self):
        for spec in self._model._outputs_spec or []:
            for m in spec.metrics or []:
                m.reset_state()


def init_step_metrics(model):
    model._loss_metric = metrics_mod.Mean(name="loss")
    specs = model._outputs_spec or []
    model._compile_metrics = CompileMetrics(model) if any(s.metric_ids for s in specs) else None


def _value(x):
    return x.value if type(x) is Tensor or hasattr(x, "grad_for_overwrite") else x


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _pack(model, xs, ys, sw):
    """Keras's batch structure: x, (x,), (x, y) or (x, y, sample_weight)."""
    as_input = getattr(model, "_as_call_input", None)
    x = as_input(list(xs)) if as_input is not None else (xs[0] if len(xs) == 1 else list(xs))
    y = None
    if ys:
        y = ys[0] if len(ys) == 1 else list(ys)
    if y is None and sw is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sw is None else (x, y, sw)


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) from a batch as ``train_step`` receives it."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be (x,), (x, y) or (x, y, sample_weight); got a "
                     f"tuple of {len(data)} elements.")


def pythonify_logs(logs):
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, dict):
            out.update(pythonify_logs(v))
        else:
            out[k] = float(np.asarray(_value(v)))
    return out


def run_step(model, name, xs, ys, sw):
    logs = getattr(model, name)(_pack(model, xs, ys, sw))
    if not isinstance(logs, dict):
        raise TypeError(f"{type(model).__name__}.{name}() must return a dict of metric "
                        f"values, got {type(logs).__name__}.")
    return pythonify_logs(logs)


def default_step(model, data, training):
    """The built-in step (what ``super().train_step(data)`` runs)."""
    x, y, sw = unpack_x_y_sample_weight(data)
    xs = list(x.values()) if isinstance(x, dict) else _as_list(x)
    xs = [np.asarray(_value(a)) for a in xs]
    ys = [np.asarray(_value(a)) for a in _as_list(y)]
    if not hasattr(model, "_loss_tracker"):
        model._reset_trackers()
    model._plan_fusion()
    loss, per_output = model._step(xs, ys, None if sw is None else np.asarray(sw), training)
    model._track(loss, per_output, len(xs[0]))
    return model._logs()


class StepsMixin:
    """``compute_loss`` / ``compute_metrics`` / ``metrics`` for user steps."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Compiled losses + ``self.losses`` + weight penalties: a tape Tensor
        inside a ``GradientTape`` (differentiable), else a number."""
        terms = []
        specs = getattr(self, "_outputs_spec", None) or []
        if specs and y is not None and y_pred is not None:
            for spec, yk, pk in zip(specs, _as_list(y), _as_list(y_pred)):
                if spec.loss is not None:
                    value = spec.loss(yk, pk, sample_weight)
                    terms.append(value if spec.weight == 1.0 else ops.multiply(value, spec.weight))
        terms += list(self.losses)   # add_loss values and weight penalties
        if not terms:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = terms[0]
        for t in terms[1:]:
            total = ops.add(total, t)
        return total

    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """tf.keras 2's train_step API: ``compute_loss`` (which adds
        ``self.losses`` itself), tracked as the "loss" metric as tf.keras 2 did."""
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        if getattr(self, "_loss_metric", None) is not None:
            self._loss_metric.update_state(np.asarray(_value(loss)))
        return loss

    @property
    def compiled_metrics(self):
        """tf.keras 2's ``self.compiled_metrics.update_state(y, y_pred)``."""
        model = self

        class _Compiled:
            def update_state(self, y, y_pred, sample_weight=None):
                if getattr(model, "_compile_metrics", None) is not None:
                    model._compile_metrics.update_state(y, y_pred, sample_weight)
        return _Compiled()

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if getattr(self, "_compile_metrics", None) is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        out = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[m.name] = result
        return out

    @property
    def metrics(self):
        """Loss tracker, compiled metrics, then Metric objects held in attributes."""
        out = []
        if getattr(self, "compiled", False):
            if getattr(self, "_loss_metric", None) is not None:
                out.append(self._loss_metric)
            if getattr(self, "_compile_metrics", None) is not None:
                out.append(self._compile_metrics)
        for v in self.__dict__.values():
            if isinstance(v, metrics_mod.Metric) and not isinstance(v, CompileMetrics) \
                    and v is not getattr(self, "_loss_metric", None) and v not in out:
                out.append(v)
        return out

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()
