"""Regenerate the real-Keras ``k3_*`` fixtures (``.keras`` archives and
``.weights.h5`` files) used by tests/saving. Needs real Keras, e.g.:

    KERAS_BACKEND=jax /work/kvenv/bin/python tests/data/keras_h5/make_keras3_fixtures.py

Each ``k3_<name>.npz`` holds ``x`` (or ``x0``, ``x1``), ``y`` (or ``y0``,
``y1``) = ``model.predict(x)``, ``y_true*`` and ``iterations``. The
``a_``..``f_`` fixtures beside them come from shared/fixtures (Keras .h5).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
L = keras.layers


def mlp():
    return keras.Sequential([keras.Input((8,)), L.Dense(16, activation="relu"),
                             L.Dense(3, activation="softmax")], name="mlp"), \
        "sparse_categorical_crossentropy", ["accuracy"]


def functional():
    a, b = keras.Input((6,), name="in_a"), keras.Input((4,), name="in_b")
    h = L.Concatenate(name="concat")([L.Dense(8, activation="relu", name="branch_a")(a),
                                      L.Dense(8, activation="tanh", name="branch_b")(b)])
    h = L.Dense(10, activation="relu", name="trunk")(h)
    model = keras.Model([a, b], [L.Dense(3, activation="softmax", name="cls")(h),
                                 L.Dense(1, name="reg")(h)], name="two_in_two_out")
    return model, ["sparse_categorical_crossentropy", "mean_squared_error"], [["accuracy"], ["mae"]]


def emb_lstm():
    return keras.Sequential([keras.Input((7,), dtype="int32"), L.Embedding(50, 8), L.LSTM(6),
                             L.Dense(1, activation="sigmoid")], name="emb_lstm"), \
        "binary_crossentropy", ["accuracy"]


def cnn():
    return keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"),
                             L.MaxPooling2D(), L.Flatten(), L.Dense(3, activation="softmax")],
                            name="cnn"), "sparse_categorical_crossentropy", ["accuracy"]


def data(name, rng, n=32):
    if name == "functional":
        return ([rng.random((n, 6), np.float32), rng.random((n, 4), np.float32)],
                [rng.integers(0, 3, n), rng.random((n, 1), np.float32)])
    if name == "emb_lstm":
        return rng.integers(0, 50, (n, 7)).astype("int32"), rng.integers(0, 2, (n, 1)).astype("float32")
    if name == "cnn":
        return rng.random((n, 8, 8, 1), np.float32), rng.integers(0, 3, n)
    return rng.random((n, 8), np.float32), rng.integers(0, 3, n)


def main():
    keras.utils.set_random_seed(7)
    manifest = {}
    for name, build in [("mlp", mlp), ("functional", functional), ("emb_lstm", emb_lstm),
                        ("cnn", cnn)]:
        rng = np.random.default_rng(1)
        model, loss, metrics = build()
        model.compile("adam", loss, metrics=metrics)
        x, y = data(name, rng)
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        model.save(os.path.join(HERE, f"k3_{name}.keras"))
        model.save_weights(os.path.join(HERE, f"k3_{name}.weights.h5"))
        xs = x if isinstance(x, list) else [x]
        ys = y if isinstance(y, list) else [y]
        pred = model.predict(x, verbose=0)
        preds = pred if isinstance(pred, list) else [pred]
        arrays = {"iterations": np.array(int(model.optimizer.iterations))}
        for key, items in (("x", xs), ("y", preds), ("y_true", ys)):
            if len(items) == 1:
                arrays[key] = np.asarray(items[0])
            else:
                arrays.update({f"{key}{i}": np.asarray(v) for i, v in enumerate(items)})
        np.savez(os.path.join(HERE, f"k3_{name}.npz"), **arrays)
        manifest[name] = {"keras_version": keras.__version__,
                          "backend": keras.backend.backend(),
                          "evaluate": model.evaluate(x, y, verbose=0, return_dict=True)}
    with open(os.path.join(HERE, "k3_manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
