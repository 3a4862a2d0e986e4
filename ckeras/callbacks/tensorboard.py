"""TensorBoard: scalar logs in TensorBoard's event files, without TensorFlow."""
import os
import time

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary
from ckeras.utils.event_file import EventFileWriter


class TensorBoard(Callback):
    """Keras 3's TensorBoard callback, scalars only.

    Writes ``log_dir/train`` and ``log_dir/validation`` event files with
    Keras's tags: ``epoch_<metric>`` at each epoch end (``val_`` metrics go to
    validation without the prefix; the optimizer's ``learning_rate`` joins
    the train scalars), ``batch_<metric>`` every ``update_freq`` training
    batches when ``update_freq`` is ``"batch"`` or an int, and
    ``evaluation_<metric>_vs_iterations`` after each validation.
    ``write_steps_per_second`` adds ``epoch_steps_per_second`` /
    ``batch_steps_per_second``.

    Not implemented (asking for them raises ValueError): weight histograms
    (``histogram_freq > 0``), ``write_images``, profiling (``profile_batch``)
    and embeddings (``embeddings_freq``, ``embeddings_metadata``).
    ``write_graph=True`` (Keras's default) is accepted but no graph is
    written: ckeras has no TensorFlow graph to export.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        unsupported = {"histogram_freq": histogram_freq, "write_images": write_images,
                       "profile_batch": profile_batch, "embeddings_freq": embeddings_freq,
                       "embeddings_metadata": embeddings_metadata}
        asked = {k: v for k, v in unsupported.items() if v}
        if asked:
            raise ValueError(
                f"TensorBoard: {', '.join(f'{k}={v!r}' for k, v in asked.items())} is not "
                "supported by ckeras, which writes scalar summaries only (no weight "
                "histograms, images, profiles or embeddings).")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (not isinstance(update_freq, int)
                                       or isinstance(update_freq, bool) or update_freq < 1):
            raise ValueError("TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"int, got {update_freq!r}.")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._global_train_batch = 0
        self._epoch_start = self._batch_start = 0.0
        self._epoch_batches = 0

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = EventFileWriter(os.path.join(self.log_dir, name))
        return self._writers[name]

    def _write(self, name, values, step):
        if not is_secondary():      # replicas are identical: rank 0 writes
            self._writer(name).scalars(values, step)

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._epoch_batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        self._epoch_batches += 1
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        values = {f"batch_{k}": v for k, v in (logs or {}).items() if _is_scalar(v)}
        if self.write_steps_per_second:
            values["batch_steps_per_second"] = 1.0 / max(time.time() - self._batch_start,
                                                         1e-9)
        self._write("train", values, self._global_train_batch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations") or not logs:
            return
        self._write("validation", {f"evaluation_{k}_vs_iterations": v for k, v in logs.items()
                                   if _is_scalar(v)}, int(optimizer.iterations))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {f"epoch_{k}": v for k, v in logs.items()
                 if not k.startswith("val_") and _is_scalar(v)}
        val = {f"epoch_{k[4:]}": v for k, v in logs.items()
               if k.startswith("val_") and _is_scalar(v)}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["epoch_learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            train["epoch_steps_per_second"] = self._epoch_batches / max(
                time.time() - self._epoch_start, 1e-9)
        self._write("train", train, epoch)
        self._write("validation", val, epoch)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _is_scalar(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
