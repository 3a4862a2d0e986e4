"""Lookup and text layers in .keras files written by real Keras 3.15.1 (on
TensorFlow; tests/data/keras_preprocessing/make_text_fixtures.py). Keras keeps
an adapted vocabulary out of the config, in assets/<layer path>/vocabulary.txt,
and tf_idf's weights in the layer's vars group."""
import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers as L
from ckeras.saving import safety

DATA = Path(__file__).resolve().parents[2] / "data" / "keras_preprocessing"
GOLD = np.load(DATA / "text_outputs.npz")
CASES = {"text_int": GOLD["texts"][:, None], "text_tfidf": GOLD["texts"][:, None],
         "string_lookup": GOLD["words"], "integer_lookup": GOLD["ints"]}


def _lookup_layer(model):
    return next(l for l in model.layers if hasattr(l, "get_vocabulary"))


def _asset(name):
    with zipfile.ZipFile(DATA / f"{name}.keras") as z:
        member = next(m for m in z.namelist()
                      if m.endswith("vocabulary.txt") and "_lookup_layer" not in m)
        return z.read(member).decode("utf-8").split("\n")


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_archive_with_an_adapted_vocabulary_loads_and_predicts(name):
    model = keras.models.load_model(DATA / f"{name}.keras")
    vocab = _lookup_layer(model).get_vocabulary()
    assert [str(t) for t in vocab] == _asset(name)
    y = model.predict(CASES[name], verbose=0)
    np.testing.assert_allclose(y, GOLD[name], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_resaved_archive_keeps_the_vocabulary_in_the_config(name, tmp_path):
    model = keras.models.load_model(DATA / f"{name}.keras")
    path = tmp_path / f"{name}.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
    layer_cfg = next(l["config"] for l in config["config"]["layers"]
                     if "vocabulary" in l["config"])
    assert [str(t) for t in layer_cfg["vocabulary"]] == _asset(name)   # Keras reads it
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(again.predict(CASES[name], verbose=0),
                                  model.predict(CASES[name], verbose=0))


def test_string_inputs_train_evaluate_and_predict():
    model = keras.models.load_model(DATA / "text_int.keras")
    texts = GOLD["texts"]
    model.compile("adam", "mse")
    y = np.zeros((len(texts), 2), np.float32)
    hist = model.fit(texts[:, None], y, epochs=3, batch_size=4, verbose=0,
                     validation_data=(texts[:2, None].astype(object), y[:2]))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert np.isfinite(model.evaluate(texts[:, None], y, verbose=0))
    assert model.predict(list(texts), verbose=0).shape == (len(texts), 2)

    tv = L.TextVectorization(max_tokens=30, output_sequence_length=4)
    tv.adapt(texts)
    seq = keras.Sequential([tv, L.Embedding(30, 3), L.GlobalAveragePooling1D(), L.Dense(1)])
    seq.compile("sgd", "mse")
    seq.fit(list(texts), np.ones(len(texts)), epochs=1, verbose=0)  # a list of np.str_
    assert seq.predict(["the cat"], verbose=0).shape == (1, 1)


def test_strings_are_refused_where_numbers_are_expected():
    model = keras.Sequential([keras.Input((2,)), L.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"`x` has dtype .* \(strings\).*TextVectorization"):
        model.fit(np.array([["a", "b"]], dtype=object), np.zeros(1), verbose=0)
    with pytest.raises(ValueError, match=r"`y` has dtype <U3 \(strings\).*integers"):
        model.fit(np.zeros((2, 2)), np.array(["cat", "dog"]), verbose=0)
    text_model = keras.models.load_model(DATA / "text_int.keras")
    text_model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"`y` has dtype"):
        text_model.fit(GOLD["texts"][:, None], GOLD["texts"], verbose=0)


def _rewrite(src, dst, members):
    """A copy of archive src with some members replaced (bytes) or changed
    (a function of the old bytes)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            new = members.get(info.filename, data)
            zout.writestr(info.filename, new(data) if callable(new) else new)
    return dst


def _with_idf(shape):
    def change(weights):
        buf = io.BytesIO(weights)
        with h5py.File(buf, "r+") as f:
            del f["layers/text_vectorization/vars/idf_weights"]
            f["layers/text_vectorization/vars/idf_weights"] = np.ones(shape, np.float32)
        return buf.getvalue()
    return change


def test_crafted_vocabulary_assets_get_clear_errors(tmp_path, monkeypatch):
    vocab = "assets/layers/text_vectorization/vocabulary.txt"
    bad = _rewrite(DATA / "text_int.keras", tmp_path / "a.keras", {vocab: b"\xff\xfe\n"})
    with pytest.raises(ValueError, match="vocabulary.txt is not UTF-8"):
        keras.models.load_model(bad)
    bad = _rewrite(DATA / "integer_lookup.keras", tmp_path / "b.keras",
                   {"assets/layers/integer_lookup/vocabulary.txt": b"-1\n7\nseven\n"})
    with pytest.raises(ValueError, match=r"vocabulary.txt: .*must be integers, got \['seven'\]"):
        keras.models.load_model(bad)
    bad = _rewrite(DATA / "text_int.keras", tmp_path / "c.keras", {vocab: b"\nthe\nthe\n"})
    with pytest.raises(ValueError, match="repeated tokens"):
        keras.models.load_model(bad)
    for shape in [(3,), (4, 5)]:
        bad = _rewrite(DATA / "text_tfidf.keras", tmp_path / "d.keras",
                       {"model.weights.h5": _with_idf(shape)})
        with pytest.raises(ValueError, match="idf_weights must be a 1-D dataset of at least 20"):
            keras.models.load_model(bad)
    big = "\n".join(f"token{i}" for i in range(1000)).encode()       # 8 kB
    bad = _rewrite(DATA / "text_int.keras", tmp_path / "e.keras", {vocab: big})
    monkeypatch.setattr(safety, "MAX_TEXT_MEMBER_BYTES", 6000)        # the config: 4 kB
    with pytest.raises(safety.UnsafeFileError, match="vocabulary.txt declares [0-9,]+ bytes; "
                                                     "a vocabulary is at most"):
        keras.models.load_model(bad)


@pytest.mark.parametrize("make", [
    lambda: L.StringLookup(output_mode="multi_hot", sparse=True),
    lambda: L.IntegerLookup(output_mode="count", sparse=True),
    lambda: L.TextVectorization(output_mode="multi_hot", sparse=True)])
def test_sparse_outputs_are_refused_as_keras_on_jax_does(make):
    with pytest.raises(ValueError, match="`sparse=True` can only be used with Keras's "
                                         "TensorFlow backend"):
        make()


def test_ragged_is_refused_as_keras_on_jax_does():
    with pytest.raises(ValueError, match="`ragged=True` can only be used"):
        L.TextVectorization(ragged=True)


def test_tf_idf_weights_are_written_where_keras_reads_them(tmp_path):
    """Keras's load reads vars/idf_weights of a tf_idf layer (and of a
    TextVectorization's "_lookup_layer") whatever the config holds."""
    tv = L.TextVectorization(max_tokens=30, output_mode="tf_idf", pad_to_max_tokens=True)
    tv.adapt(GOLD["texts"])
    inp = keras.Input((1,), dtype="string")
    model = keras.Model(inp, tv(inp))
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    expected = tv._lookup_layer._idf
    for group, name in [("layers/text_vectorization/vars", tv.name),
                        ("layers/text_vectorization/_lookup_layer/vars", tv._lookup_layer.name)]:
        idf = f[group]["idf_weights"][()]
        assert f[group].attrs["name"] == name
        assert idf.shape == (30,)                       # padded to max_tokens, as Keras
        np.testing.assert_array_equal(idf[:expected.size], expected)
        assert not idf[expected.size:].any()
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(again.predict(GOLD["texts"], verbose=0),
                                  model.predict(GOLD["texts"], verbose=0))
