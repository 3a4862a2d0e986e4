"""Keras-style progress output: the live bar (verbose=1) and the one line per
epoch (verbose=2). Formats follow Keras 3 byte for byte (spec §5)."""
import sys
import time

import numpy as np

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary
from ckeras.utils.io_utils import print_msg

_BOLD, _GREEN, _WHITE, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
_CELL = "\u2501"  # ━
_BAR_WIDTH = 20


def format_time_per_step(seconds, unit="step"):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds):
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def format_value(value, use_abs=True):
    magnitude = abs(value) if use_abs else value
    return f"{value:.4f}" if magnitude > 1e-3 else f"{value:.4e}"


class Progbar:
    """Keras's ``keras.utils.Progbar``: a bar over ``target`` steps (None:
    unknown), ``width`` cells wide.

    ``update(current, values)`` takes ``values`` as ``(name, value)`` pairs
    (or a dict); a value is averaged over the steps it covers unless its name
    is in ``stateful_metrics`` (or, given ``stateless_metrics``, unless it is
    not in it: fit's own bar passes ``stateless_metrics=set()`` because its
    logs are running means already). ``add(n, values)`` advances by ``n``.
    verbose 0 is silent, 1 draws the live bar, 2 prints one line when done.
    Output goes through ``print_msg``, so ``disable_interactive_logging()``
    silences it.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar: pass only one of `stateful_metrics` (the names not "
                             "averaged) or `stateless_metrics` (the names averaged).")
        self.target = target
        self.width = width
        self.verbose = 0 if is_secondary() else verbose   # only rank 0 prints
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = None, set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        self._values = {}          # name -> [sum of value * steps, steps]
        self._values_order = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._width = 0            # visible width of the last line drawn

    def _averaged(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        items = values.items() if isinstance(values, dict) else (values or [])
        for k, v in items:
            if k not in self._values_order:
                self._values_order.append(k)
            if self._averaged(k) and not finalize:
                steps = max(current - self._seen_so_far, 1)
                total = self._values.setdefault(k, [0.0, 0])
                total[0] += v * steps
                total[1] += steps
            else:
                self._values[k] = [v, 1]
        self._seen_so_far = current
        now = time.time()
        per_step = self._step_duration(current, now)
        if self.verbose == 1:
            if finalize or now - self._last_update >= self.interval:
                self._draw(current, per_step, now, finalize)
                self._last_update = now
        elif self.verbose == 2:
            if finalize and self.target:
                parts = [f"{current:>{len(str(self.target))}d}/{self.target}",
                         f"{now - self._start:.0f}s",
                         format_time_per_step(per_step, self.unit_name)]
                parts += [f"{k}: {format_value(self._mean(k), use_abs=False)}"
                          for k in self._values_order]
                print_msg(" - ".join(parts))
            self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _mean(self, name):
        total, count = self._values[name]
        return float(np.mean(total)) / max(1, count)

    def _step_duration(self, current, now):
        """Seconds per step, leaving out the first step (compilation, warm-up)
        once there are more, as Keras does."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_step = (now - self._time_after_first_step) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_step

    def _draw(self, current, per_step, now, finalize):
        target = self.target
        if target:
            digits = len(str(target))
            done = min(self.width, int(self.width * current / target))
            head = f"{_BOLD}{current:>{digits}d}/{target}{_RESET} "
            bar = (f"{_GREEN}{_CELL * done}{_RESET}" if done else "")
            bar += f"{_WHITE}{_CELL * (self.width - done)}{_RESET}"
        else:  # unknown length (a generator without steps): Keras's form
            head, bar = "%7d/Unknown" % current, ""
        if finalize or not target:
            timing = f" {_BOLD}{now - self._start:.0f}s{_RESET} "
        else:
            timing = f" {_BOLD}{format_eta(per_step * (target - current))}{_RESET} "
        line = head + bar + timing + format_time_per_step(per_step, self.unit_name)
        line += "".join(f" - {k}: {format_value(self._mean(k))}" for k in self._values_order)
        visible = _visible_len(line)
        out = "\b" * self._width + "\r" + line + " " * max(0, self._width - visible)
        self._width = visible
        if finalize:
            out += "\n"
        print_msg(out, line_break=False)


def _visible_len(text):
    n, i = 0, 0
    while i < len(text):
        if text[i] == "\x1b":
            i = text.index("m", i) + 1
            continue
        n += 1
        i += 1
    return n


def resolve_verbose(verbose, stream=None):
    """'auto' -> 1 on a terminal, 2 when output goes to a file or pipe.

    (Keras 3 prints the live bar into files too; ckeras keeps logs free of
    carriage returns. An explicit verbose=1 still draws the bar.)
    """
    if verbose == "auto":
        stream = stream or sys.stdout
        isatty = getattr(stream, "isatty", None)
        return 1 if isatty is not None and isatty() else 2
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}.")
    return int(verbose)


class ProgbarLogger(Callback):
    """Prints `Epoch e/E` and the progress of each epoch (added by fit).

    With a data source of unknown length (``params['steps']`` is None) the
    bar counts up as ``N/Unknown`` during the first epoch and knows the total
    from then on, as in Keras.
    """

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = 0 if is_secondary() else verbose   # only rank 0 prints
        self._bar = None
        self._seen = 0
        self._target = None

    def set_params(self, params):
        super().set_params(params)
        self._target = params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print_msg(f"Epoch {epoch + 1}/{self.params.get('epochs')}")
        self._seen = 0
        self._bar = Progbar(self._target, verbose=self.verbose, stateless_metrics=set())

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is not None and self.verbose == 1:
            self._bar.update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            if self._target is None:
                self._target = self._seen
                self._bar.target = self._seen
            self._bar.update(self._bar.target, logs, finalize=True)
        self._bar = None
