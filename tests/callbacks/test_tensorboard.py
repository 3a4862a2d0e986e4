"""TensorBoard event files, decoded by ckeras's own reader."""
import glob
import os
import struct

import numpy as np
import pytest

import ckeras as keras
from ckeras.utils import event_file


def test_crc32c_known_vectors():
    assert event_file.crc32c(b"123456789") == 0xE3069283      # the CRC-32C check value
    assert event_file.crc32c(b"") == 0
    assert event_file.crc32c(bytes(32)) == 0x8A9136AA          # RFC 3720 B.4: 32 zero bytes


def test_record_framing_and_header():
    data = event_file.encode_event(12.5, file_version="brain.Event:2")
    record = event_file.frame_record(data)
    assert struct.unpack("<Q", record[:8])[0] == len(data)
    assert record[12:12 + len(data)] == data
    crc = event_file.crc32c(data)
    masked = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert struct.unpack("<I", record[-4:])[0] == masked
    assert event_file.decode_event(data) == {"step": 0, "wall_time": 12.5,
                                             "file_version": "brain.Event:2"}


def _fit(tmp_path, epochs=3, **kwargs):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    tb = keras.callbacks.TensorBoard(log_dir=tmp_path / "logs", **kwargs)
    history = model.fit(x, y, batch_size=8, epochs=epochs, validation_split=0.25,
                        verbose=0, callbacks=[tb])
    return history


def _scalars(folder):
    files = glob.glob(os.path.join(folder, "events.out.tfevents.*"))
    assert len(files) == 1, files
    events = event_file.read_events(files[0])
    assert events[0]["file_version"] == "brain.Event:2"
    return [(e["step"], tag, v) for e in events[1:] for tag, v in e["scalars"].items()]


def test_epoch_scalars_match_history(tmp_path):
    history = _fit(tmp_path)
    train = _scalars(tmp_path / "logs" / "train")
    val = _scalars(tmp_path / "logs" / "validation")
    for key in ("loss", "mae"):
        got = [v for s, t, v in train if t == f"epoch_{key}"]
        np.testing.assert_allclose(got, history.history[key], rtol=1e-6)
        got_val = [(s, v) for s, t, v in val if t == f"epoch_{key}"]
        assert [s for s, _ in got_val] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in got_val], history.history[f"val_{key}"],
                                   rtol=1e-6)
    assert [v for s, t, v in train if t == "epoch_learning_rate"] == pytest.approx([0.05] * 3)
    assert not any(t.startswith("batch_") for _, t, _ in train)
    iterations = [s for s, t, _ in val if t == "evaluation_loss_vs_iterations"]
    assert iterations == [3, 6, 9]           # 3 train batches per epoch


@pytest.mark.parametrize("freq, steps", [("batch", list(range(1, 10))), (2, [2, 4, 6, 8])])
def test_batch_scalars(tmp_path, freq, steps):
    _fit(tmp_path, update_freq=freq, write_steps_per_second=True)
    train = _scalars(tmp_path / "logs" / "train")
    assert [s for s, t, _ in train if t == "batch_loss"] == steps
    assert [s for s, t, _ in train if t == "batch_steps_per_second"] == steps
    assert len([t for _, t, _ in train if t == "epoch_steps_per_second"]) == 3


def test_unsupported_arguments_raise_and_defaults_are_accepted():
    keras.callbacks.TensorBoard(write_graph=True)            # Keras's default: no graph
    for kwargs in ({"histogram_freq": 1}, {"write_images": True}, {"profile_batch": 2},
                   {"embeddings_freq": 1}, {"embeddings_metadata": "m.tsv"}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            keras.callbacks.TensorBoard(**kwargs)
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(update_freq="sometimes")


def test_reader_detects_corruption(tmp_path):
    _fit(tmp_path, epochs=1)
    path = glob.glob(str(tmp_path / "logs" / "train" / "events.*"))[0]
    blob = bytearray(open(path, "rb").read())
    blob[-6] ^= 0xFF
    open(path, "wb").write(bytes(blob))
    with pytest.raises(ValueError, match="corrupted"):
        event_file.read_events(path)
