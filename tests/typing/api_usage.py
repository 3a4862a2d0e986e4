"""Typed use of the public API, for mypy (CI runs `mypy`; pytest does not
collect this file). A hint that breaks ordinary Keras code fails here."""
import numpy as np

import ckeras as keras
from ckeras.preprocessing.text import Tokenizer
from ckeras.utils import pad_sequences


def build() -> keras.Sequential:
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)], name="m")
    model.add(keras.layers.Dense(2, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def train(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25,
                        callbacks=[keras.callbacks.EarlyStopping(patience=1)])
    print(history.history)
    result = model.evaluate(x, y, verbose=0)
    probabilities = model.predict(x[:2], verbose=0)
    print(probabilities.shape, model.count_params(), len(model.get_weights()))
    model.save("m.keras")
    model.save_weights("m.weights.h5")
    model.load_weights("m.weights.h5")
    restored = keras.models.load_model("m.keras", compile=True)
    print(restored.predict_on_batch(x[:1]))
    if isinstance(result, dict):
        return result["loss"]
    return result if isinstance(result, float) else result[0]


def text() -> np.ndarray:
    tokenizer = Tokenizer(num_words=100, oov_token="<unk>")
    tokenizer.fit_on_texts(["a b c", "b c d"])
    ids: list[list[int]] = tokenizer.texts_to_sequences(["a d"])
    return pad_sequences(ids, maxlen=4)


class Scale(keras.layers.Layer):
    def build(self, input_shape: tuple[int, ...]) -> None:
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return inputs * self.w.value
