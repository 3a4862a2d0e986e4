"""keras.utils.Progbar as documented, and interactive logging's switch."""
import logging
import re

import numpy as np
import pytest

import ckeras as keras

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _last_line(text):
    return ANSI.sub("", text.split("\r")[-1]).strip()


def test_verbose2_averages_stateless_and_keeps_stateful(capsys):
    bar = keras.utils.Progbar(4, verbose=2, stateful_metrics=["acc"], unit_name="sample")
    bar.update(1, [("loss", 1.0), ("acc", 0.5)])
    bar.update(3, [("loss", 3.0), ("acc", 0.7)])   # loss covers 2 steps
    assert capsys.readouterr().out == ""            # verbose 2: one line at the end
    bar.update(4, [("loss", 4.0), ("acc", 0.9)])    # finalize: value as given
    out = capsys.readouterr().out
    assert out.startswith("4/4 - ") and out.endswith("\n")
    assert "/sample" in out and "loss: 4.0000" in out and "acc: 0.9000" in out


def test_running_average_shown_while_drawing(capsys):
    bar = keras.utils.Progbar(10, width=10, verbose=1, interval=0)
    bar.update(1, [("loss", 1.0)])
    bar.update(3, [("loss", 4.0)])         # (1*1 + 4*2) / 3 = 3
    line = _last_line(capsys.readouterr().out)
    assert line.startswith("3/10 ━━━━━━━━━━")
    assert line.count("━") == 10 and "loss: 3.0000" in line
    bar.add(2, [("loss", 0.0)])            # (9 + 0*2) / 5 = 1.8
    assert "loss: 1.8000" in _last_line(capsys.readouterr().out)
    assert bar._seen_so_far == 5


def test_unknown_target_and_arguments(capsys):
    bar = keras.utils.Progbar(None, verbose=1, interval=0)
    bar.update(7)
    assert "7/Unknown" in capsys.readouterr().out
    with pytest.raises(ValueError, match="only one"):
        keras.utils.Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])
    keras.utils.Progbar(3, verbose=0).update(3, [("x", 1.0)])
    assert capsys.readouterr().out == ""


def test_disable_interactive_logging_silences_fit(capsys, caplog):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    assert keras.config.is_interactive_logging_enabled()
    assert keras.utils.disable_interactive_logging is keras.config.disable_interactive_logging
    keras.config.disable_interactive_logging()
    try:
        assert not keras.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="ckeras"):
            model.fit(x, y, epochs=2, verbose=2,
                      callbacks=[keras.callbacks.EarlyStopping("loss", patience=0,
                                                               verbose=1)])
            model.summary()
        assert capsys.readouterr().out == ""
        assert any("Epoch 1/2" in r.getMessage() for r in caplog.records)
    finally:
        keras.utils.enable_interactive_logging()
    model.fit(x, y, epochs=1, verbose=2)
    assert "Epoch 1/1" in capsys.readouterr().out
