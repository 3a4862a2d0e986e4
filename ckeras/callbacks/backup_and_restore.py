"""BackupAndRestore: resume an interrupted ``fit`` from its last backup."""
import json
import os
import shutil

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary


class BackupAndRestore(Callback):
    """Keras 3's fault-tolerance callback.

    At the end of every epoch (``save_freq="epoch"``) or every ``save_freq``
    batches it writes ``backup_dir/latest.weights.h5`` (the weights and the
    optimizer's state) and ``training_metadata.json`` (the epochs completed).
    When ``fit`` starts and a backup exists, the model is restored from it and
    training resumes at the epoch after the last one backed up (an epoch
    interrupted mid-way is run again from its start, as in Keras). With
    ``double_checkpoint`` the previous backup is kept as ``*.bkp`` and used
    when the latest one cannot be read. ``delete_checkpoint`` removes
    ``backup_dir`` once ``fit`` completes; after an exception it stays.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq < 1):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq!r}. Expected either 'epoch' or a "
                             "positive integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_metadata_path = self._metadata_path + ".bkp"
        self._batches_since_save = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    # ---- restoring ------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        try:
            self._restore()
        except (OSError, ValueError):
            # The latest backup is unreadable (interrupted mid-write?): fall
            # back on the previous one when double_checkpoint kept it.
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_metadata_path):
                shutil.copyfile(self._prev_metadata_path, self._metadata_path)
            elif os.path.exists(self._metadata_path):
                os.remove(self._metadata_path)
            self._restore()

    def _restore(self):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             f"before you call `fit()`. Model {self.model.name!r} is unbuilt.")
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path) as f:
                epoch = int(json.load(f)["epoch"])
            self._current_epoch = epoch
            self.model._initial_epoch = epoch     # fit() starts there

    # ---- backing up -----------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        # Batches are numbered from 0 in each epoch.
        self._batches_since_save += batch + 1 if batch <= self._last_batch_seen \
            else batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save()

    def _save(self):
        if is_secondary():            # replicas are identical: rank 0 writes
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path, prev in ((self._weights_path, self._prev_weights_path),
                               (self._metadata_path, self._prev_metadata_path)):
                if os.path.exists(path):
                    shutil.copyfile(path, prev)
        self.model.save_weights(self._weights_path, overwrite=True)
        with open(self._metadata_path, "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir) and not is_secondary():
            shutil.rmtree(self.backup_dir)
