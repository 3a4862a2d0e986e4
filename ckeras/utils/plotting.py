"""Learning curves from a History: a PNG with matplotlib, or a CSV without.

    history = model.fit(..., validation_split=0.2)
    history.plot("curves.png")                       # needs matplotlib
    ckeras.utils.plotting.history_to_csv(history, "curves.csv")   # never does
"""
import csv
import math
import os


def _as_dict(history):
    """(epochs, {key: values}) from a History or a plain ``history.history`` dict."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError("plot_history expects a History (what fit() returns) or its "
                        f"`.history` dict, got {type(history).__name__}.")
    longest = max((len(v) for v in logs.values()), default=0)
    epochs = list(getattr(history, "epoch", None) or range(longest))
    return epochs, {k: [float(v) for v in vals] for k, vals in logs.items()}


def metric_families(logs):
    """Base names in plot order: ``loss`` first, then the rest as logged.
    ``val_x`` belongs to family ``x``."""
    names = []
    for key in logs:
        base = key[4:] if key.startswith("val_") else key
        if base not in names:
            names.append(base)
    if "loss" in names:
        names.remove("loss")
        names.insert(0, "loss")
    return names


def _aligned(epochs, values):
    """Epochs for a series that may be shorter than the run (validation_freq
    > 1 validates every k-th epoch, so value j belongs to epoch (j+1)k - 1)."""
    if len(values) == len(epochs) or not values:
        return epochs[:len(values)]
    k = len(epochs) // len(values)
    if k >= 1 and len(values) * k <= len(epochs):
        return [epochs[(j + 1) * k - 1] for j in range(len(values))]
    return epochs[-len(values):]


def _title(name):
    return name.replace("_", " ").capitalize()


def plot_history(history, path=None, show=False):
    """One subplot per metric family (loss first, then each metric), train and
    validation curves over 1-based epochs; saved as PNG to ``path`` and/or
    shown. Returns the matplotlib Figure.

    Needs matplotlib (imported only here); without it raises ImportError --
    use :func:`history_to_csv` instead.
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "plot_history requires matplotlib: `pip install matplotlib`. Without it, "
            "write the curves as CSV with "
            "ckeras.utils.plotting.history_to_csv(history, 'history.csv').") from None
    epochs, logs = _as_dict(history)
    families = metric_families(logs)
    if not families:
        raise ValueError("plot_history: the history is empty (did fit() run any epoch?).")
    if show:
        if not os.environ.get("DISPLAY") and os.name != "nt" and \
                "inline" not in matplotlib.get_backend().lower():
            matplotlib.use("Agg")  # headless: nothing to show on, still saves
        import matplotlib.pyplot as plt
        fig = plt.figure()
    else:
        from matplotlib.figure import Figure   # no pyplot: no GUI backend needed
        fig = Figure()
    ncols = min(len(families), 3)
    nrows = math.ceil(len(families) / ncols)
    fig.set_size_inches(5.0 * ncols, 3.8 * nrows)
    shown = [e + 1 for e in epochs]
    for i, name in enumerate(families):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for key, label, style in ((name, "train", "o-"), ("val_" + name, "validation", "s--")):
            if key in logs:
                values = logs[key]
                ax.plot(_aligned(shown, values), values, style, label=label, markersize=3)
        ax.set_title(_title(name))
        ax.set_xlabel("Epoch")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        if len(shown) <= 20:
            ax.set_xticks(shown)
        ax.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(os.fspath(path), dpi=100, format="png")
    if show:
        plt.show()
    return fig


def history_to_csv(history, path):
    """Write ``epoch,loss,val_loss,<metric>,val_<metric>,...`` (0-based epochs,
    as CSVLogger); a value missing for an epoch is left empty. Needs only the
    standard library."""
    epochs, logs = _as_dict(history)
    columns = []
    for name in metric_families(logs):
        columns += [k for k in (name, "val_" + name) if k in logs]
    rows = {e: {} for e in epochs}
    for key in columns:
        for e, v in zip(_aligned(epochs, logs[key]), logs[key]):
            rows[e][key] = repr(v)
    with open(os.fspath(path), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["epoch"] + columns)
        for e in epochs:
            writer.writerow([e] + [rows[e].get(k, "") for k in columns])
    return path
