"""Check that models move between ckeras and real Keras 3, both ways.

Run in a virtualenv that has real Keras (any backend; JAX is the light one)
with ckeras importable, e.g.:

    python3 -m venv /work/kvenv && /work/kvenv/bin/pip install keras "jax[cpu]" h5py
    PYTHONPATH=/work/main /work/kvenv/bin/python benchmarks/check_keras_interop.py

For every model family ckeras has the layers for, and every format (.h5,
.keras, .weights.h5):

* ckeras -> Keras: build and train in ckeras, save, load with Keras, compare
  predict(); for full-model files also compare one more training step (same
  batch, SGD with momentum: its state must have come across) and the
  optimizer's iteration count;
* Keras -> ckeras: the same the other way round.

Prints one line per check and exits 1 if any failed.
"""
import os
import sys
import tempfile
import traceback

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ATOL = 1e-5
RESULTS = []


def report(name, ok, detail=""):
    RESULTS.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}", flush=True)


def max_diff(a, b):
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b))


# ---- model families, written once for both libraries -----------------------------------

class _Layers:
    """``lib.layers`` for Keras; for ckeras also layer classes registered by
    modules the package does not export yet."""

    def __init__(self, lib):
        self.lib = lib

    def __getattr__(self, name):
        found = getattr(self.lib.layers, name, None)
        if found is None and self.lib.__name__ == "ckeras":
            from ckeras.layers import BUILTIN_LAYERS
            found = BUILTIN_LAYERS.get(name)
        if found is None:
            raise AttributeError(f"{self.lib.__name__}.layers has no {name}")
        return found


def build_mlp(lib):
    L = _Layers(lib)
    return lib.Sequential([lib.Input((8,)), L.Dense(16, activation="relu"),
                           L.Dense(3, activation="softmax")], name="mlp")


def build_functional(lib):
    L = _Layers(lib)
    a = lib.Input((6,), name="in_a")
    b = lib.Input((4,), name="in_b")
    xa = L.Dense(8, activation="relu", name="branch_a")(a)
    xb = L.Dense(8, activation="tanh", name="branch_b")(b)
    h = L.Concatenate(name="concat")([xa, xb])
    h = L.Dense(10, activation="relu", name="trunk")(h)
    return lib.Model([a, b], [L.Dense(3, activation="softmax", name="cls")(h),
                              L.Dense(1, name="reg")(h)], name="two_in_two_out")


def build_bn(lib):
    L = _Layers(lib)
    return lib.Sequential([lib.Input((5,)), L.Dense(6), L.BatchNormalization(),
                           L.Activation("relu"), L.Dense(1)], name="bn")


def build_emb_lstm(lib):
    L = _Layers(lib)
    return lib.Sequential([lib.Input((7,), dtype="int32"), L.Embedding(50, 8), L.LSTM(6),
                           L.Dense(1, activation="sigmoid")], name="emb_lstm")


def build_cnn(lib):
    L = _Layers(lib)
    return lib.Sequential([lib.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"),
                           L.MaxPooling2D(), L.Flatten(), L.Dense(3, activation="softmax")],
                          name="cnn")


def build_rnn_zoo(lib):
    L = _Layers(lib)
    return lib.Sequential([lib.Input((7,), dtype="int32"), L.Embedding(30, 6),
                           L.Bidirectional(L.LSTM(4, return_sequences=True)),
                           L.GRU(5, return_sequences=True), L.SimpleRNN(3), L.Dense(1)],
                          name="rnn_zoo")


def build_conv1d(lib):
    L = _Layers(lib)
    return lib.Sequential([lib.Input((10, 3)), L.Conv1D(4, 3, activation="relu"),
                           L.GlobalMaxPooling1D(), L.LayerNormalization(), L.Dense(2)],
                          name="conv1d")


def build_nested(lib):
    L = _Layers(lib)
    inner = lib.Sequential([lib.Input((8,)), L.Dense(5, activation="relu"), L.Dense(4)],
                           name="inner")
    inp = lib.Input((8,), name="outer_in")
    return lib.Model(inp, L.Dense(3, activation="softmax", name="head")(inner(inp)),
                     name="outer")


def data(family, n=16):
    rng = np.random.default_rng(0)
    if family in ("mlp", "nested"):
        return rng.random((n, 8), np.float32), rng.integers(0, 3, n)
    if family == "functional":
        return ([rng.random((n, 6), np.float32), rng.random((n, 4), np.float32)],
                [rng.integers(0, 3, n), rng.random((n, 1), np.float32)])
    if family == "bn":
        return rng.random((n, 5), np.float32), rng.random((n, 1), np.float32)
    if family == "emb_lstm":
        return rng.integers(0, 50, (n, 7)).astype("int32"), rng.integers(0, 2, (n, 1)).astype("float32")
    if family == "cnn":
        return rng.random((n, 8, 8, 1), np.float32), rng.integers(0, 3, n)
    if family == "rnn_zoo":
        return rng.integers(0, 30, (n, 7)).astype("int32"), rng.random((n, 1), np.float32)
    if family == "conv1d":
        return rng.random((n, 10, 3), np.float32), rng.random((n, 2), np.float32)
    raise KeyError(family)


LOSSES = {"mlp": "sparse_categorical_crossentropy", "nested": "sparse_categorical_crossentropy",
          "functional": ["sparse_categorical_crossentropy", "mean_squared_error"],
          "bn": "mean_squared_error", "emb_lstm": "binary_crossentropy",
          "cnn": "sparse_categorical_crossentropy", "rnn_zoo": "mean_squared_error",
          "conv1d": "mean_squared_error"}
BUILDERS = {"mlp": build_mlp, "functional": build_functional, "bn": build_bn,
            "emb_lstm": build_emb_lstm, "cnn": build_cnn, "rnn_zoo": build_rnn_zoo,
            "conv1d": build_conv1d, "nested": build_nested}
NEEDS = {"bn": ["BatchNormalization"], "emb_lstm": ["Embedding", "LSTM"],
         "cnn": ["Conv2D", "MaxPooling2D"],
         "rnn_zoo": ["Embedding", "Bidirectional", "LSTM", "GRU", "SimpleRNN"],
         "conv1d": ["Conv1D", "GlobalMaxPooling1D", "LayerNormalization"]}


# Optimizers whose saved slots must line up with Keras's (order and names).
OPTIMIZERS = {
    "sgd_momentum": lambda o: o.SGD(0.05, momentum=0.9),
    "adam": lambda o: o.Adam(0.01),
    "adam_amsgrad": lambda o: o.Adam(0.01, amsgrad=True),
    "adamw": lambda o: o.AdamW(0.01),
    "rmsprop_centered_momentum": lambda o: o.RMSprop(0.01, momentum=0.5, centered=True),
    "nadam": lambda o: o.Nadam(0.01),
    "adamax": lambda o: o.Adamax(0.01),
    "adagrad": lambda o: o.Adagrad(0.05),
    "adadelta": lambda o: o.Adadelta(1.0),
    "ftrl": lambda o: o.Ftrl(0.05),
    "lion": lambda o: o.Lion(0.001),
}


def make(lib, family, opt="sgd_momentum"):
    model = BUILDERS[family](lib)
    # jit_compile=False: eager JAX steps are faster than compiling for 3 steps.
    model.compile(optimizer=OPTIMIZERS[opt](lib.optimizers), loss=LOSSES[family],
                  metrics=None, jit_compile=False)
    x, y = data(family)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)   # 2 steps
    return model, x, y


def weights_of(model):
    return [np.asarray(w) for w in model.get_weights()]


def check(direction, family, fmt, src_lib, dst_lib, folder, opt="sgd_momentum"):
    name = f"{direction} {family} {fmt}" + ("" if opt == "sgd_momentum" else f" {opt}")
    try:
        src, x, y = make(src_lib, family, opt)
        path = os.path.join(folder, f"{direction.replace(' ', '_')}_{family}_{opt}{fmt}")
        if fmt == ".weights.h5":
            src.save_weights(path)
            dst = BUILDERS[family](dst_lib)
            dst.load_weights(path)
            report(name + " predict", max_diff(src.predict(x, verbose=0),
                                              dst.predict(x, verbose=0)) < ATOL)
            return
        src.save(path)
        dst = dst_lib.models.load_model(path)
        diff = max_diff(src.predict(x, verbose=0), dst.predict(x, verbose=0))
        report(name + " predict", diff < ATOL, f"max|diff|={diff:.2e}")
        it_src = int(np.asarray(src.optimizer.iterations))
        it_dst = int(np.asarray(dst.optimizer.iterations))
        report(name + " optimizer iterations", it_src == it_dst, f"{it_src} vs {it_dst}")
        src.train_on_batch(x, y)
        try:
            dst.train_on_batch(x, y)
        except Exception as e:
            if fmt == ".h5" and dst_lib.__name__ == "keras" and keras_h5_cannot_train(folder, family):
                print(f"SKIP  {name} next step: Keras itself cannot train a model it "
                      f"reloaded from its own .h5 ({type(e).__name__}: {str(e)[:90]}...)")
                return
            raise
        diff = max_diff(weights_of(src), weights_of(dst))
        report(name + " next step (momentum restored)", diff < 1e-4, f"max|diff|={diff:.2e}")
    except Exception as e:  # a failed check is a result, not a crash
        report(name, False, f"{type(e).__name__}: {e}")
        traceback.print_exc()


def check_compile_objects(direction, fmt, src_lib, dst_lib, folder):
    """Loss and metric *objects* (not strings) survive the trip: same evaluate()."""
    name = f"{direction} compile objects {fmt}"
    try:
        rng = np.random.default_rng(1)
        x = rng.random((16, 8), np.float32)
        y = (rng.random((16, 1)) > 0.5).astype("float32")
        model = src_lib.Sequential([src_lib.Input((8,)),
                                    _Layers(src_lib).Dense(1, activation="sigmoid")])
        model.compile(src_lib.optimizers.Adam(0.01), jit_compile=False,
                      loss=src_lib.losses.BinaryCrossentropy(label_smoothing=0.1),
                      metrics=[src_lib.metrics.AUC(), "mae",
                               src_lib.metrics.BinaryAccuracy(threshold=0.3)])
        model.fit(x, y, verbose=0)
        path = os.path.join(folder, f"objects_{direction.replace(' ', '_')}{fmt}")
        model.save(path)
        loaded = dst_lib.models.load_model(path)
        # Keras's legacy .h5 loader renames the "mae" metric; the value is what counts.
        alias = {"mean_absolute_error": "mae"}
        want = {alias.get(k, k): v for k, v in
                model.evaluate(x, y, verbose=0, return_dict=True).items()}
        got = {alias.get(k, k): v for k, v in
               loaded.evaluate(x, y, verbose=0, return_dict=True).items()}
        same = sorted(want) == sorted(got) and all(abs(want[k] - got[k]) < 1e-5 for k in want)
        report(name, same, f"{want} vs {got}" if not same else "")
    except Exception as e:
        report(name, False, f"{type(e).__name__}: {e}")
        traceback.print_exc()


def keras_h5_cannot_train(folder, family):
    """Control: does Keras 3 fail to train after reloading its *own* .h5 file?
    (3.15.1 with JAX does: the optimizer gets built on zero variables.)"""
    import keras
    model, x, y = make(keras, family)
    path = os.path.join(folder, f"control_{family}.h5")
    model.save(path)
    try:
        keras.models.load_model(path).train_on_batch(x, y)
    except Exception:
        return True
    return False


def main():
    import keras
    import ckeras
    from ckeras.layers import BUILTIN_LAYERS
    from ckeras.saving.model_config import import_layer_modules
    import_layer_modules()
    print(f"keras {keras.__version__} ({keras.backend.backend()}), ckeras {ckeras.__version__}")
    folder = tempfile.mkdtemp(prefix="ckeras_interop_")
    for family in BUILDERS:
        missing = [c for c in NEEDS.get(family, []) if c not in BUILTIN_LAYERS]
        if missing:
            print(f"SKIP  {family}: ckeras has no {missing} yet")
            continue
        for fmt in (".h5", ".keras", ".weights.h5"):
            check("ckeras to keras", family, fmt, ckeras, keras, folder)
            check("keras to ckeras", family, fmt, keras, ckeras, folder)
    for fmt in (".h5", ".keras"):
        check_compile_objects("ckeras to keras", fmt, ckeras, keras, folder)
        check_compile_objects("keras to ckeras", fmt, keras, ckeras, folder)
    for opt in OPTIMIZERS:
        if opt == "sgd_momentum":
            continue
        for fmt in (".keras", ".h5"):
            check("ckeras to keras", "mlp", fmt, ckeras, keras, folder, opt)
            check("keras to ckeras", "mlp", fmt, keras, ckeras, folder, opt)
    failed = RESULTS.count(False)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
