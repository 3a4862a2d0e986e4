"""StringLookup, IntegerLookup, TextVectorization. Keras 3 needs TensorFlow
for these layers, so there are no Keras-made fixtures: the expected values
are the examples Keras documents in these layers' docstrings (keras 3.15.1),
plus the rules read from its source (ordering by count then token, both
descending; OOV / mask layout; idf = log(1 + N / (1 + df)))."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers as L
from ckeras.layers import deserialize, serialize

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]


def test_string_lookup_documented_examples():
    np.testing.assert_array_equal(L.StringLookup(vocabulary=VOCAB)(DATA), [[1, 3, 4], [4, 0, 2]])
    layer = L.StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(layer(DATA), [[5, 3, 1], [1, 2, 4]])
    np.testing.assert_array_equal(
        L.StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"]),
        np.eye(5)[[1, 2, 3, 4, 0]])
    data4 = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    np.testing.assert_array_equal(L.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(data4),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(L.StringLookup(vocabulary=VOCAB, output_mode="count")(data4),
                                  [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    tfidf = L.StringLookup(output_mode="tf_idf")
    tfidf.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tfidf(data4), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]])
    tfidf.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tfidf(data4), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]])
    inv = L.StringLookup(vocabulary=VOCAB, invert=True)
    np.testing.assert_array_equal(inv(np.array([[1, 3, 4], [4, 0, 2]])),
                                  [["a", "c", "d"], ["d", "[UNK]", "b"]])


def test_integer_lookup_documented_examples():
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    np.testing.assert_array_equal(L.IntegerLookup(vocabulary=vocab)(data), [[1, 3, 4], [4, 0, 2]])
    layer = L.IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    np.testing.assert_array_equal(layer(data), [[5, 2, 1], [1, 3, 4]])
    two = L.IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    np.testing.assert_array_equal(two(np.array([[12, 1138, 42], [37, 1000, 36]])),
                                  [[2, 4, 5], [1, 0, 3]])


def test_mask_token_layout():
    layer = L.StringLookup(vocabulary=VOCAB, mask_token="[MASK]")
    assert layer.get_vocabulary() == ["[MASK]", "[UNK]"] + VOCAB
    np.testing.assert_array_equal(layer([["a", "[MASK]", "q"]]), [[2, 0, 1]])
    # outside "int" mode the mask token takes no index and counts for nothing
    hot = L.StringLookup(vocabulary=VOCAB, mask_token="[MASK]", output_mode="multi_hot")
    assert hot.vocabulary_size() == 5
    np.testing.assert_array_equal(hot([["a", "[MASK]"]]), [[0, 1, 0, 0, 0]])
    inv = L.StringLookup(vocabulary=VOCAB, mask_token="[MASK]", invert=True)
    np.testing.assert_array_equal(inv(np.array([[0, 1, 2]])), [["[MASK]", "[UNK]", "a"]])


def test_num_oov_zero_and_bad_arguments():
    strict = L.StringLookup(vocabulary=VOCAB, num_oov_indices=0)
    np.testing.assert_array_equal(strict([["a", "d"]]), [[0, 3]])
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        strict([["zz"]])
    with pytest.raises(NotImplementedError, match="FarmHash"):
        L.StringLookup(num_oov_indices=2)
    with pytest.raises(ValueError, match="repeated"):
        L.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="max_tokens"):
        L.StringLookup(vocabulary=VOCAB, max_tokens=3)
    with pytest.raises(ValueError, match="no vocabulary"):
        L.StringLookup()(["a"])
    with pytest.raises(ValueError, match="idf_weights"):
        L.StringLookup(vocabulary=VOCAB, output_mode="tf_idf")


def test_max_tokens_keeps_the_most_frequent():
    layer = L.StringLookup(max_tokens=3)
    layer.adapt(["x", "y", "y", "z", "z", "z"])
    assert layer.get_vocabulary() == ["[UNK]", "z", "y"]


def test_text_vectorization_documented_examples():
    layer = L.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    np.testing.assert_array_equal(layer([["foo qux bar"], ["qux baz"]]), [[4, 1, 3, 0], [1, 2, 0, 0]])
    layer = L.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4,
                                vocabulary=["earth", "wind", "and", "fire"])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]


def test_text_vectorization_standardize_split_and_padding():
    layer = L.TextVectorization()
    layer.adapt(np.array(["Hello, World!", "hello   again... WORLD's end"]))
    # hello: 2; the rest once each, ties by token descending
    assert layer.get_vocabulary() == ["", "[UNK]", "hello", "worlds", "world", "end", "again"]
    out = layer(["HELLO world", "end"])               # padded to the longest
    np.testing.assert_array_equal(out, [[2, 4], [5, 0]])
    assert out.dtype == np.int64
    raw = L.TextVectorization(standardize=None, split=None, vocabulary=["A b", "c"])
    np.testing.assert_array_equal(raw(np.array([["A b"], ["a b"]])), [[2], [1]])
    chars = L.TextVectorization(split="character", standardize="lower",
                                output_sequence_length=5)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    np.testing.assert_array_equal(chars(["Cab"]), [[3, 2, 4, 0, 0]])
    bytes_in = layer(np.array([b"hello world"], dtype=object))
    np.testing.assert_array_equal(bytes_in, [[2, 4]])


def test_text_vectorization_ngrams_and_bag_modes():
    texts = ["the cat sat", "the dog", "the cat"]
    tv = L.TextVectorization(ngrams=2, output_mode="count")
    tv.adapt(texts)
    vocab = tv.get_vocabulary()
    assert vocab[:3] == ["[UNK]", "the", "the cat"]
    counts = tv(["the cat the"])
    assert counts.shape == (1, len(vocab))
    assert counts[0, vocab.index("the")] == 2 and counts[0, vocab.index("the cat")] == 1
    assert "cat the" not in vocab and counts[0, 0] == 1   # "cat the" counts as OOV
    hot = L.TextVectorization(output_mode="multi_hot", vocabulary=["the", "cat"])
    np.testing.assert_array_equal(hot(["cat cat dog"]), [[1, 0, 1]])
    tfidf = L.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(texts)
    v = tfidf.get_vocabulary()
    idf = np.log(1 + 3 / (1 + np.array([3, 2, 1, 1])))   # the, cat, sat, dog
    got = tfidf(["the the cat zebra"])[0]
    np.testing.assert_allclose(got[v.index("the")], 2 * idf[0], rtol=1e-6)
    np.testing.assert_allclose(got[v.index("cat")], idf[1], rtol=1e-6)
    np.testing.assert_allclose(got[0], idf.mean(), rtol=1e-6)         # OOV: mean idf
    padded = L.TextVectorization(max_tokens=10, output_mode="multi_hot", pad_to_max_tokens=True)
    padded.adapt(texts)
    assert padded(["the"]).shape == (1, 10)


def test_text_vectorization_in_a_model_and_config_roundtrip(tmp_path):
    texts = np.array(["good movie", "bad movie", "good good film", "bad film"])
    labels = np.array([1, 0, 1, 0])
    tv = L.TextVectorization(max_tokens=20, output_sequence_length=4)
    tv.adapt(texts)
    ids = tv(texts)
    model = keras.Sequential([keras.Input((4,), dtype="int32"), L.Embedding(20, 4),
                              L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(ids, labels, epochs=2, verbose=0)
    clone = deserialize(serialize(tv))
    assert clone.get_vocabulary() == tv.get_vocabulary()
    np.testing.assert_array_equal(clone(texts), ids)
    config = tv.get_config()
    assert config["vocabulary_size"] == tv.vocabulary_size()
    for key in ("max_tokens", "standardize", "split", "ngrams", "output_mode",
                "output_sequence_length", "pad_to_max_tokens", "sparse", "ragged",
                "vocabulary", "idf_weights", "encoding", "vocabulary_size"):
        assert key in config
    sl = L.StringLookup(vocabulary=VOCAB, mask_token="[M]")
    back = deserialize(serialize(sl))
    np.testing.assert_array_equal(back(DATA), sl(DATA))
    il = L.IntegerLookup()
    il.adapt(np.array([3, 3, 4]))
    assert deserialize(serialize(il)).get_vocabulary() == [-1, 3, 4]


def test_text_vectorization_callable_standardize_must_be_registered():
    from ckeras.saving import register_keras_serializable

    @register_keras_serializable(package="test_tv")
    def shout(x):
        return np.char.upper(x)

    tv = L.TextVectorization(standardize=shout, vocabulary=["HI"])
    np.testing.assert_array_equal(tv(["hi there"]), [[2, 1]])
    back = deserialize(serialize(tv))
    np.testing.assert_array_equal(back(["hi"]), [[2]])
    with pytest.raises(ValueError, match="register_keras_serializable"):
        L.TextVectorization(standardize=lambda x: x).get_config()


def test_string_input_in_a_functional_model_and_saved_vocabulary(tmp_path):
    texts = np.array(["good movie", "bad movie", "good good film", "bad film"])
    tv = L.TextVectorization(max_tokens=20, output_sequence_length=4)
    tv.adapt(texts)
    inp = keras.Input(shape=(1,), dtype="string")
    ids = tv(inp)
    assert ids.shape == (None, 4)
    h = L.GlobalAveragePooling1D()(L.Embedding(20, 4)(ids))
    model = keras.Model(inp, L.Dense(1, activation="sigmoid")(h))
    y = model(texts[:, None])
    path = str(tmp_path / "text.keras")
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path)(texts[:, None]), y, rtol=1e-6)
