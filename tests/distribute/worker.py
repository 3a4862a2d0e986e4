"""One scenario of the MPI tests, run on every rank by ``mpiexec -n 2 python
worker.py SCENARIO OUTDIR`` (or in the pytest process with ``dist=False`` for
the one-process reference). Each rank writes OUTDIR/rank<r>.npz: the final
weights, the History, the optimizer's learning rate and iterations, and
whatever the scenario records."""
import contextlib
import io
import json
import os
import sys

import numpy as np

import ckeras as keras
from ckeras import layers

SEED = 7


def _seed(dist):
    # Rank 0 draws what one process would; the other ranks differ on purpose,
    # so the test sees that rank 0's initial weights are broadcast.
    rank = keras.distribute.rank() if dist else 0
    keras.utils.set_random_seed(SEED + 1000 * rank)


def _strategy_scope(dist):
    if not dist:
        return contextlib.nullcontext(None)
    return keras.distribute.MPIDataParallel().scope()


# ---- models ------------------------------------------------------------------

def _mlp():
    model = keras.Sequential([keras.Input((10,)),
                              layers.Dense(32, activation="relu"),
                              layers.Dense(16, activation="tanh"),
                              layers.Dense(4, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _text():
    model = keras.Sequential([keras.Input((12,), dtype="int32"),
                              layers.Embedding(40, 8),
                              layers.LSTM(16),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-2),
                  loss="binary_crossentropy", metrics=["accuracy", keras.metrics.AUC()])
    return model


def _mlp_data(n):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 10)).astype(np.float32)
    y = (np.abs(x[:, :4]).argmax(1) + (x[:, 4] > 1.5)) % 4
    return x, y


# ---- scenarios ---------------------------------------------------------------

def mlp(out, dist):
    """Arrays, shuffled, a last partial batch of 1 row (rank 1's shard is empty),
    validation data with an odd last batch, and rank-0-only callbacks."""
    _seed(dist)
    x, y = _mlp_data(161 + 41)
    rank = keras.distribute.rank() if dist else 0
    with _strategy_scope(dist):
        model = _mlp()
    callbacks = [
        keras.callbacks.ModelCheckpoint(os.path.join(out, f"ckpt_rank{rank}.weights.h5"),
                                        save_weights_only=True),
        keras.callbacks.CSVLogger(os.path.join(out, f"log_rank{rank}.csv")),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=0, factor=0.5,
                                          min_delta=1.0),  # min_delta: reduces every epoch
        keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.5),
    ]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        history = model.fit(x[:161], y[:161], batch_size=32, epochs=4, verbose=2,
                            validation_data=(x[161:], y[161:]), callbacks=callbacks)
    return model, history, {"printed": len(printed.getvalue())}


def text(out, dist):
    """Embedding + LSTM, RMSprop, accuracy and AUC (array metric state)."""
    _seed(dist)
    rng = np.random.default_rng(1)
    x = rng.integers(1, 40, size=(96, 12)).astype(np.int32)
    y = (x[:, :6].mean(1) > 20).astype(np.float32)
    with _strategy_scope(dist):
        model = _text()
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
    return model, history, {}


class _Batches(keras.utils.PyDataset):
    """Batches of uneven sizes; records which indices this process read."""

    def __init__(self, x, y, sizes):
        super().__init__()
        self.bounds = np.cumsum([0] + list(sizes))
        self.x, self.y = x, y
        self.read = []

    def __len__(self):
        return len(self.bounds) - 1

    def __getitem__(self, i):
        self.read.append(i)
        lo, hi = self.bounds[i], self.bounds[i + 1]
        return self.x[lo:hi], self.y[lo:hi]


SIZES = [10, 12, 8, 10, 10, 6, 9]       # 7 batches: the 4th step of 2 ranks has one


def pydataset(out, dist):
    """A PyDataset sharded by index; its one-process reference reads batch pairs
    (2s, 2s+1) as one batch, which is what one global step is."""
    _seed(dist)
    x, y = _mlp_data(sum(SIZES))
    with _strategy_scope(dist):
        model = _mlp()
    if dist:
        ds = _Batches(x, y, SIZES)
    else:
        pairs = [SIZES[i] + (SIZES[i + 1] if i + 1 < len(SIZES) else 0)
                 for i in range(0, len(SIZES), 2)]
        ds = _Batches(x, y, pairs)
    history = model.fit(ds, epochs=2, verbose=0, shuffle=False)
    read = sorted(set(ds.read))
    if dist:                        # a generator is sharded by the same rule
        def batches():
            bounds = np.cumsum([0] + SIZES)
            for lo, hi in zip(bounds[:-1], bounds[1:]):
                yield x[lo:hi], y[lo:hi]
        scores = model.evaluate(batches(), verbose=0, return_dict=True)
    else:
        scores = model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)
    return model, history, {"read": read, "evaluate": json.dumps(scores)}


def resume(out, dist):
    """Rank 0 resumes from a saved model (weights + Adam state); rank 1 starts
    from a fresh, unbuilt optimizer and must receive rank 0's state."""
    path = os.path.join(os.path.dirname(out.rstrip("/")), "resume_start.keras")
    x, y = _mlp_data(128)
    rank = keras.distribute.rank() if dist else 0
    with _strategy_scope(dist):
        if rank == 0:
            model = keras.models.load_model(path)
        else:
            _seed(dist)
            model = _mlp()
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    return model, history, {}


def make_resume_start(directory):
    """The saved model `resume` starts from (one process, one epoch)."""
    keras.utils.set_random_seed(SEED)
    x, y = _mlp_data(128)
    model = _mlp()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    model.save(os.path.join(directory, "resume_start.keras"))


def batchnorm(out, dist):
    """BatchNormalization: each rank's moving statistics follow its own shard
    during the epoch and are rank 0's after it, so the replicas stay identical
    (not equal to one process: batch statistics are per shard)."""
    _seed(dist)
    x, y = _mlp_data(96)
    with _strategy_scope(dist):
        model = keras.Sequential([keras.Input((10,)), layers.Dense(16),
                                  layers.BatchNormalization(), layers.Activation("relu"),
                                  layers.Dense(4, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return model, history, {}


def fail(out, dist):
    """Rank 1 raises during its second epoch; rank 0 would wait for it forever."""
    x, y = _mlp_data(64)
    strategy = keras.distribute.MPIDataParallel()
    with strategy.scope():
        model = _mlp()

    class Boom(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1 and strategy.rank == 1:
                raise RuntimeError("rank 1 fails on purpose")
    model.fit(x, y, batch_size=16, epochs=50, verbose=0, callbacks=[Boom()])
    return model, model.history, {}


SCENARIOS = {"mlp": mlp, "text": text, "pydataset": pydataset, "resume": resume,
             "batchnorm": batchnorm, "fail": fail}


def run(name, out, dist):
    model, history, extra = SCENARIOS[name](out, dist)
    rank = keras.distribute.rank() if dist else 0
    opt = model.optimizer
    record = {f"w{i}": w.value for i, w in enumerate(model.weights)}
    record["history"] = json.dumps(history.history)
    record["lr"] = float(opt.learning_rate)
    record["iterations"] = opt.iterations
    for k, v in extra.items():
        record[k] = v
    if dist:
        record["identical"] = model._distribution.replicas_identical(model)
    np.savez(os.path.join(out, f"rank{rank}.npz"), **record)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], dist=True)
