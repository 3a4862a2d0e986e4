"""A convolutional network on images: the bundled UCI digits (8x8), or
Fashion-MNIST (28x28) from Debian's ``dataset-fashion-mnist`` package
(``apt-get install dataset-fashion-mnist``), read straight from its gzipped
IDX files. Prints the time of every epoch and the test accuracy."""
import gzip
import os
import time

import numpy as np

import ckeras as keras

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (optionally gzipped) as a numpy array (big-endian header:
    two zero bytes, a type code, the number of dimensions, then the sizes)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    types = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
             0x0E: ">f8"}
    if data[2] not in types:
        raise ValueError(f"{path}: unknown IDX type code {data[2]:#x}")
    ndim = data[3]
    shape = tuple(int(v) for v in np.frombuffer(data, ">u4", ndim, 4))
    array = np.frombuffer(data, types[data[2]], offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, found {array.size} values")
    return array.reshape(shape)


def load_fashion_mnist(directory=FASHION_DIR, n_train=None, n_test=None):
    """((x_train, y_train), (x_test, y_test)) as uint8, x (n, 28, 28)."""
    def part(kind):
        images = os.path.join(directory, f"{kind}-images-idx3-ubyte.gz")
        labels = os.path.join(directory, f"{kind}-labels-idx1-ubyte.gz")
        for p in (images, labels):
            if not os.path.exists(p):
                raise FileNotFoundError(
                    f"{p} not found: install Debian's dataset-fashion-mnist package "
                    "(apt-get install dataset-fashion-mnist)")
        return read_idx(images), read_idx(labels)
    (xtr, ytr), (xte, yte) = part("train"), part("t10k")
    return (xtr[:n_train], ytr[:n_train]), (xte[:n_test], yte[:n_test])


class EpochTimer(keras.callbacks.Callback):
    """Prints each epoch's wall time."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        self.times.append(seconds)
        acc = (logs or {}).get("accuracy")
        extra = f", accuracy {acc:.4f}" if acc is not None else ""
        print(f"epoch {epoch + 1}: {seconds:.2f} s{extra}")

    def on_train_begin(self, logs=None):
        self.times = []


def _model(shape, width):
    L = keras.layers
    return keras.Sequential([
        keras.Input(shape=shape),
        L.Conv2D(width, 3, activation="relu", padding="same"),
        L.MaxPooling2D(2),
        L.Conv2D(2 * width, 3, activation="relu", padding="same"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dropout(0.25),
        L.Dense(10, activation="softmax"),
    ], name="cnn")


def run(epochs=None, out_dir=".", data="digits", n_train=None):
    keras.utils.set_random_seed(42)
    if data == "fashion_mnist":
        (x_train, y_train), (x_test, y_test) = load_fashion_mnist(
            n_train=n_train or 12000, n_test=2000)
        scale, width, default_epochs, need = 255.0, 32, 3, 0.0
    else:
        (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
        scale, width, default_epochs, need = 16.0, 32, 30, 0.97
    x_train = x_train[..., None].astype("float32") / scale
    x_test = x_test[..., None].astype("float32") / scale
    print(f"{data}: {len(x_train)} training and {len(x_test)} test images "
          f"{x_train.shape[1:]}, 10 classes")
    model = _model(x_train.shape[1:], width)
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(x_train, y_train, epochs=epochs or default_epochs, batch_size=64,
              verbose=0, callbacks=[timer])
    print(f"mean time per epoch {np.mean(timer.times):.2f} s "
          f"({len(x_train) / np.mean(timer.times):.0f} samples/s)")
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    path = os.path.join(out_dir, f"{data}_cnn.keras")
    model.save(path)
    print(f"saved to {path}")
    return 0 if accuracy >= need else 1
