"""BackupAndRestore, RemoteMonitor and SwapEMAWeights."""
import http.server
import json
import os
import threading
import urllib.parse

import numpy as np
import pytest

import ckeras as keras


def _data():
    x = np.random.default_rng(1).normal(size=(32, 4)).astype("float32")
    return x, (x @ np.arange(1, 5, dtype="float32"))[:, None]


def _model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


class Epochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(epoch)


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path):
    x, y = _data()
    reference = _model()
    ref_history = reference.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0)

    backup = tmp_path / "backup"
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(3)])
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 3
    # A new process would build a fresh model: so do we.
    resumed = _model()
    epochs = Epochs()
    history = resumed.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                          callbacks=[keras.callbacks.BackupAndRestore(backup), epochs])
    assert epochs.seen == [3, 4]
    np.testing.assert_array_equal(history.history["loss"], ref_history.history["loss"][3:])
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not backup.exists()                   # delete_checkpoint=True
    # The resume point is used once: a later fit starts at epoch 0 again.
    epochs = Epochs()
    resumed.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[epochs])
    assert epochs.seen == [0]


def test_batch_frequency_double_checkpoint_and_keep(tmp_path):
    x, y = _data()
    backup = tmp_path / "b"
    cb = keras.callbacks.BackupAndRestore(backup, save_freq=3, double_checkpoint=True,
                                          delete_checkpoint=False)
    _model().fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[cb])
    names = sorted(os.listdir(backup))
    assert names == ["latest.weights.h5", "latest.weights.h5.bkp",
                     "training_metadata.json", "training_metadata.json.bkp"]
    # 4 batches an epoch, saved after the 3rd (epoch 0 not yet complete) and
    # the 6th (epoch 1 done, batch index 1 of epoch 2).
    assert json.loads((backup / "training_metadata.json").read_text()) == {"epoch": 1,
                                                                           "batch": 1}
    assert json.loads((backup / "training_metadata.json.bkp").read_text()) == {"epoch": 0,
                                                                               "batch": 2}
    # A damaged latest backup falls back on the previous one (resume at epoch 0,
    # where the latest one would have resumed at 1).
    (backup / "latest.weights.h5").write_bytes(b"garbage")
    epochs = Epochs()
    _model().fit(x, y, batch_size=8, epochs=2, verbose=0,
                 callbacks=[keras.callbacks.BackupAndRestore(backup), epochs])
    assert epochs.seen == [0, 1]
    assert not backup.exists()


def test_backup_arguments():
    with pytest.raises(ValueError, match="backup_dir"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.BackupAndRestore("d", save_freq="batch")


class _Handler(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Handler.received.append((self.path, self.headers["Content-Type"],
                                  self.headers.get("X-Test"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_remote_monitor_posts_form_and_json(server):
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        keras.callbacks.RemoteMonitor(root=server, headers={"X-Test": "yes"})])
    assert len(_Handler.received) == 2
    path, ctype, header, body = _Handler.received[1]
    assert path == "/publish/epoch/end/" and header == "yes"
    assert ctype == "application/x-www-form-urlencoded"
    sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert sent["epoch"] == 1 and sent["loss"] == pytest.approx(history.history["loss"][1])

    _Handler.received = []
    model.fit(x, y, epochs=1, verbose=0, callbacks=[
        keras.callbacks.RemoteMonitor(root=server, path="/p", send_as_json=True)])
    path, ctype, _, body = _Handler.received[0]
    assert path == "/p" and ctype == "application/json"
    assert set(json.loads(body)) == {"epoch", "loss"}


def test_remote_monitor_unreachable_warns():
    x, y = _data()
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[
            keras.callbacks.RemoteMonitor(root="http://127.0.0.1:9", timeout=2)])


def test_swap_ema_weights_refuses_clearly():
    x, y = _data()
    with pytest.raises(ValueError, match="use_ema"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    with pytest.raises(NotImplementedError, match="use_ema"):
        keras.optimizers.SGD(use_ema=True)
