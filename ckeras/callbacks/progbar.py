"""Keras-style progress output: the live bar (verbose=1) and the one line per
epoch (verbose=2). Formats follow Keras 3 byte for byte (spec §5)."""
import sys
import time

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary

_BOLD, _GREEN, _WHITE, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
_CELL = "\u2501"  # ━
_BAR_WIDTH = 20


def format_time_per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


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
    """A bar over ``target`` steps, written to ``stream``."""

    def __init__(self, target, verbose=1, stream=None, interval=0.05):
        self.target = target
        self.verbose = 0 if is_secondary() else verbose   # only rank 0 prints
        self.stream = stream or sys.stdout
        self.interval = interval
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._width = 0

    def update(self, current, values=None, finalize=False):
        values = values or {}
        now = time.perf_counter()
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        if self.verbose == 2:
            if finalize:
                parts = [f"{current}/{self.target or current}", f"{elapsed:.0f}s",
                         format_time_per_step(per_step)]
                parts += [f"{k}: {format_value(v, use_abs=False)}" for k, v in values.items()]
                self.stream.write(" - ".join(parts) + "\n")
                self.stream.flush()
            return
        if self.verbose != 1:
            return
        if not finalize and now - self._last_update < self.interval:
            return
        self._last_update = now
        target = self.target
        if target:
            width = len(str(target))
            done = min(_BAR_WIDTH, int(_BAR_WIDTH * current / target))
            head = f"{_BOLD}{current:>{width}d}/{target}{_RESET} "
            bar = (f"{_GREEN}{_CELL * done}{_RESET}" if done else "")
            bar += f"{_WHITE}{_CELL * (_BAR_WIDTH - done)}{_RESET}"
        else:  # unknown length (a generator without steps): Keras's form
            head, bar = "%7d/Unknown" % current, ""
        if finalize or not target:
            timing = f" {_BOLD}{elapsed:.0f}s{_RESET} {format_time_per_step(per_step)}"
        else:
            eta = per_step * (target - current) if target else 0
            timing = f" {_BOLD}{format_eta(eta)}{_RESET} {format_time_per_step(per_step)}"
        line = head + bar + timing
        line += "".join(f" - {k}: {format_value(v)}" for k, v in values.items())
        visible = _visible_len(line)
        pad = " " * max(0, self._width - visible)
        out = "\b" * self._width + "\r" + line + pad
        self._width = visible
        if finalize:
            out += "\n"
        self.stream.write(out)
        self.stream.flush()


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
            sys.stdout.write(f"Epoch {epoch + 1}/{self.params.get('epochs')}\n")
            sys.stdout.flush()
        self._seen = 0
        self._bar = Progbar(self._target, verbose=self.verbose)

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
