"""compile / fit / evaluate / predict, shared by Sequential and functional models.

A model provides:
  * ``_run_forward(xs, training, fuse, need_backward=True) -> (outputs, backward)``
    where ``xs`` and ``outputs`` are lists of arrays, ``fuse[k]`` asks output k
    for its pre-activation (the loss fuses the activation), and
    ``backward(douts)`` accumulates every weight gradient; with
    ``need_backward=False`` (predict, evaluate) no layer builds a backward and
    ``backward`` is None;
  * ``_fusable_output_layer(k)``: the layer whose output is output k, when it
    may emit logits instead (models/output_fusion.py decides whether it does);
  * ``output_names``, ``input_names``, ``trainable_weights``, ``_ensure_built(xs)``.
"""
import numpy as np
from ckeras._typing import Any, ArrayLike, Callable, Data, Dict, List, Logs, Optional, PathLike, Sequence, Shape, Union  # noqa: F401

from ckeras import losses as losses_mod
from ckeras import metrics as metrics_mod
from ckeras import optimizers as optimizers_mod
from ckeras import config
from ckeras.ops.memory import pooled
from ckeras.utils import arg_checks as _checks
from ckeras.callbacks.base import CallbackList
from ckeras.distribute import context as distribute_context
from ckeras.layers.layer import collect_activity_penalties
from ckeras.callbacks.history import History
from ckeras.callbacks.progbar import Progbar, ProgbarLogger, resolve_verbose
from ckeras.models import output_fusion
from ckeras.models.data import (ArrayData, adapt, check_passes, is_stream, is_text, refuse_text,
                                to_array_list)


def _masked_steps(mask, y, out, sw):
    """Keras's loss on an output with a step mask, as per-step samples.

    Keras weighs each value of the loss (shape (N, T)) by mask * N*T / valid
    (0 where masked; valid = unmasked steps) before the sum-over-batch-size
    mean, so the loss is Σ sw_i m_it l_it / valid; its metrics count the
    unmasked steps only (docs/spec/training_loop.md, "Outputs with a step
    mask"). Every built-in loss reduces over the last axis
    alone, so the steps can be laid out as N*T samples: returns (y, out,
    per-step base scale, metric weights, kept steps, output shape) for that
    layout, or None when the output has no step mask."""
    if mask is None:
        return None
    m = np.asarray(mask, dtype=bool)
    if m.ndim < 2 or out.ndim != m.ndim + 1 or out.shape[:m.ndim] != m.shape:
        return None
    y = np.asarray(y)
    if y.shape[:m.ndim] != m.shape:
        return None
    rows = m.size
    valid = int(m.sum())
    weight = m.astype(np.float32)
    if sw is not None:
        weight = weight * np.asarray(sw, np.float32).reshape((-1,) + (1,) * (m.ndim - 1))
    base = (weight / valid).reshape(rows) if valid else np.zeros(rows, np.float32)
    keep = m.reshape(rows)
    metric_sw = None if sw is None else weight.reshape(rows)[keep]
    return (y.reshape((rows,) + y.shape[m.ndim:]), out.reshape((rows,) + out.shape[m.ndim:]),
            base.astype(np.float32), metric_sw, keep, out.shape)


class _Mean:
    """Sample-count-weighted running mean (Keras's loss tracker)."""

    def __init__(self):
        self.total, self.count = 0.0, 0.0

    def update(self, value, weight):
        self.total += float(value) * weight
        self.count += weight

    def result(self):
        return self.total / self.count if self.count else 0.0


class _OutputSpec:
    """What compile() attached to one model output."""

    def __init__(self, name, loss, weight, metric_ids):
        self.name = name
        self.loss = loss
        self.weight = weight
        self.metric_ids = metric_ids
        self.metrics = None          # resolved on the first batch (needs shapes)
        self.fuse = False            # see models/output_fusion.py
        self.fuse_pending = False    # the loss is resolved from the shapes: plan again


def _per_output(value, names, what, default=None):
    """Spread a compile() argument over outputs: single, list or dict by name."""
    n = len(names)
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"compile(): `{what}` has keys {sorted(unknown)} that are "
                             f"not output names; outputs are {names}.")
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)) and n > 1:
        if len(value) != n:
            raise ValueError(f"compile(): `{what}` has {len(value)} entries but the "
                             f"model has {n} outputs {names}.")
        return list(value)
    return [value] * n


def _scale_gradients(weights, optimizer):
    """Keras's trainer differentiates ``optimizer.scale_loss(loss)``: the
    gradients carry the loss scale, which the optimizer divides out again
    (``loss_scale_factor``, LossScaleOptimizer). Nothing to do without one."""
    scale = float(optimizer.scale_loss(1.0))
    if scale != 1.0:
        for w in weights:
            w.grad *= np.float32(scale)


class TrainingMixin:
    """Adds the Keras training API to a model class."""

    _distribution = None     # an MPIDataParallel when compiled in its scope()

    # ---- compile -----------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto",
                auto_scale_loss: bool = True) -> None:
        self.optimizer = optimizers_mod.get(optimizer)
        names = self.output_names
        loss_list = _per_output(loss, names, "loss")
        weight_list = _per_output(loss_weights, names, "loss_weights", 1.0)
        if metrics is None:
            metric_lists = [[] for _ in names]
        elif isinstance(metrics, dict):
            metric_lists = [_as_list(m) for m in _per_output(metrics, names, "metrics", [])]
        elif len(names) > 1 and isinstance(metrics, (list, tuple)) and metrics and \
                all(isinstance(m, (list, tuple)) or m is None for m in metrics):
            metric_lists = [_as_list(m) for m in _per_output(metrics, names, "metrics")]
        else:
            metric_lists = [_as_list(metrics)] * len(names)
        n_unweighted = [len(m) for m in metric_lists]
        if weighted_metrics:
            metric_lists = [m + _as_list(weighted_metrics) for m in metric_lists]
        self._outputs_spec = []
        for name, l, w, m, k in zip(names, loss_list, weight_list, metric_lists, n_unweighted):
            loss_obj = losses_mod.get(l) if l is not None else None
            self._outputs_spec.append(_OutputSpec(name, loss_obj,
                                                  1.0 if w is None else float(w), list(m)))
            self._outputs_spec[-1].n_unweighted = k
        if all(s.loss is None for s in self._outputs_spec):
            self._outputs_spec = None if loss is None else self._outputs_spec
        self._compile_config = {"optimizer": optimizer, "loss": loss,
                                "loss_weights": loss_weights, "metrics": metrics,
                                "weighted_metrics": weighted_metrics}
        self.compiled = True
        self.stop_training = False
        self._distribution = distribute_context.current()
        self._init_step_metrics()

    def _require_compiled(self, what, need_loss=True):
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"You must call compile() before {what}().")
        if self._outputs_spec is None and need_loss:
            raise ValueError(f"{what}(): the model was compiled without a loss; pass "
                             "loss=... to compile().")

    # ---- one step ------------------------------------------------------------
    def _resolve_metrics(self, ys, outs):
        for spec, y, out in zip(self._outputs_spec, ys, outs):
            if spec.metrics is None:
                spec.metrics = [metrics_mod.get(m, y_true=y, y_pred=out) for m in spec.metric_ids]

    def _plan_fusion(self, ys=None):
        """Which outputs hand their loss the logits (``spec.fuse``); with the coming
        batch's targets ``ys``, shape-resolved losses are resolved first."""
        output_fusion.plan(self, self._outputs_spec, ys)

    def _losses_and_grads(self, ys, outs, sw, training, masks=None):
        """Loss per output (Σ w·l / N), metric updates, and d loss / d outputs
        (only when ``training``: evaluation asks the losses for values alone
        and gets None gradients). An output with a mask over its steps
        (``masks[k]``, shape (N, T) for an (N, T, C) output) has the loss of
        its unmasked steps (see ``_masked_steps``)."""
        n = len(outs[0])
        base = np.full(n, 1.0 / n, np.float32) if sw is None else (sw / n).astype(np.float32)
        total = 0.0
        douts, per_output = [], []
        for k, (spec, y, out) in enumerate(zip(self._outputs_spec, ys, outs)):
            if spec.loss is None:
                douts.append(None)
                per_output.append(0.0)
                continue
            steps = _masked_steps(masks[k] if masks else None, y, out, sw)
            if steps is not None:
                y, out, base_k, metric_sw, keep, shape = steps
            else:
                base_k, metric_sw, keep, shape = base, sw, None, None
            scale = base_k * np.float32(spec.weight) if spec.weight != 1.0 else base_k
            d, y_pred = None, out
            if spec.fuse and training:
                l, d, y_pred = spec.loss.logits_forward_backward(y, out, scale)
            elif spec.fuse:
                l, y_pred = spec.loss.logits_value(y, out)
            elif training:
                l, d = spec.loss.forward_backward(y, out, scale)
            else:
                l = spec.loss.value(y, out)
            value = float(np.dot(l.astype(np.float64), base_k.astype(np.float64)))
            per_output.append(value)
            total += spec.weight * value
            douts.append(d if d is None or shape is None else d.reshape(shape))
            if keep is not None:   # metrics see the unmasked steps only
                y, y_pred = y[keep], y_pred[keep]
            # Keras 3: `metrics` ignore sample/class weights; `weighted_metrics` use them.
            for i, m in enumerate(spec.metrics):
                weighted = i >= getattr(spec, "n_unweighted", 0)
                m.update_state(y, y_pred, sample_weight=metric_sw if weighted else None)
        return total, per_output, douts

    def _regularization(self, apply_grads):
        penalty = 0.0
        for w in self.trainable_weights:
            if w.regularizer is not None:
                penalty += float(w.regularizer(w.value))
                if apply_grads:
                    w.grad += w.regularizer.gradient(w.value)
        return penalty

    def _step(self, xs, ys, sw, training):
        if self._distribution is not None and len(xs[0]) == 0:   # an empty shard
            return self._distribution.empty_step(self, training)
        if any(s.fuse_pending for s in self._outputs_spec):
            self._plan_fusion(ys)   # "crossentropy": resolve before the first forward
        self.__dict__["_output_masks"] = None   # set by the forward of built-in models
        with collect_activity_penalties() as activity:
            outs, backward = self._run_forward(xs, training=training,
                                               fuse=[s.fuse for s in self._outputs_spec],
                                               need_backward=training)
        if self._outputs_spec[0].metrics is None:
            self._resolve_metrics(ys, outs)
        _check_targets(self, ys, outs)
        loss, per_output, douts = self._losses_and_grads(ys, outs, sw, training,
                                                         self.__dict__.get("_output_masks"))
        loss += sum(activity)
        if training:
            weights = self.trainable_weights
            for w in weights:
                w.zero_grad()
            backward(douts)
            loss += self._regularization(apply_grads=True)
            _scale_gradients(weights, self.optimizer)
            if self._distribution is not None:   # the global batch's gradient and loss
                loss, per_output = self._distribution.reduce_gradients(
                    weights, len(xs[0]), loss, per_output)
            self.optimizer.apply(weights)
        else:
            loss += self._regularization(apply_grads=False)
        return loss, per_output

    # ---- logs ------------------------------------------------------------------
    def _reset_trackers(self):
        self._loss_tracker = _Mean()
        self._output_loss_trackers = [_Mean() for _ in self._outputs_spec]
        for spec in self._outputs_spec:
            for m in spec.metrics or []:
                m.reset_state()

    def _logs(self):
        logs = {"loss": self._loss_tracker.result()}
        multi = len(self._outputs_spec) > 1
        for spec, tracker in zip(self._outputs_spec, self._output_loss_trackers):
            if multi and spec.loss is not None:
                logs[f"{spec.name}_loss"] = tracker.result()
            for m in spec.metrics or []:
                logs[f"{spec.name}_{m.name}" if multi else m.name] = float(m.result())
        return {k: logs[k] for k in sorted(logs)}

    def _epoch_logs(self):
        """Logs at the end of an epoch or evaluation: over every process's
        samples when training distributed."""
        if self._distribution is not None:
            self._distribution.end_epoch(self)
        return self._logs()

    def _track(self, loss, per_output, n):
        self._loss_tracker.update(loss, n)
        for tracker, value in zip(self._output_loss_trackers, per_output):
            tracker.update(value, n)

    # ---- data --------------------------------------------------------------------
    def _adapt(self, x, y=None, sample_weight=None, class_weight=None,
               steps=None, shuffle=False):
        class_weight = _checks.check_class_weight(class_weight)
        steps = config.capped_steps(steps)    # keras.config.set_max_steps_per_epoch
        data = adapt(x, y, sample_weight, class_weight,
                     input_names=getattr(self, "input_names", None),
                     output_names=self.output_names, steps=steps)
        ys = getattr(data, "ys", None)
        if isinstance(ys, list) and len(ys) > len(self.output_names):
            raise ValueError(f"y has {len(ys)} target arrays but model {self.name!r} has "
                             f"{len(self.output_names)} output(s) {self.output_names}.")
        self._check_text_inputs(data.first_inputs())
        self._ensure_built(data.first_inputs())
        if class_weight:
            _checks.check_class_weight(class_weight, self._n_classes())
        return data

    def _check_text_inputs(self, xs):
        for i, x in enumerate(xs):
            if is_text(np.asarray(x)) and not self._input_takes_text(i):
                refuse_text("x", np.asarray(x).dtype)

    def _input_takes_text(self, i):
        """Whether input i may be strings. Here (a subclassed model, whose call()
        is opaque): when one of its layers takes strings."""
        return any(getattr(l, "input_dtype", None) == "string" for l in self.layers)

    def _n_classes(self):
        """Classes of the (single) output: its last dimension, 2 if that is 1."""
        outs = getattr(self, "outputs", None)
        shape = getattr(outs[0], "shape", None) if outs else None
        if shape is None and getattr(self, "_output_shapes", None):
            shape = self._output_shapes[-1]
        if not shape or shape[-1] is None:
            return None
        return max(2, int(shape[-1]))

    # ---- fit ---------------------------------------------------------------------
    @pooled
    def fit(self, x: Data = None, y: ArrayLike = None, batch_size: Optional[int] = None,
            epochs: int = 1, verbose: Union[str, int] = "auto",
            callbacks: Optional[Sequence[Any]] = None, validation_split: float = 0.0,
            validation_data: Data = None, shuffle: Union[bool, str] = True,
            class_weight: Optional[Dict[int, float]] = None, sample_weight: ArrayLike = None,
            initial_epoch: int = 0, steps_per_epoch: Optional[int] = None,
            validation_steps: Optional[int] = None,
            validation_batch_size: Optional[int] = None, validation_freq: int = 1) -> Any:
        custom = self._overrides("train_step")
        self._require_compiled("fit", need_loss=not custom)
        epochs = config.capped_epochs(_checks.check_int(epochs, "epochs", 0))
        initial_epoch = _checks.check_int(initial_epoch, "initial_epoch", 0)
        validation_split = _checks.check_fraction(validation_split, "validation_split")
        steps_per_epoch = _checks.check_int(steps_per_epoch, "steps_per_epoch", 1, True)
        validation_steps = _checks.check_int(validation_steps, "validation_steps", 1, True)
        validation_freq = _checks.check_int(validation_freq, "validation_freq", 1)
        callbacks = _checks.check_callbacks(callbacks)
        batch_size = _batch_size(batch_size)
        if y is None and not is_stream(x) and not custom:
            raise ValueError("fit() needs targets: pass y (labels) along with x.")
        data = self._adapt(x, y, sample_weight, class_weight, steps=steps_per_epoch)
        if not data.has_targets and not custom:
            raise ValueError("fit() needs targets: the generator/PyDataset must yield "
                             "(inputs, targets) or (inputs, targets, sample_weights).")
        val = None
        if validation_data is not None:
            val = self._adapt(*_unpack_validation(validation_data), steps=validation_steps)
        elif validation_split:
            if not isinstance(data, ArrayData):
                raise ValueError("Argument `validation_split` is only supported for tensors "
                                 f"or NumPy arrays. Found incompatible type in the input: "
                                 f"{type(x)}. Pass validation_data=... instead.")
            data, val = data.split(validation_split)
            val.steps_limit = config.capped_steps(validation_steps)
        check_passes(data, epochs - initial_epoch, "x", "steps_per_epoch")
        if val is not None:
            check_passes(val, (epochs - initial_epoch) // validation_freq,
                         "validation_data", "validation_steps")
        if self._distribution is not None:   # rank 0's weights; each rank its shards
            if custom:
                raise NotImplementedError(
                    f"fit(): {type(self).__name__} overrides train_step, which "
                    "MPIDataParallel does not distribute yet (it averages the gradients "
                    "of the built-in step). Train it without the strategy's scope.")
            data, val = self._distribution.prepare(self, data, val)
        if self._outputs_spec is not None:
            self._plan_fusion()
        verbose = resolve_verbose(verbose)
        steps = data.steps(batch_size)
        history = History()
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(ProgbarLogger(verbose))
        cbs.append(history)
        params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        cb = CallbackList(cbs, self, params)
        self.stop_training = False
        cb.on_train_begin()
        # BackupAndRestore found a backup: resume after its last epoch.
        initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch
        self._initial_epoch = None
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            if custom:
                self.reset_metrics()
            else:
                self._reset_trackers()
            cb.on_epoch_begin(epoch)
            for step, (xs, ys, sw) in enumerate(data.batches(batch_size, shuffle)):
                cb.on_train_batch_begin(step)
                if custom:   # the model's own train_step (Keras 3 style)
                    epoch_logs = self._custom_step("train_step", xs, ys, sw)
                    cb.on_train_batch_end(step, epoch_logs)
                    if self.stop_training:
                        break
                    continue
                loss, per_output = self._step(xs, ys, sw, training=True)
                self._track(loss, per_output, len(xs[0]))
                cb.on_train_batch_end(step, self._logs())
                if self.stop_training:
                    break
            epoch_logs = dict(epoch_logs) if custom else self._epoch_logs()
            if val is not None and (epoch + 1 - initial_epoch) % validation_freq == 0:
                val_logs = self._evaluate_data(val, validation_batch_size or batch_size, cb)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                epoch_logs = {k: epoch_logs[k] for k in sorted(epoch_logs)}
            cb.on_epoch_end(epoch, epoch_logs)
            if self.stop_training or data.ran_out or (val is not None and val.ran_out):
                break
        cb.on_train_end(epoch_logs)
        self.history = history
        return history

    # ---- evaluate ------------------------------------------------------------------
    def _evaluate_data(self, data, batch_size, cb=None, progbar=None):
        custom = self._overrides("test_step")
        if custom:
            self.reset_metrics()
        elif self._outputs_spec is None:
            raise ValueError("Validation/evaluation needs a loss: the model was compiled "
                             "without one (its train_step computes its own). Override "
                             "test_step too, or pass loss=... to compile().")
        else:
            self._plan_fusion()
            self._reset_trackers()
        if cb is not None:
            cb.on_test_begin()
        seen = 0
        logs = {}
        for step, (xs, ys, sw) in enumerate(data.batches(batch_size)):
            seen = step + 1
            if cb is not None:
                cb.on_test_batch_begin(step)
            if custom:
                logs = self._custom_step("test_step", xs, ys, sw)
            else:
                loss, per_output = self._step(xs, ys, sw, training=False)
                self._track(loss, per_output, len(xs[0]))
                logs = None
            if not custom and (cb is not None or progbar is not None):
                logs = self._logs()
            if cb is not None:
                cb.on_test_batch_end(step, logs)
            if progbar is not None:
                progbar.update(step + 1, logs)
        logs = dict(logs) if custom else self._epoch_logs()
        if progbar is not None:
            progbar.target = progbar.target or seen
            progbar.update(progbar.target, logs, finalize=True)
        if cb is not None:
            cb.on_test_end(logs)
        return logs

    @pooled
    def evaluate(self, x: Data = None, y: ArrayLike = None, batch_size: Optional[int] = None,
                 verbose: Union[str, int] = "auto", sample_weight: ArrayLike = None,
                 steps: Optional[int] = None, callbacks: Optional[Sequence[Any]] = None,
                 return_dict: bool = False) -> Union[float, List[float], Logs]:
        custom = self._overrides("test_step")
        self._require_compiled("evaluate", need_loss=not custom)
        if y is None and not is_stream(x) and not custom:
            raise ValueError("evaluate() needs targets: pass y along with x.")
        steps = _checks.check_int(steps, "steps", 1, True)
        callbacks = _checks.check_callbacks(callbacks)
        batch_size = _batch_size(batch_size)
        data = self._adapt(x, y, sample_weight, steps=steps)
        if not data.has_targets and not custom:
            raise ValueError("evaluate() needs targets: the generator/PyDataset must "
                             "yield (inputs, targets).")
        if self._distribution is not None:
            data, = self._distribution.prepare(self, data)
        verbose = resolve_verbose(verbose)
        bar = Progbar(data.steps(batch_size), verbose=verbose,
                      stateless_metrics=set()) if verbose else None
        cb = CallbackList(callbacks or [], self, {"verbose": verbose, "steps": data.steps(batch_size)})
        logs = self._evaluate_data(data, batch_size, cb, bar)
        if return_dict:
            return logs
        if custom:
            values = list(logs.values())
            return values[0] if len(values) == 1 else values
        ordered = [logs["loss"]]
        multi = len(self._outputs_spec) > 1
        if multi:
            ordered += [logs[f"{s.name}_loss"] for s in self._outputs_spec if s.loss is not None]
        for spec in self._outputs_spec:
            for m in spec.metrics:
                ordered.append(logs[f"{spec.name}_{m.name}" if multi else m.name])
        return ordered[0] if len(ordered) == 1 else ordered

    # ---- predict -------------------------------------------------------------------
    @pooled
    def predict(self, x: Data, batch_size: Optional[int] = None,
                verbose: Union[str, int] = "auto", steps: Optional[int] = None,
                callbacks: Optional[Sequence[Any]] = None) -> Any:
        steps = _checks.check_int(steps, "steps", 1, True)
        callbacks = _checks.check_callbacks(callbacks)
        batch_size = _batch_size(batch_size)
        data = self._adapt(x, steps=steps)
        verbose = resolve_verbose(verbose)
        bar = Progbar(data.steps(batch_size), verbose=verbose,
                      stateless_metrics=set()) if verbose else None
        cb = CallbackList(callbacks or [], self, {"verbose": verbose, "epochs": 1,
                                                  "steps": data.steps(batch_size)})
        cb.on_predict_begin()
        chunks, seen = None, 0
        for step, (bx, _, _) in enumerate(data.batches(batch_size)):
            cb.on_predict_batch_begin(step)
            outs, _ = self._run_forward(bx, training=False, fuse=None, need_backward=False)
            if chunks is None:
                chunks = [[] for _ in outs]
            for c, o in zip(chunks, outs):
                c.append(o)
            seen = step + 1
            cb.on_predict_batch_end(step, {"outputs": self._format_outputs(outs)})
            if bar is not None:
                bar.update(step + 1)
        if bar is not None:
            bar.target = bar.target or seen
            bar.update(bar.target, finalize=True)
        cb.on_predict_end()
        if chunks is None:
            raise ValueError("predict(): the data produced no batch.")
        results = [c[0] if len(c) == 1 else np.concatenate(c) for c in chunks]
        return self._format_outputs(results)

    def _format_outputs(self, results):
        return results[0] if len(results) == 1 else results

    def predict_on_batch(self, x: ArrayLike) -> Any:
        xs = to_array_list(x, "x", getattr(self, "input_names", None))
        self._check_text_inputs(xs)
        self._ensure_built(xs)
        outs, _ = self._run_forward(xs, training=False, fuse=None, need_backward=False)
        return self._format_outputs(outs)

    # ---- tf.keras 2's generator methods (gone in Keras 3; scripts still call them) ----
    # max_queue_size/workers/use_multiprocessing are accepted and have no effect:
    # ckeras reads the generator in the calling thread.
    def fit_generator(self, generator: Any, steps_per_epoch: Optional[int] = None,
                      epochs: int = 1, verbose: Union[str, int] = 1,
                      callbacks: Optional[Sequence[Any]] = None, validation_data: Data = None,
                      validation_steps: Optional[int] = None, validation_freq: int = 1,
                      class_weight: Optional[Dict[int, float]] = None, max_queue_size: int = 10,
                      workers: int = 1, use_multiprocessing: bool = False,
                      shuffle: bool = True, initial_epoch: int = 0) -> Any:
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                        verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, validation_freq=validation_freq,
                        class_weight=class_weight, shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator: Any, steps: Optional[int] = None,
                           callbacks: Optional[Sequence[Any]] = None, max_queue_size: int = 10,
                           workers: int = 1, use_multiprocessing: bool = False,
                           verbose: Union[str, int] = 0) -> Any:
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator: Any, steps: Optional[int] = None,
                          callbacks: Optional[Sequence[Any]] = None, max_queue_size: int = 10,
                          workers: int = 1, use_multiprocessing: bool = False,
                          verbose: Union[str, int] = 0) -> Any:
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def train_on_batch(self, x: ArrayLike, y: ArrayLike = None, sample_weight: ArrayLike = None,
                       class_weight: Optional[Dict[int, float]] = None,
                       return_dict: bool = False) -> Union[float, List[float], Logs]:
        self._require_compiled("train_on_batch")
        data = self._adapt(x, y, sample_weight, class_weight)
        self._plan_fusion()
        self._reset_trackers()
        loss, per_output = self._step(data.xs, data.ys, data.sample_weight, training=True)
        self._track(loss, per_output, data.n)
        return self._single_batch_result(return_dict)

    def test_on_batch(self, x: ArrayLike, y: ArrayLike = None, sample_weight: ArrayLike = None,
                      return_dict: bool = False) -> Union[float, List[float], Logs]:
        self._require_compiled("test_on_batch")
        data = self._adapt(x, y, sample_weight)
        self._plan_fusion()
        self._reset_trackers()
        loss, per_output = self._step(data.xs, data.ys, data.sample_weight, training=False)
        self._track(loss, per_output, data.n)
        return self._single_batch_result(return_dict)

    @property
    def metrics_names(self):
        """Names of what evaluate() returns, in its order: "loss", the
        per-output losses of a multi-output model, then the metrics (as
        tf.keras 2; Keras 3's ['loss', 'compile_metrics'] names no value). A
        model with its own train_step/test_step names its ``metrics``."""
        if self._overrides("train_step") or self._overrides("test_step"):
            return [m.name for m in self.metrics]
        if not getattr(self, "compiled", False) or not self._outputs_spec:
            return []
        multi = len(self._outputs_spec) > 1
        names = ["loss"]
        if multi:
            names += [f"{s.name}_loss" for s in self._outputs_spec if s.loss is not None]
        for spec in self._outputs_spec:
            for m in spec.metrics if spec.metrics is not None else spec.metric_ids:
                name = m if isinstance(m, str) else getattr(m, "name", None) or \
                    getattr(m, "__name__", type(m).__name__)
                names.append(f"{spec.name}_{name}" if multi else name)
        return names

    def _single_batch_result(self, return_dict):
        logs = self._logs()
        if return_dict:
            return logs
        values = [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]
        return values[0] if len(values) == 1 else values


    # ---- Keras 3's overridable steps (ckeras.models.steps) ---------------------------
    def _overrides(self, name):
        return getattr(type(self), name) is not getattr(TrainingMixin, name)

    def _init_step_metrics(self):
        from ckeras.models import steps
        steps.init_step_metrics(self)

    def _custom_step(self, name, xs, ys, sw):
        from ckeras.models import steps
        return steps.run_step(self, name, xs, ys, sw)

    def train_step(self, data):
        from ckeras.models import steps
        return steps.default_step(self, data, training=True)

    def test_step(self, data):
        from ckeras.models import steps
        return steps.default_step(self, data, training=False)


def _as_list(m):
    if m is None:
        return []
    return list(m) if isinstance(m, (list, tuple)) else [m]


def _batch_size(batch_size):
    if batch_size is None:
        return 32  # Keras's default for array inputs
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return int(batch_size)


def _unpack_validation(validation_data):
    if is_stream(validation_data):
        return (validation_data,)
    if isinstance(validation_data, (list, tuple)) and len(validation_data) in (2, 3):
        return tuple(validation_data)
    raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                     "(x_val, y_val, val_sample_weight).")


def _check_targets(model, ys, outs):
    """Catch target/output mismatches before they become numpy errors."""
    for spec, y, out in zip(model._outputs_spec, ys, outs):
        if len(y) != len(out):
            raise ValueError(f"Output {spec.name!r}: {len(y)} targets for {len(out)} predictions.")

