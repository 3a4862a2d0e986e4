"""Crafted model files: loading reads nothing outside the file and allocates
nothing the file does not hold. Each crafted file is first shown to work as
an attack with plain h5py (the secret is reachable through it), then ckeras
must refuse it with a clear error and never show the secret."""
import io
import json
import os
import shutil
import struct
import time
import zipfile

import h5py
import numpy as np
import pytest

import ckeras as keras
from ckeras.saving.safety import UnsafeFileError
from saving_helpers import mlp

SECRET = 4242.5


def _first_kernel(group):
    """The first (8, 16) dataset: the first Dense kernel of ``mlp()``."""
    found = []
    group.visititems(lambda name, obj: found.append(obj.name)
                     if isinstance(obj, h5py.Dataset) and obj.shape == (8, 16) else None)
    return found[0]


def _weights_root(f):
    return f["model_weights"] if "model_weights" in f else f


@pytest.fixture
def secret_files(tmp_path):
    """A secret HDF5 file (dataset /w) and a secret raw file, both of SECRET."""
    h5 = tmp_path / "secret.h5"
    raw = tmp_path / "secret.bin"
    with h5py.File(h5, "w") as f:
        f["w"] = np.full((8, 16), SECRET, np.float32)
    np.full((8, 16), SECRET, np.float32).tofile(raw)
    return str(h5), str(raw)


def _save(tmp_path, ext):
    model = mlp(compile=False)
    path = tmp_path / f"model{ext}"
    if ext == ".keras" or ext == ".h5":
        model.save(path)
    else:
        model.save_weights(path)
    return path


def _rewrite_weights(h5file, attack, secret_h5, secret_raw):
    """Replace the first weight (the (8, 16) kernel) by ``attack``."""
    target = _first_kernel(_weights_root(h5file))
    shape = h5file[target].shape
    assert shape == (8, 16)
    del h5file[target]
    if attack == "external_link":
        h5file[target] = h5py.ExternalLink(secret_h5, "/w")
    elif attack == "external_storage":
        h5file.create_dataset(target, shape, np.float32,
                              external=[(secret_raw, 0, 8 * 16 * 4)])
    elif attack == "virtual":
        layout = h5py.VirtualLayout(shape, np.float32)
        layout[:] = h5py.VirtualSource(secret_h5, "w", shape=shape)
        h5file.create_virtual_dataset(target, layout)
    elif attack == "soft_link_out":
        h5file["outside"] = h5py.ExternalLink(secret_h5, "/")
        h5file[target] = h5py.SoftLink("/outside/w")
    elif attack == "soft_link_in":
        h5file["stash"] = np.zeros(shape, np.float32)
        h5file[target] = h5py.SoftLink("/stash")
    return target


def _craft(tmp_path, ext, attack, secret_files):
    path = _save(tmp_path, ext)
    secret_h5, secret_raw = secret_files
    if ext == ".keras":
        with zipfile.ZipFile(path) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        inner = tmp_path / "inner.h5"
        inner.write_bytes(members["model.weights.h5"])
        with h5py.File(inner, "r+") as f:
            target = _rewrite_weights(f, attack, secret_h5, secret_raw)
        members["model.weights.h5"] = inner.read_bytes()
        with zipfile.ZipFile(path, "w") as zf:
            for n, data in members.items():
                zf.writestr(n, data)
        check = inner
    else:
        with h5py.File(path, "r+") as f:
            target = _rewrite_weights(f, attack, secret_h5, secret_raw)
        check = path
    if attack != "soft_link_in":
        # The crafted file really reaches the secret through plain h5py.
        with h5py.File(check, "r") as f:
            assert np.all(f[target][()] == SECRET)
    return path, target


ATTACKS = ["external_link", "external_storage", "virtual", "soft_link_out", "soft_link_in"]
WORDS = {"external_link": ("external link",), "external_storage": ("external files",),
         "virtual": ("virtual dataset",), "soft_link_out": ("soft link", "external link"),
         "soft_link_in": ("soft link",)}


@pytest.mark.parametrize("ext", [".h5", ".weights.h5", ".keras"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_links_and_outside_storage_are_refused(tmp_path, secret_files, ext, attack):
    path, _ = _craft(tmp_path, ext, attack, secret_files)
    calls = [lambda: mlp(compile=False).load_weights(path)]
    if ext != ".weights.h5":
        calls.append(lambda: keras.models.load_model(path))
    for call in calls:
        with pytest.raises(UnsafeFileError) as e:
            call()
        msg = str(e.value)
        assert any(w in msg for w in WORDS[attack]) and "refuse" in msg
        assert str(SECRET) not in msg and "4242" not in msg


_OPEN_PROBE = """
import sys
sys.path[:0] = {paths!r}
{body}
"""


def _runs_within(code, seconds):
    """True if ``code`` ends within ``seconds`` (a FIFO open blocks it forever)."""
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, cwd=os.path.dirname(os.path.dirname(
                                 keras.__file__)))
    try:
        out, _ = child.communicate(timeout=seconds)
        return True, out.decode()
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return False, ""


def test_outside_files_are_never_opened(tmp_path, secret_files):
    # The outside files become FIFOs: opening one for reading blocks until a
    # writer comes, so any open() of them hangs the process.
    import sys
    paths = [os.path.dirname(os.path.dirname(keras.__file__))] + sys.path
    crafted = []
    for attack in ("external_link", "external_storage"):
        sub = tmp_path / attack
        sub.mkdir()
        h5, raw = (shutil.copy(p, sub) for p in secret_files)
        crafted.append(_craft(sub, ".h5", attack, (h5, raw)))
        for p in (h5, raw):
            os.remove(p)
            os.mkfifo(p)
    path, target = crafted[0]
    control = f"import h5py\nh5py.File({str(path)!r}, 'r')[{target!r}][()]"
    ended, _ = _runs_within(_OPEN_PROBE.format(paths=paths, body=control), 1.5)
    assert not ended, "the FIFO probe does not detect an open of the outside file"
    probe = ("import ckeras as keras\n"
             "from ckeras.saving.safety import UnsafeFileError\n"
             f"for path in {[str(p) for p, _ in crafted]!r}:\n"
             "    try:\n        keras.models.load_model(path)\n"
             "    except UnsafeFileError:\n        print('refused')\n")
    ended, out = _runs_within(_OPEN_PROBE.format(paths=paths, body=probe), 60)
    assert ended and out.count("refused") == 2, out


# ---- zip archives -----------------------------------------------------------------------

def _keras_members(tmp_path):
    path = _save(tmp_path, ".keras")
    with zipfile.ZipFile(path) as zf:
        return path, {n: zf.read(n) for n in zf.namelist()}


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "a/../../evil", "C:/evil"])
def test_zip_member_escaping_the_archive(tmp_path, name):
    path, members = _keras_members(tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(name, b"x")
    with pytest.raises(UnsafeFileError, match="outside the archive"):
        keras.models.load_model(path)


def test_zip_duplicate_member(tmp_path):
    path, members = _keras_members(tmp_path)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # zipfile warns about the duplicate
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("config.json", b"{}")
    with pytest.raises(UnsafeFileError, match="twice"):
        keras.models.load_model(path)


def test_zip_bomb_declared_size(tmp_path):
    path, members = _keras_members(tmp_path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    raw = bytearray(path.read_bytes())
    # Claim 4 GB for config.json in the central directory.
    pos = raw.index(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46:pos + 46 + name_len] == b"config.json":
            struct.pack_into("<I", raw, pos + 24, 0xFFFF0000)
        pos = raw.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(raw))
    t = time.perf_counter()
    with pytest.raises(UnsafeFileError, match="zip bomb"):
        keras.models.load_model(path)
    assert time.perf_counter() - t < 5


@pytest.mark.parametrize("config", [[], {"class_name": "Sequential", "config": {"layers": []}},
                                    {"class_name": "Sequential", "config": []}])
def test_keras_archive_with_empty_config_refused(tmp_path, config):
    path, members = _keras_members(tmp_path)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(ValueError, match="no layers|config"):
        keras.models.load_model(path)


def test_keras_config_not_utf8(tmp_path):
    path, members = _keras_members(tmp_path)
    members["config.json"] = b'{"class_name": "\xff\xfe"}'
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(ValueError, match="UTF-8"):
        keras.models.load_model(path)


def test_unknown_hdf5_filter_refused_builtin_ones_load(tmp_path):
    path = _save(tmp_path, ".h5")
    with h5py.File(path, "r+") as f:
        target = _first_kernel(f["model_weights"])
        value = f[target][()]
        del f[target]
        f.create_dataset(target, data=value, compression="gzip", shuffle=True, fletcher32=True)
    model = keras.models.load_model(path)           # built-in filters are fine
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], value)
    with h5py.File(path, "r+") as f:
        del f[target]
        # An unregistered filter id: HDF5 would look for a plugin .so on disk.
        f.create_dataset(target, data=value, compression=32001, allow_unknown_filter=True)
    with pytest.raises(UnsafeFileError, match="filter 32001.*plugin"):
        keras.models.load_model(path)
