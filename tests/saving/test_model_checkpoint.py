"""ModelCheckpoint: file name formatting, best-only logic, formats and errors from the saving API."""
import os
import zipfile

import h5py
import numpy as np
import pytest

import ckeras as keras
from ckeras.callbacks.model_checkpoint import ModelCheckpoint
from saving_helpers import mlp, mlp_data


def _fit(callback, epochs=3, validation=True, **kwargs):
    keras.utils.set_random_seed(0)
    model = mlp()
    x, y = mlp_data(40)
    val = (x[:8], y[:8]) if validation else None
    history = model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0,
                        validation_data=val, callbacks=[callback], **kwargs)
    return model, history


def test_epoch_and_metric_formatting(tmp_path):
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    _, history = _fit(ModelCheckpoint(pattern))
    files = sorted(os.listdir(tmp_path))
    want = sorted(f"ckpt-{e + 1:02d}-{v:.2f}.keras"
                  for e, v in enumerate(history.history["val_loss"]))
    assert files == want
    loaded = keras.models.load_model(tmp_path / files[-1])
    assert loaded.optimizer.iterations == 15


def test_unknown_key_in_pattern_raises(tmp_path):
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _fit(ModelCheckpoint(str(tmp_path / "m-{nope}.h5")), epochs=1)


def test_save_best_only_min_and_max(tmp_path):
    path = tmp_path / "best.h5"
    cb = ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True)
    saves = []
    real = cb._save_model

    def spy(epoch, batch, logs):
        before = path.stat().st_ino if path.exists() else None
        real(epoch, batch, logs)     # an atomic save always makes a new inode
        saves.append(path.exists() and path.stat().st_ino != before)
    cb._save_model = spy
    model, history = _fit(cb, epochs=4)
    losses = history.history["val_loss"]
    improved = [losses[i] < min(losses[:i], default=np.inf) for i in range(len(losses))]
    assert saves == improved
    assert cb.best == pytest.approx(min(losses))
    assert ModelCheckpoint("x.h5", monitor="val_accuracy").mode == "max"
    assert ModelCheckpoint("x.h5", monitor="val_loss").mode == "min"
    assert ModelCheckpoint("x.h5", monitor="val_loss", mode="max").monitor_op is np.greater


def test_initial_value_threshold_blocks_worse_models(tmp_path):
    path = tmp_path / "best.keras"
    cb = ModelCheckpoint(str(path), save_best_only=True, initial_value_threshold=1e-9)
    _fit(cb, epochs=2)
    assert not path.exists()


def test_missing_monitor_warns_and_skips(tmp_path):
    path = tmp_path / "m.h5"
    with pytest.warns(UserWarning, match="only with val_loss available"):
        _fit(ModelCheckpoint(str(path), save_best_only=True), epochs=1, validation=False)
    assert not path.exists()


def _kind(path):
    if zipfile.is_zipfile(path):
        return "keras"
    with h5py.File(path, "r") as f:
        if "model_config" in f.attrs:
            return "h5_model"
        return "weights_v3" if "layers" in f else "weights_legacy"


def _direct(model, path, weights_only):
    """What the saving API does with this name when called directly."""
    try:
        (model.save_weights if weights_only else model.save)(str(path))
    except Exception as e:   # noqa: BLE001 - compared with the checkpoint's error below
        return type(e), str(e)
    return _kind(path)


@pytest.mark.parametrize("name, weights_only, kind", [
    ("m.keras", False, "keras"),
    ("m.h5", False, "h5_model"),
    ("m.hdf5", False, "h5_model"),
    ("m.ckpt", False, ValueError),            # save() refuses an unknown extension
    ("m.weights.h5", False, "h5_model"),      # what model.save() writes for this name
    ("m.weights.h5", True, "weights_v3"),
    ("m.h5", True, "weights_legacy"),
    ("m.ckpt", True, "weights_legacy"),
    ("m.keras", True, ValueError),            # save_weights() refuses .keras
])
def test_format_and_errors_are_the_saving_apis(tmp_path, name, weights_only, kind):
    """The checkpoint calls model.save / model.save_weights: the same file, or
    the same error, as calling them directly."""
    direct = _direct(mlp(), tmp_path / "direct" / name, weights_only)
    path = tmp_path / "cb" / name
    if isinstance(kind, type):
        assert direct[0] is kind
        with pytest.raises(kind) as err:
            _fit(ModelCheckpoint(str(path), save_weights_only=weights_only), epochs=1)
        assert (type(err.value), str(err.value).replace(str(path), "P")) == \
            (direct[0], direct[1].replace(str(tmp_path / "direct" / name), "P"))
        assert not path.exists()
        return
    assert direct == kind
    model, _ = _fit(ModelCheckpoint(str(path), save_weights_only=weights_only), epochs=1)
    assert _kind(path) == kind
    other = mlp()
    if kind in ("keras", "h5_model"):
        other = keras.models.load_model(path)
    else:
        other.load_weights(path)
    x, _ = mlp_data(4)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_subclassed_model_h5_refused_as_by_save(tmp_path):
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    model = Net()
    model.compile("sgd", "mse")
    x = np.ones((4, 3), "float32")
    with pytest.raises(NotImplementedError, match="subclassed model"):
        model.fit(x, np.ones((4, 1), "float32"), verbose=0,
                  callbacks=[ModelCheckpoint(str(tmp_path / "m.h5"))])
    model.fit(x, np.ones((4, 1), "float32"), verbose=0,
              callbacks=[ModelCheckpoint(str(tmp_path / "m.keras"))])
    assert zipfile.is_zipfile(tmp_path / "m.keras")


def test_save_freq_in_batches(tmp_path):
    pattern = str(tmp_path / "e{epoch}-b{batch}.weights.h5")
    _fit(ModelCheckpoint(pattern, save_freq=3), epochs=2, validation=False)   # 5 batches/epoch
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["e1-b3.weights.h5", "e2-b1.weights.h5", "e2-b4.weights.h5"])
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint("x.h5", save_freq="sometimes")


def test_verbose_messages_and_folders(tmp_path, capsys):
    path = tmp_path / "sub" / "dir" / "m.h5"
    _fit(ModelCheckpoint(str(path), verbose=1, save_best_only=True), epochs=2)
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to" in out
    assert f"saving model to {path}" in out
    assert path.exists()
    with pytest.raises(IOError, match="non-directory"):
        _fit(ModelCheckpoint(str(tmp_path / "sub")), epochs=1)
