"""Combining the loss trackers and metric states of every process.

Every built-in metric keeps additive state (sums and counts), so the state of
the whole global data is the sum of the processes' states. The states are
gathered and summed in rank order on every rank: all ranks compute the same
sum in the same order, so their logs (and History) are bitwise identical.
"""
import numpy as np

from ckeras import metrics as metrics_mod

# The state attributes of each metric family (summed across processes).
_STATES = (
    (metrics_mod.Mean, ("total", "count")),
    (metrics_mod.Sum, ("total",)),
    (metrics_mod.R2Score, ("_sums", "num_samples")),
    (metrics_mod._ConfusionMatrixConditionCount, ("accumulator",)),
    (metrics_mod._PrecisionRecallBase, ("true_positives", "false_positives",
                                        "false_negatives")),
    (metrics_mod.AUC, ("true_positives", "false_positives", "true_negatives",
                       "false_negatives")),
    (metrics_mod.FBetaScore, ("_state",)),
)


def state_names(metric):
    """Attributes holding ``metric``'s additive state. A custom metric names
    them in a class attribute ``distributed_state = ("total", ...)``."""
    names = getattr(metric, "distributed_state", None)
    if names is not None:
        return tuple(names)
    for cls, names in _STATES:
        if isinstance(metric, cls):
            return names
    raise TypeError(
        f"ckeras.distribute: cannot combine metric {metric.name!r} "
        f"({type(metric).__name__}) across processes: its state is unknown. Give "
        "the class `distributed_state = ('attr', ...)`, the attributes that add "
        "up across processes (sums and counts).")


def _concrete(metric):
    """"accuracy"-style metrics resolve to an inner metric on first use."""
    if isinstance(metric, metrics_mod._ShapeResolvedMetric):
        return metric.resolved
    return metric


def _state(metric):
    m = _concrete(metric)
    return None if m is None else [getattr(m, a) for a in state_names(m)]


def _set_state(metric, values):
    m = _concrete(metric)
    if m is None:
        raise RuntimeError(
            f"ckeras.distribute: metric {metric.name!r} saw no batch on this process "
            "while others did; every process needs data in each epoch.")
    for a, v in zip(state_names(m), values):
        setattr(m, a, v)


def _add(a, b):
    """Sum of two states; None is an empty state (no batch seen yet)."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, list):
        return [_add(x, y) for x, y in zip(a, b)]
    return np.add(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else a + b


def local_state(model):
    """The trackers and metric states of this process, as one picklable list."""
    trackers = [model._loss_tracker] + list(model._output_loss_trackers)
    metrics = [m for spec in model._outputs_spec for m in spec.metrics or []]
    return ([[t.total, t.count] for t in trackers], [_state(m) for m in metrics])


def combine(states):
    """Sum the gathered per-rank states, in rank order."""
    total = states[0]
    for s in states[1:]:
        if len(s[1]) != len(total[1]):
            raise RuntimeError("ckeras.distribute: the processes have different metrics "
                               "(every process needs data in each epoch).")
        total = (_add(total[0], s[0]), [_add(a, b) for a, b in zip(total[1], s[1])])
    return total


def assign_state(model, state):
    trackers = [model._loss_tracker] + list(model._output_loss_trackers)
    metrics = [m for spec in model._outputs_spec for m in spec.metrics or []]
    if len(state[1]) != len(metrics):
        raise RuntimeError("ckeras.distribute: the processes have different metrics.")
    for t, (total, count) in zip(trackers, state[0]):
        t.total, t.count = total, count
    for m, values in zip(metrics, state[1]):
        if values is not None:
            _set_state(m, values)
