"""The text classifier: raw review snippets -> Tokenizer -> pad_sequences ->
Embedding -> pooling -> Dense, on Rotten Tomatoes (fresh vs rotten)."""
import os

import ckeras as keras
from ckeras.demo.curves import save_learning_curve
from ckeras.demo.reviews import load_padded_reviews
from ckeras.utils import pad_sequences

MAX_WORDS = 20000
MAX_LEN = 60


def run(epochs=None, out_dir="."):
    data = load_padded_reviews("text", MAX_WORDS, MAX_LEN)
    if data is None:
        return 2
    tokenizer, (train_ids, y_train), (test_ids, y_test) = data
    keras.utils.set_random_seed(7)
    # Indices 1 .. num_words - 1 survive (index 1 is <unk>).
    kept = min(len(tokenizer.word_index), MAX_WORDS - 1)
    print(f"vocabulary: {len(tokenizer.word_index)} tokens (with <unk>), keeping {kept}"
          f" (num_words={MAX_WORDS})")

    model = keras.Sequential([
        keras.Input(shape=(MAX_LEN,), dtype="int32"),
        keras.layers.Embedding(tokenizer.vocab_size, 32, mask_zero=True),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1, activation="sigmoid"),
    ], name="review_classifier")
    model.summary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    # It overfits after a few epochs: keep the weights of the best validation loss.
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1,
                                         restore_best_weights=True)
    history = model.fit(train_ids, y_train, epochs=epochs or 10, batch_size=64,
                        validation_split=0.1, callbacks=[stop], verbose="auto")
    curve = save_learning_curve(history, os.path.join(out_dir, "text_learning_curve"))
    print(f"learning curve saved to {curve}")
    loss, accuracy = model.evaluate(test_ids, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    reviews = ["a gorgeous, moving and funny film", "a tedious mess with no redeeming qualities"]
    probs = model.predict(pad_sequences(tokenizer.texts_to_sequences(reviews), maxlen=MAX_LEN),
                          verbose=0)
    for review, p in zip(reviews, probs[:, 0]):
        print(f"  P(fresh) = {p:.2f}  {review!r}")
    return 0
