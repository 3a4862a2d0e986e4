"""Keras 3 .keras files holding adapted vocabularies (TextVectorization,
StringLookup, IntegerLookup), and their outputs.

The lookup and text layers need TensorFlow in Keras 3, so run with Keras on
TensorFlow (the tests never import it):
    KERAS_BACKEND=tensorflow python make_text_fixtures.py
An adapted vocabulary is not in the config: Keras writes it to
assets/<layer path>/vocabulary.txt inside the archive, and tf_idf's weights
to the layer's vars group as the dataset "idf_weights". Writes the *.keras files
and text_outputs.npz (inputs and each model's predictions).
"""
import numpy as np
import keras

L = keras.layers
keras.utils.set_random_seed(0)
texts = np.array(["The cat sat on the mat.", "A dog ate my homework!",
                  "the cat and the dog", "Ünïcode wörds, and punctuation?!",
                  "mat mat mat cat", ""])
train = np.array(["the cat sat", "the dog ran fast", "a cat and a dog",
                  "my homework is late", "the mat is red", "Ünïcode wörds"])
out = {"texts": texts}


def save(name, model, x):
    model.save(f"{name}.keras")
    out[name] = np.asarray(model(x.astype(object) if x.dtype.kind == "U" else x))


# int mode with a fixed sequence length, in front of a trainable model
tv = L.TextVectorization(max_tokens=12, output_sequence_length=5)
tv.adapt(train)
inp = keras.Input(shape=(1,), dtype="string")
h = L.GlobalAveragePooling1D()(L.Embedding(12, 3)(tv(inp)))
save("text_int", keras.Model(inp, L.Dense(2)(h)), texts[:, None])

# tf_idf over unigrams and bigrams: idf_weights stored with the weights
tv = L.TextVectorization(output_mode="tf_idf", ngrams=2, max_tokens=20)
tv.adapt(train)
inp = keras.Input(shape=(1,), dtype="string")
save("text_tfidf", keras.Model(inp, tv(inp)), texts[:, None])

# StringLookup (multi_hot, a mask token) and IntegerLookup (int) adapted
words = np.array([["cat", "dog", "cat"], ["mat", "", "dog"], ["red", "cat", "fish"]])
sl = L.StringLookup(output_mode="multi_hot", mask_token="")
sl.adapt(words)
inp = keras.Input(shape=(3,), dtype="string")
out["words"] = words
save("string_lookup", keras.Model(inp, sl(inp)), words)

ints = np.array([[3, 7, 7], [7, 12, 3], [42, 3, 0]], np.int64)
il = L.IntegerLookup()
il.adapt(ints)
inp = keras.Input(shape=(3,), dtype="int64")
out["ints"] = ints
save("integer_lookup", keras.Model(inp, il(inp)), ints)

np.savez("text_outputs.npz", **out)
