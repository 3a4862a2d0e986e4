"""Every built-in callback in a real fit(), checked against Keras 3's rules.

Monitored values are scripted: a ``Script`` callback placed first overwrites
``logs[key]`` at each epoch end (callbacks share one logs dict, in order), so
each rule (patience, min_delta, baseline, ...) is exercised exactly.
"""
import math

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.callbacks import (Callback, CSVLogger, EarlyStopping, LambdaCallback,
                              LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN)


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return x, y


def model(lr=0.1, metrics=None):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    m.compile(keras.optimizers.SGD(learning_rate=lr), "sparse_categorical_crossentropy",
              metrics=metrics)
    return m


class Script(Callback):
    """Overwrite logs[key] with values[epoch]; snapshot the weights each epoch."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values, self.snapshots = key, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.snapshots.append(self.model.get_weights())


def run(callback, values, epochs=None, key="val_loss", validation=True, **fit_kwargs):
    x, y = data()
    m = model()
    script = Script(key, values)
    kwargs = dict(validation_data=(x, y)) if validation else {}
    kwargs.update(fit_kwargs)
    h = m.fit(x, y, epochs=epochs or len(values), batch_size=16, verbose=0,
              callbacks=[script, callback], **kwargs)
    return m, h, script


# ---- EarlyStopping -------------------------------------------------------------

@pytest.mark.parametrize("patience, values, n_epochs", [
    (0, [1.0, 0.9, 0.95, 0.8, 0.7], 3),
    (2, [1.0, 0.9, 0.95, 0.96, 0.97, 0.5], 4),
    (2, [1.0, 0.9, 0.95, 0.85, 0.97, 0.98, 0.99], 6),   # an improvement resets wait
])
def test_early_stopping_patience(patience, values, n_epochs):
    es = EarlyStopping(patience=patience)
    _, h, _ = run(es, values)
    assert len(h.epoch) == n_epochs
    assert es.stopped_epoch == n_epochs - 1
    assert es.best == min(values[:n_epochs])


def test_early_stopping_min_delta():
    values = [1.0, 0.95, 0.92, 0.91, 0.5]
    _, h, _ = run(EarlyStopping(patience=2), values)
    assert len(h.epoch) == 5                       # every step is an improvement
    es = EarlyStopping(patience=2, min_delta=-0.1)  # sign ignored (abs)
    _, h, _ = run(es, values)
    assert len(h.epoch) == 3 and es.best == 1.0    # 0.05/0.08 are below min_delta


def test_early_stopping_modes():
    rising = [0.1, 0.2, 0.3, 0.4]
    _, h, _ = run(EarlyStopping(monitor="val_accuracy", patience=0), rising,
                  key="val_accuracy")               # auto: accuracy is maximised
    assert len(h.epoch) == 4
    _, h, _ = run(EarlyStopping(monitor="val_accuracy", patience=0, mode="min"), rising,
                  key="val_accuracy")
    assert len(h.epoch) == 2
    _, h, _ = run(EarlyStopping(monitor="val_loss", patience=0, mode="max"), rising)
    assert len(h.epoch) == 4
    with pytest.warns(UserWarning, match="unknown"):
        es = EarlyStopping(mode="sideways")
    assert es.mode == "auto"
    with pytest.raises(ValueError, match="mode='max'"):
        run(EarlyStopping(monitor="mystery"), [1, 2], key="mystery")


def test_early_stopping_baseline():
    values = [0.9, 0.95, 0.95, 0.95]
    _, h, _ = run(EarlyStopping(patience=2), values)
    assert len(h.epoch) == 3
    _, h, _ = run(EarlyStopping(patience=2, baseline=0.5), values)
    assert len(h.epoch) == 2          # epoch 0 never beat the baseline: wait kept counting
    _, h, _ = run(EarlyStopping(patience=1, baseline=0.5), [0.9, 0.8, 0.7, 0.6])
    assert len(h.epoch) == 4          # Keras: an improvement never stops, baseline or not


def test_early_stopping_start_from_epoch_and_missing_monitor():
    _, h, _ = run(EarlyStopping(patience=0, start_from_epoch=2), [1.0, 2.0, 3.0, 4.0, 5.0])
    assert len(h.epoch) == 4          # epochs 0-1 unwatched; 2 is the first best
    x, y = data()
    with pytest.warns(UserWarning, match="not available"):
        model().fit(x, y, epochs=2, verbose=0, callbacks=[EarlyStopping()])  # no val_loss


def _assert_weights(a, b):
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_early_stopping_restores_best_weights_when_stopping():
    es = EarlyStopping(patience=2, restore_best_weights=True)
    m, h, script = run(es, [1.0, 0.5, 0.7, 0.8, 0.9])
    assert len(h.epoch) == 4 and es.best_epoch == 1
    _assert_weights(m.get_weights(), script.snapshots[1])
    assert not np.array_equal(m.get_weights()[0], script.snapshots[-1][0])


def test_early_stopping_restores_best_weights_when_reaching_epochs():
    es = EarlyStopping(patience=10, restore_best_weights=True)
    m, h, script = run(es, [1.0, 0.5, 0.7])
    assert len(h.epoch) == 3 and es.stopped_epoch == 0
    _assert_weights(m.get_weights(), script.snapshots[1])
    es = EarlyStopping(patience=10)                 # without the flag: last weights
    m, _, script = run(es, [1.0, 0.5, 0.7])
    _assert_weights(m.get_weights(), script.snapshots[-1])


def test_early_stopping_on_real_loss_stops():
    x, y = data()
    m = model(lr=0.0)                 # the loss never changes -> no improvement
    h = m.fit(x, y, epochs=10, verbose=0, callbacks=[EarlyStopping(monitor="loss", patience=3)])
    assert len(h.epoch) == 4


# ---- CSVLogger -----------------------------------------------------------------

def test_csv_logger_contents(tmp_path):
    path = tmp_path / "log.csv"
    x, y = data()
    m = model(metrics=["accuracy"])
    h = m.fit(x, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[CSVLogger(path)])
    raw = path.read_bytes().decode()
    lines = raw.split("\r\n")
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert lines[-1] == "" and len(lines) == 4
    for epoch in (0, 1):
        fields = lines[epoch + 1].split(",")
        assert fields[0] == str(epoch)
        for name, value in zip(lines[0].split(",")[1:], fields[1:]):
            assert float(value) == h.history[name][epoch]


def test_csv_logger_adds_val_columns_append_and_separator(tmp_path):
    path = tmp_path / "log.csv"
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(str(path), separator=";")])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;loss;val_loss"
    assert lines[1].startswith("0;") and lines[1].endswith(";NA")
    m.fit(x, y, epochs=2, verbose=0, callbacks=[CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == "epoch;loss;val_loss"    # no second header
    assert [l.split(";")[0] for l in lines[1:]] == ["0", "0", "1"]
    m.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path)])   # overwrite
    assert len(path.read_text().splitlines()) == 2


# ---- LearningRateScheduler ----------------------------------------------------------

def test_learning_rate_scheduler_sets_and_logs():
    x, y = data()
    m = model(lr=0.5)
    seen = []

    def schedule(epoch, lr):
        seen.append(lr)
        return 0.1 * (epoch + 1)

    h = m.fit(x, y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(schedule)])
    assert seen == pytest.approx([0.5, 0.1, 0.2], rel=1e-6)   # the current rate is passed
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.2, 0.3], rel=1e-6)
    assert m.optimizer.learning_rate == pytest.approx(0.3, rel=1e-6)
    assert list(h.history) == ["learning_rate", "loss"]


def test_learning_rate_scheduler_rate_is_used_and_old_api():
    x, y = data()
    m = model(lr=0.5)
    before = m.get_weights()
    m.fit(x, y, epochs=2, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 0.0)])
    _assert_weights(before, m.get_weights())       # rate 0 -> nothing moves
    with pytest.raises(ValueError, match="should be a float"):
        m.fit(x, y, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: 1)])


def test_learning_rate_scheduler_verbose(capsys):
    x, y = data()
    model().fit(x, y, epochs=1, verbose=0,
                callbacks=[LearningRateScheduler(lambda e, lr: 0.25, verbose=1)])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.25." in capsys.readouterr().out


# ---- ReduceLROnPlateau ----------------------------------------------------------

def test_reduce_lr_on_plateau_after_patience():
    cb = ReduceLROnPlateau(patience=2, factor=0.5)
    m, h, _ = run(cb, [1.0] * 5)
    # logged before this epoch's reduction, as Keras
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05], rel=1e-6)
    assert m.optimizer.learning_rate == pytest.approx(0.025, rel=1e-6)


def test_reduce_lr_on_plateau_cooldown_min_lr_min_delta_and_mode():
    m, h, _ = run(ReduceLROnPlateau(patience=2, factor=0.5, cooldown=2), [1.0] * 6)
    assert h.history["learning_rate"] == pytest.approx([0.1] * 3 + [0.05] * 3, rel=1e-6)
    assert m.optimizer.learning_rate == pytest.approx(0.025, rel=1e-6)   # reduced at epoch 5
    m, _, _ = run(ReduceLROnPlateau(patience=1, factor=0.1, min_lr=0.05), [1.0] * 4)
    assert m.optimizer.learning_rate == pytest.approx(0.05, rel=1e-6)
    # improvements smaller than min_delta count as none
    m, _, _ = run(ReduceLROnPlateau(patience=2, factor=0.5, min_delta=0.1),
                  [1.0, 0.95, 0.9, 0.5])
    assert m.optimizer.learning_rate == pytest.approx(0.05, rel=1e-6)
    # 'acc' in the name -> maximise: a rising accuracy is never reduced
    m, _, _ = run(ReduceLROnPlateau(monitor="val_acc", patience=1), [0.1, 0.2, 0.3],
                  key="val_acc")
    assert m.optimizer.learning_rate == pytest.approx(0.1, rel=1e-6)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)


# ---- TerminateOnNaN ---------------------------------------------------------------

def _nan_data():
    x, y = data()
    x[20] = np.nan                     # in the second batch of 16
    return x, y


def test_terminate_on_nan_stops_after_the_bad_batch(capsys):
    x, y = _nan_data()
    m = model()
    batches = []
    h = m.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0,
              callbacks=[TerminateOnNaN(),
                         LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1] and len(h.epoch) == 1
    assert math.isnan(h.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_huge_learning_rate_and_raise_error():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32) * 1e3
    y = rng.standard_normal((64, 1)).astype(np.float32) * 1e3
    m = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    m.compile(keras.optimizers.SGD(learning_rate=1e6), "mse")
    with np.errstate(all="ignore"):
        h = m.fit(x, y, epochs=50, batch_size=8, verbose=0, callbacks=[TerminateOnNaN()])
        assert len(h.epoch) < 50 and not math.isfinite(h.history["loss"][-1])
        x2, y2 = _nan_data()
        with pytest.raises(RuntimeError, match="NaN or Inf loss"):
            model().fit(x2, y2, batch_size=16, shuffle=False, verbose=0,
                        callbacks=[TerminateOnNaN(raise_error=True)])


# ---- hooks: order, counts, stop_training, LambdaCallback ------------------------------

class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def __getattribute__(self, name):
        attr = object.__getattribute__(self, name)
        if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):
            def record(*args):
                self.events.append((name,) + tuple(a for a in args if not isinstance(a, dict)))
                return attr(*args)
            return record
        return attr


def test_hook_order_and_counts_for_fit_with_validation():
    x, y = data(n=20)
    rec = Recorder()
    model().fit(x, y, epochs=2, batch_size=8, validation_data=(x[:10], y[:10]),
                validation_batch_size=5, verbose=0, callbacks=[rec])
    epoch = lambda e: ([("on_epoch_begin", e)]
                       + sum(([("on_train_batch_begin", b), ("on_train_batch_end", b)]
                              for b in range(3)), [])
                       + [("on_test_begin",)]
                       + sum(([("on_test_batch_begin", b), ("on_test_batch_end", b)]
                              for b in range(2)), [])
                       + [("on_test_end",), ("on_epoch_end", e)])
    assert rec.events == [("on_train_begin",)] + epoch(0) + epoch(1) + [("on_train_end",)]


def test_hooks_for_evaluate_and_predict_and_logs():
    x, y = data(n=20)
    m = model()
    rec = Recorder()
    m.evaluate(x, y, batch_size=10, verbose=0, callbacks=[rec])
    assert rec.events == [("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
                          ("on_test_batch_begin", 1), ("on_test_batch_end", 1), ("on_test_end",)]
    outputs = []
    m.predict(x, batch_size=15, verbose=0, callbacks=[
        rec, LambdaCallback(on_predict_batch_end=lambda b, logs: outputs.append(logs["outputs"]))])
    assert rec.events[6:] == [("on_predict_begin",), ("on_predict_batch_begin", 0),
                              ("on_predict_batch_end", 0), ("on_predict_batch_begin", 1),
                              ("on_predict_batch_end", 1), ("on_predict_end",)]
    assert [o.shape for o in outputs] == [(15, 3), (5, 3)]


def test_lambda_callback_hooks_order_and_tf2_batch_alias():
    x, y = data(n=16)
    events = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_train_batch_begin=lambda batch, logs: events.append(f"batch_begin {batch}"),
        on_train_batch_end=lambda batch, logs: events.append(f"batch_end {batch} {'loss' in logs}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"),
        on_test_begin=lambda logs: events.append("test_begin"))
    model().fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[cb])
    assert events == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0 True",
                      "batch_begin 1", "batch_end 1 True", "epoch_end 0 ['loss']", "train_end"]
    legacy = []
    model().fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[
        LambdaCallback(on_batch_end=lambda batch, logs: legacy.append(batch))])
    assert legacy == [0, 1]
    with pytest.raises(ValueError, match="unknown hook"):
        LambdaCallback(on_epoch_finish=print)


def test_stop_training_from_a_batch_hook_closes_the_epoch():
    x, y = data(n=40)
    rec = Recorder()

    class Stop(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    h = model().fit(x, y, epochs=3, batch_size=10, validation_data=(x, y), verbose=0,
                    callbacks=[Stop(), rec])
    names = [e[0] for e in rec.events]
    assert names.count("on_train_batch_end") == 2
    assert names[-3:] == ["on_test_end", "on_epoch_end", "on_train_end"]
    assert h.epoch == [0] and "val_loss" in h.history


def test_stop_training_from_epoch_end():
    x, y = data()
    cb = LambdaCallback(on_epoch_end=lambda e, logs: setattr(cb.model, "stop_training", e == 1))
    h = model().fit(x, y, epochs=5, verbose=0, callbacks=[cb])
    assert h.epoch == [0, 1]


def test_callbacks_get_model_and_params():
    x, y = data()
    got = {}
    cb = LambdaCallback(on_train_begin=lambda logs: got.update(model=cb.model, params=cb.params))
    m = model()
    m.fit(x, y, epochs=2, batch_size=10, verbose=0, callbacks=[cb])
    assert got["model"] is m
    assert got["params"] == {"verbose": 0, "epochs": 2, "steps": 4}
    with pytest.raises(TypeError, match="Callback"):
        m.fit(x, y, verbose=0, callbacks=[print])


def test_exports():
    for name in ("Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
                 "CSVLogger", "LearningRateScheduler", "ReduceLROnPlateau", "TerminateOnNaN",
                 "LambdaCallback"):
        assert hasattr(keras.callbacks, name), name
