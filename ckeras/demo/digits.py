"""The main job: an MLP learns handwritten digits (UCI, bundled), in the
order a Keras user works: data -> model -> compile -> fit -> curves ->
evaluate -> predict -> save/load."""
import os

import numpy as np

import ckeras as keras
from ckeras.demo.curves import save_learning_curve


def run(epochs=None, out_dir="."):
    keras.utils.set_random_seed(42)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    # Pixels are counts 0..16: scale to [0, 1] and flatten the 8x8 images.
    x_train = x_train.reshape(len(x_train), 64).astype("float32") / 16.0
    x_test = x_test.reshape(len(x_test), 64).astype("float32") / 16.0
    print(f"digits: {len(x_train)} training and {len(x_test)} test images, 10 classes")

    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ], name="digits_mlp")
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs or 30, batch_size=32,
                        validation_split=0.15, verbose="auto")

    curve = save_learning_curve(history, os.path.join(out_dir, "learning_curve"))
    print(f"learning curve saved to {curve}")

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")

    probs = model.predict(x_test[:5], verbose=0)
    print("first test images:  predicted", probs.argmax(axis=1).tolist(),
          " true", y_test[:5].tolist())

    path = os.path.join(out_dir, "digits_mlp.h5")
    model.save(path)
    restored = keras.models.load_model(path)
    same = np.allclose(restored.predict(x_test, verbose=0), model.predict(x_test, verbose=0),
                       atol=1e-6)
    print(f"saved to {path}; reloaded model predicts the same: {same}")
    return 0 if accuracy >= 0.95 and same else 1
