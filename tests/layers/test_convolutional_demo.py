"""The CNN demo's pieces: the IDX reader (Fashion-MNIST's format) and one
short training run on the bundled digits."""
import gzip
import struct

import numpy as np
import pytest

from ckeras.demo import cnn


def _write_idx(path, array, code=0x08):
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(array.dtype.newbyteorder(">")).tobytes())


def test_read_idx_round_trip(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    _write_idx(str(tmp_path / "img.gz"), images)
    np.testing.assert_array_equal(cnn.read_idx(str(tmp_path / "img.gz")), images)
    ints = np.arange(6, dtype=np.int32).reshape(2, 3)
    _write_idx(str(tmp_path / "i.gz"), ints, code=0x0C)
    np.testing.assert_array_equal(cnn.read_idx(str(tmp_path / "i.gz")), ints)


def test_read_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x01\x02\x08\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="magic"):
        cnn.read_idx(str(bad))
    short = tmp_path / "short.gz"
    with gzip.open(short, "wb") as f:
        f.write(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    with pytest.raises(ValueError, match="header says"):
        cnn.read_idx(str(short))
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        cnn.load_fashion_mnist(str(tmp_path))


def test_digits_cnn_learns(tmp_path, capsys):
    from ckeras.ops.threads import num_threads
    with num_threads(1):
        cnn.run(epochs=3, out_dir=str(tmp_path))
    out = capsys.readouterr().out
    assert "epoch 3:" in out and "mean time per epoch" in out
    acc = float(out.split("test accuracy ")[1].split()[0])
    assert acc > 0.6                       # 3 epochs; the full demo needs >= 0.97
    assert (tmp_path / "digits_cnn.keras").exists()
