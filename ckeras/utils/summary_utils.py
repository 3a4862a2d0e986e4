"""model.summary(): Keras 3's table, drawn with box characters.

Formatting only: the models build the rows and call render(); it reads a
model-like object (name, weights, optimizer) and imports nothing of models/,
so utils/plot_model.py shares format_shape."""
import textwrap

import numpy as np

_SEQ_WIDTHS = (33, 24, 15)
_FUNC_WIDTHS = (21, 19, 12, 19)
_HEADERS = ("Layer (type)", "Output Shape", "Param #", "Connected to")


def format_shape(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def format_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024.0


def _wrap(text, width):
    lines = []
    for part in text.split("\n"):
        lines += textwrap.wrap(part, width, break_long_words=True,
                               break_on_hyphens=False) or [""]
    return lines


def _row(cells, widths, aligns):
    wrapped = [_wrap(c, w - 2) for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    out = []
    for i in range(height):
        parts = []
        for lines, w, align in zip(wrapped, widths, aligns):
            text = lines[i] if i < len(lines) else ""
            parts.append(" " + (text.rjust(w - 2) if align == "r" else text.ljust(w - 2)) + " ")
        out.append("│" + "│".join(parts) + "│")
    return out


def render(model_name, rows, totals, connected):
    """rows: (name_type, shape_text, params_text[, connected_text]) tuples."""
    widths = _FUNC_WIDTHS if connected else _SEQ_WIDTHS
    aligns = ("l", "l", "r", "l")[:len(widths)]
    lines = [f'Model: "{model_name}"']
    lines.append("┏" + "┳".join("━" * w for w in widths) + "┓")
    header = _row(_HEADERS[:len(widths)], widths, aligns)
    lines += [h.replace("│", "┃") for h in header]
    lines.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    for i, row in enumerate(rows):
        if i:
            lines.append("├" + "┼".join("─" * w for w in widths) + "┤")
        lines += _row(row, widths, aligns)
    lines.append("└" + "┴".join("─" * w for w in widths) + "┘")
    lines += totals
    return "\n".join(lines)


def totals_lines(model):
    trainable = sum(w.value.size for w in model.trainable_weights)
    non_trainable = sum(w.value.size for w in model.non_trainable_weights)
    tb = sum(w.value.nbytes for w in model.trainable_weights)
    nb = sum(w.value.nbytes for w in model.non_trainable_weights)
    opt_count, opt_bytes = 0, 0
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        for _, value in optimizer.variables():
            value = np.asarray(value)
            opt_count += value.size
            opt_bytes += value.nbytes
    lines = [f" Total params: {trainable + non_trainable + opt_count:,} "
             f"({format_bytes(tb + nb + opt_bytes)})",
             f" Trainable params: {trainable:,} ({format_bytes(tb)})",
             f" Non-trainable params: {non_trainable:,} ({format_bytes(nb)})"]
    if opt_count:
        lines.append(f" Optimizer params: {opt_count:,} ({format_bytes(opt_bytes)})")
    return lines


def layer_label(layer):
    return f"{layer.name} ({type(layer).__name__})"
