"""Saves are atomic: a failure or a kill mid-save leaves the previous file
intact and no temporary files behind."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ckeras as keras
from ckeras.saving import atomic, keras_v3, legacy_h5
from saving_helpers import mlp, mlp_data

# the folder holding the ckeras under test (not the checkout: it may be uncompiled)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(keras.__file__)))


def _saved_model(path):
    model = mlp()
    model.save(path)
    return model, open(path, "rb").read()


def _boom(*args, **kwargs):
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize("ext, module, step", [
    (".h5", legacy_h5, "write_weights_group"),
    (".h5", legacy_h5, "write_optimizer_group"),
    (".keras", keras_v3, "write_weights"),
])
def test_exception_mid_save_keeps_previous_file(tmp_path, monkeypatch, ext, module, step):
    path = tmp_path / f"model{ext}"
    old_model, old_bytes = _saved_model(path)
    newer = mlp()
    x, y = mlp_data(16)
    newer.fit(x, y, batch_size=8, epochs=1, verbose=0)   # builds optimizer slots
    monkeypatch.setattr(module, step, _boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        newer.save(path)
    assert os.listdir(tmp_path) == [path.name]
    assert path.read_bytes() == old_bytes
    monkeypatch.undo()
    reloaded = keras.models.load_model(path)
    np.testing.assert_array_equal(reloaded.get_weights()[0], old_model.get_weights()[0])


def test_exception_mid_save_weights(tmp_path, monkeypatch):
    model = mlp(compile=False)
    model.save_weights(tmp_path / "w.weights.h5")
    before = (tmp_path / "w.weights.h5").read_bytes()
    monkeypatch.setattr(keras_v3, "write_weights", _boom)
    with pytest.raises(RuntimeError):
        model.save_weights(tmp_path / "w.weights.h5")
    assert os.listdir(tmp_path) == ["w.weights.h5"]
    assert (tmp_path / "w.weights.h5").read_bytes() == before


def test_named_temp_fallback_cleans_up(tmp_path, monkeypatch):
    # Where O_TMPFILE is unavailable, a named temp file is used and removed.
    monkeypatch.setattr(atomic, "_open_anonymous", lambda directory: None)
    path = tmp_path / "m.h5"
    mlp().save(path)
    assert os.listdir(tmp_path) == ["m.h5"]
    monkeypatch.setattr(legacy_h5, "write_weights_group", _boom)
    with pytest.raises(RuntimeError):
        mlp().save(path)
    assert os.listdir(tmp_path) == ["m.h5"]


def test_stale_temp_of_dead_process_is_swept(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_open_anonymous", lambda directory: None)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.h5{atomic._TMP_TAG}{dead.pid}-abc"
    stale.write_bytes(b"half a file")
    mine = tmp_path / f".m.h5{atomic._TMP_TAG}{os.getpid()}-other"   # a live process's
    mine.write_bytes(b"in progress")
    mlp().save(tmp_path / "m.h5")
    assert sorted(os.listdir(tmp_path)) == sorted(["m.h5", mine.name])


_CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    import ckeras as keras
    from ckeras.saving import legacy_h5
    real = legacy_h5.write_weights_group

    def slow(model, group):
        real(model, group)            # half the file is written...
        open({marker!r}, "w").close()
        time.sleep(60)                # ...and the process is killed here

    legacy_h5.write_weights_group = slow
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64), keras.layers.Dense(3)])
    model.save({path!r})
""")


@pytest.mark.parametrize("use_named_temp", [False, True])
def test_killed_process_mid_save_keeps_previous_file(tmp_path, use_named_temp):
    path = tmp_path / "model.h5"
    old_model, old_bytes = _saved_model(path)
    marker = tmp_path.parent / f"{tmp_path.name}.started"
    code = _CHILD.format(root=ROOT, marker=str(marker), path=str(path))
    if use_named_temp:
        code = code.replace("import ckeras as keras",
                            "import ckeras as keras\nfrom ckeras.saving import atomic\n"
                            "atomic._open_anonymous = lambda d: None")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert child.poll() is None, "the saving process ended early"
            assert time.time() < deadline, "the saving process never started writing"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    assert path.read_bytes() == old_bytes
    reloaded = keras.models.load_model(path)
    np.testing.assert_array_equal(reloaded.get_weights()[0], old_model.get_weights()[0])
    leftovers = sorted(set(os.listdir(tmp_path)) - {"model.h5"})
    if use_named_temp:
        # A SIGKILLed process cannot clean up: the next save sweeps its temp file.
        assert len(leftovers) == 1 and atomic._TMP_TAG in leftovers[0]
        mlp().save(path)
        leftovers = sorted(set(os.listdir(tmp_path)) - {"model.h5"})
    assert leftovers == []
