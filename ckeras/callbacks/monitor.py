"""Which way a monitored log value should go (shared by EarlyStopping & co)."""

# Built-in metric names whose direction is known even when the metric object
# carries no ``_direction`` (Keras 3 sets one on every built-in metric).
_UP = ("accuracy", "acc", "auc", "precision", "recall", "f1_score", "fbeta_score",
       "r2_score", "true_positives", "true_negatives", "iou", "mean_iou",
       "top_k_categorical_accuracy", "cosine_similarity")
_DOWN = ("loss", "mse", "mae", "mape", "msle", "mean_squared_error",
         "mean_absolute_error", "mean_absolute_percentage_error",
         "mean_squared_logarithmic_error", "root_mean_squared_error",
         "crossentropy", "hinge", "poisson", "kl_divergence", "kld",
         "log_cosh_error", "logcosh", "false_positives", "false_negatives")


def _model_metrics(model):
    """(log name, metric object) for every compiled metric of ``model``."""
    specs = getattr(model, "_outputs_spec", None) or []
    multi = len(specs) > 1
    for spec in specs:
        for m in getattr(spec, "metrics", None) or []:
            name = getattr(m, "name", None)
            yield name, m
            if multi:
                yield f"{spec.name}_{name}", m


def _direction_from_name(name):
    low = name.lower()
    for table, direction in ((_DOWN, "down"), (_UP, "up")):
        if any(low == key or low.endswith("_" + key) for key in table):
            return direction
    if "loss" in low or "error" in low or "crossentropy" in low:
        return "down"
    if "acc" in low or "auc" in low:
        return "up"
    return None


def infer_direction(callback, model, monitor, mode):
    """'min' or 'max' for ``monitor``; Keras's ValueError when mode='auto'
    cannot tell (an unknown custom metric)."""
    if mode in ("min", "max"):
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    direction = "down" if name == "loss" else None
    for log_name, metric in _model_metrics(model):
        if log_name == name:
            d = getattr(metric, "_direction", None)
            direction = d if d in ("up", "down") else _direction_from_name(
                getattr(metric, "name", "") or name)
    if direction is None:
        direction = _direction_from_name(name)
    if direction is None:
        raise ValueError(
            f"{type(callback).__name__} callback received monitor={monitor}, but "
            "Keras isn't able to automatically determine whether that metric "
            "should be maximized or minimized. Pass `mode='max'` in order to "
            "monitor based on the highest metric value, or pass `mode='min'` in "
            "order to use the lowest value.")
    return "max" if direction == "up" else "min"


def check_mode(callback, mode):
    if mode not in ("auto", "min", "max"):
        import warnings
        warnings.warn(f"{type(callback).__name__} mode '{mode}' is unknown, "
                      "fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode
