"""Learning curves: plot_history (PNG via matplotlib) and history_to_csv."""
import builtins
import csv

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.callbacks import History
from ckeras.utils import plotting


def trained_history(epochs=4, **fit_kwargs):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    m = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    m.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    return m.fit(x, y, epochs=epochs, verbose=0, **fit_kwargs)


def test_metric_families_loss_first():
    logs = {"accuracy": [1], "learning_rate": [1], "loss": [1], "val_accuracy": [1],
            "val_loss": [1]}
    assert plotting.metric_families(logs) == ["loss", "accuracy", "learning_rate"]


def test_plot_history_png(tmp_path):
    pytest.importorskip("matplotlib")
    h = trained_history(validation_split=0.25)
    path = tmp_path / "curves.png"
    fig = h.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axes = fig.get_axes()
    assert [a.get_title() for a in axes] == ["Loss", "Accuracy"]
    for ax in axes:
        assert ax.get_xlabel() == "Epoch"
        lines = ax.get_lines()
        assert [l.get_label() for l in lines] == ["train", "validation"]
        assert list(lines[0].get_xdata()) == [1, 2, 3, 4]
    np.testing.assert_allclose(axes[0].get_lines()[1].get_ydata(), h.history["val_loss"])
    # the utils entry point and a plain dict work too
    keras.utils.plot_history(h.history, tmp_path / "again.png")
    assert (tmp_path / "again.png").stat().st_size > 1000


def test_plot_history_validation_freq_alignment(tmp_path):
    pytest.importorskip("matplotlib")
    x = np.zeros((8, 4), np.float32)
    h = trained_history(epochs=4, validation_data=(x, np.zeros(8, np.float32)),
                        validation_freq=2)
    fig = plotting.plot_history(h)
    val = fig.get_axes()[0].get_lines()[1]
    assert list(val.get_xdata()) == [2, 4]


def test_plot_history_without_matplotlib(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install matplotlib") as err:
        plotting.plot_history({"loss": [1.0]})
    assert "history_to_csv" in str(err.value)


def test_history_to_csv(tmp_path):
    h = trained_history(epochs=3, validation_split=0.25)
    path = tmp_path / "h.csv"
    plotting.history_to_csv(h, path)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "val_loss", "accuracy", "val_accuracy"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for i, row in enumerate(rows[1:]):
        assert [float(v) for v in row[1:]] == [h.history[k][i] for k in rows[0][1:]]


def test_history_to_csv_missing_values_and_errors(tmp_path):
    hist = History()
    hist.history = {"loss": [3.0, 2.0, 1.0, 0.5], "val_loss": [2.5, 0.9]}
    hist.epoch = [0, 1, 2, 3]
    plotting.history_to_csv(hist, tmp_path / "h.csv")
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines == ["epoch,loss,val_loss", "0,3.0,", "1,2.0,2.5", "2,1.0,", "3,0.5,0.9"]
    with pytest.raises(TypeError, match="History"):
        plotting.history_to_csv([1, 2], tmp_path / "x.csv")
