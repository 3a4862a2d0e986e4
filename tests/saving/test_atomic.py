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


def test_stale_temp_of_dead_process_is_swept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.h5{atomic._TMP_TAG}{dead.pid}-abc"
    stale.write_bytes(b"half a file")
    mine = tmp_path / f".m.h5{atomic._TMP_TAG}{os.getpid()}-other"   # a live process's
    mine.write_bytes(b"in progress")
    mlp().save(tmp_path / "m.h5")
    assert sorted(os.listdir(tmp_path)) == sorted(["m.h5", mine.name])


def test_one_write_renamed_into_place(tmp_path, monkeypatch):
    # The temp file beside the target is renamed, not copied: its inode is
    # the final file's and nothing else is written.
    renamed = []
    real_replace = os.replace

    def spy(src, dst):
        renamed.append((src, dst, os.stat(src).st_ino, os.stat(src).st_size))
        real_replace(src, dst)
    monkeypatch.setattr(atomic.os, "replace", spy)
    monkeypatch.setattr(atomic.os, "link", _boom)     # no hard-link tricks either
    path = tmp_path / "m.keras"
    mlp().save(path)
    [(src, dst, ino, size)] = renamed
    assert os.path.dirname(src) == str(tmp_path) and dst == str(path)
    assert os.stat(path).st_ino == ino and os.stat(path).st_size == size
    assert os.listdir(tmp_path) == ["m.keras"]


class _FailingFile:
    """A file object whose writes fail (ENOSPC) after ``budget`` bytes."""

    def __init__(self, f, budget):
        self._f, self._budget = f, budget

    def write(self, data):
        self._budget -= len(data)
        if self._budget < 0:
            import errno
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.mark.parametrize("ext", [".h5", ".keras", ".weights.h5"])
def test_disk_full_midway_keeps_previous_file(tmp_path, monkeypatch, ext):
    path = tmp_path / f"model{ext}"
    model = mlp()
    save = (lambda p: model.save_weights(p)) if ext == ".weights.h5" else model.save
    save(path)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen",
                        lambda fd, mode: _FailingFile(real_fdopen(fd, mode), 2000))
    with pytest.raises(Exception) as e:
        save(path)
    # h5py reports the failed write of its Python file driver as an OSError.
    assert isinstance(e.value, OSError) and ("space" in str(e.value) or "write" in str(e.value))
    monkeypatch.undo()
    assert os.listdir(tmp_path) == [path.name]
    assert path.read_bytes() == before


def test_save_through_symlink_updates_its_target(tmp_path):
    real = tmp_path / "real" / "model.h5"
    real.parent.mkdir()
    link = tmp_path / "link.h5"
    link.symlink_to(real)
    model = mlp()
    model.save(link)                       # a dangling link: creates the target
    assert link.is_symlink() and real.is_file()
    mlp().save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert sorted(os.listdir(tmp_path)) == ["link.h5", "real"]
    assert os.listdir(real.parent) == ["model.h5"]
    keras.models.load_model(link)


def test_save_keeps_permission_bits(tmp_path):
    path = tmp_path / "secret.keras"
    mlp().save(path)
    os.chmod(path, 0o600)
    mlp().save(path)
    assert os.stat(path).st_mode & 0o7777 == 0o600
    os.chmod(path, 0o640)
    mlp().save_weights(tmp_path / "w.weights.h5")
    mlp().save(path)
    assert os.stat(path).st_mode & 0o7777 == 0o640


def test_new_file_mode_follows_umask(tmp_path):
    old = os.umask(0o027)
    try:
        mlp().save(tmp_path / "m.h5")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "m.h5").st_mode & 0o7777 == 0o640


def test_hard_link_keeps_old_content_under_other_name(tmp_path):
    path = tmp_path / "m.h5"
    _, old_bytes = _saved_model(path)
    other = tmp_path / "other.h5"
    os.link(path, other)
    newer = mlp()
    newer.save(path)
    assert other.read_bytes() == old_bytes           # documented behaviour
    assert os.stat(path).st_ino != os.stat(other).st_ino
    assert os.stat(path).st_nlink == 1


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


def test_killed_process_mid_save_keeps_previous_file(tmp_path):
    path = tmp_path / "model.h5"
    old_model, old_bytes = _saved_model(path)
    marker = tmp_path.parent / f"{tmp_path.name}.started"
    code = _CHILD.format(root=ROOT, marker=str(marker), path=str(path))
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
    # A SIGKILLed process cannot clean up: the next save sweeps its temp file.
    assert len(leftovers) == 1 and atomic._TMP_TAG in leftovers[0]
    mlp().save(path)
    leftovers = sorted(set(os.listdir(tmp_path)) - {"model.h5"})
    assert leftovers == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root may give a file to another owner")
def test_save_keeps_owner_when_root(tmp_path):
    path = tmp_path / "m.h5"
    mlp().save(path)
    os.chown(path, 4321, 4321)
    mlp().save(path)
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (4321, 4321)
