"""The recurrent text classifier: raw review snippets -> Tokenizer ->
pad_sequences -> Embedding(mask_zero) -> LSTM -> Dense, on Rotten Tomatoes
(fresh vs rotten). Prints the test accuracy and the time of every epoch."""
import time

import ckeras as keras
from ckeras.demo.reviews import load_padded_reviews

MAX_WORDS = 20000
MAX_LEN = 40


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch (training plus validation)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def run(epochs=None, out_dir=".", limit=None):
    """``limit``: use only the first ``limit`` training and test snippets."""
    data = load_padded_reviews("LSTM", MAX_WORDS, MAX_LEN, limit)
    if data is None:
        return 2
    tokenizer, (train_ids, y_train), (test_ids, y_test) = data
    keras.utils.set_random_seed(7)

    model = keras.Sequential([
        keras.Input(shape=(MAX_LEN,), dtype="int32"),
        keras.layers.Embedding(tokenizer.vocab_size, 32, mask_zero=True),
        keras.layers.LSTM(32, dropout=0.2, recurrent_dropout=0.2),
        keras.layers.Dense(1, activation="sigmoid"),
    ], name="lstm_review_classifier")
    model.summary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(train_ids, y_train, epochs=epochs or 3, batch_size=64, validation_split=0.1,
              callbacks=[timer], verbose="auto")
    for i, s in enumerate(timer.seconds, 1):
        print(f"epoch {i}: {s:.2f} s")
    loss, accuracy = model.evaluate(test_ids, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return 0
