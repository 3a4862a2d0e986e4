"""Bad-input sweep of the public API: clear errors, never a crash or a lost file."""
import os
import subprocess
import tempfile
import sys
import zipfile

import numpy as np
import pytest

import ckeras as keras

L = keras.layers
X = np.random.RandomState(0).rand(8, 4).astype("float32")
Y = np.arange(8) % 3


def clf():
    m = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="softmax", name="d")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m


def fit(m, x, y, **kw):
    return m.fit(x, y, verbose=0, **kw)


# --- data given to fit/predict/evaluate ---------------------------------------------------

@pytest.mark.parametrize("x, words", [
    (np.ones((8, 4, 2)), ["'d'", "(None, 4)", "(8, 4, 2)"]),
    (np.ones((8, 5)), ["'d'", "(None, 4)", "(8, 5)"]),
])
def test_wrong_input_shape(x, words):
    for call in (lambda m: fit(m, x, Y), lambda m: m.predict(x, verbose=0),
                 lambda m: m.evaluate(x, Y, verbose=0)):
        with pytest.raises(ValueError) as e:
            call(clf())
        assert all(w in str(e.value) for w in words)


def test_length_mismatch_and_empty():
    with pytest.raises(ValueError, match=r"x sizes \[8\], y sizes \[5\]"):
        fit(clf(), X, Y[:5])
    with pytest.raises(ValueError, match="0 samples"):
        fit(clf(), np.zeros((0, 4)), np.zeros(0))


def test_string_object_and_ragged_inputs():
    with pytest.raises(ValueError, match="strings.*tokenize"):
        fit(clf(), np.array([["a"] * 4] * 8), Y)
    with pytest.raises(ValueError, match="pad_sequences|np.asarray"):
        fit(clf(), [[1, 2], [1, 2, 3]], [0, 1])


def test_nan_input_trains_without_crash():
    # Keras trains on NaN silently; TerminateOnNaN is the remedy.
    h = fit(clf(), X * np.nan, Y, epochs=2, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1


@pytest.mark.parametrize("y, words", [
    (Y + 5, ["out of range", "3 classes"]),
    (Y - 5, ["label -", "3 classes"]),
    (Y + 0.5, ["integer"]),
])
def test_sparse_cce_bad_labels(y, words):
    with pytest.raises(ValueError) as e:
        fit(clf(), X, y)
    assert all(w in str(e.value) for w in words)


def test_categorical_cce_wrong_onehot_width():
    m = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="softmax")])
    m.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError) as e:
        fit(m, X, np.eye(5)[Y])
    assert "5" in str(e.value) and "3" in str(e.value)


def test_bce_labels_outside_unit_interval_no_crash():
    m = keras.Sequential([keras.Input((4,)), L.Dense(1, activation="sigmoid")])
    m.compile("adam", "binary_crossentropy")
    fit(m, X, np.full((8, 1), 3.0))


@pytest.mark.parametrize("kw, words", [
    ({"batch_size": 0}, ["batch_size", "0"]),
    ({"batch_size": -1}, ["batch_size", "-1"]),
    ({"batch_size": 2.5}, ["batch_size", "2.5"]),
    ({"validation_split": 1.0}, ["validation_split=1.0"]),
    ({"validation_split": -0.1}, ["validation_split=-0.1"]),
    ({"validation_data": (np.ones((3, 5)), Y[:3])}, ["'d'", "(3, 5)"]),
])
def test_bad_fit_arguments(kw, words):
    with pytest.raises(ValueError) as e:
        fit(clf(), X, Y, **kw)
    assert all(w in str(e.value) for w in words)


def test_fit_before_compile():
    m = keras.Sequential([keras.Input((4,)), L.Dense(3)])
    with pytest.raises(RuntimeError, match="compile"):
        fit(m, X, Y)


@pytest.mark.parametrize("kw, words", [
    ({"optimizer": "adamz"}, ["adamz", "adam", "sgd"]),
    ({"loss": "msez"}, ["msez", "binary_crossentropy"]),
])
def test_compile_unknown_names(kw, words):
    kw = {"optimizer": "adam", "loss": "mse", **kw}
    with pytest.raises(ValueError) as e:
        keras.Sequential([keras.Input((4,)), L.Dense(3)]).compile(**kw)
    assert all(w in str(e.value) for w in words)


def test_unknown_metric_named_with_choices():
    m = keras.Sequential([keras.Input((4,)), L.Dense(3)])
    m.compile("adam", "mse", metrics=["accz"])
    with pytest.raises(ValueError) as e:
        fit(m, X, np.ones((8, 3)))
    assert "accz" in str(e.value) and "accuracy" in str(e.value)


def test_dict_inputs_wrong_keys():
    a = keras.Input((4,), name="a")
    m = keras.Model(a, L.Dense(1)(a))
    m.compile("adam", "mse")
    with pytest.raises(ValueError) as e:
        fit(m, {"b": X}, np.ones((8, 1)))
    assert "'a'" in str(e.value)


def test_loss_dict_unknown_output():
    a = keras.Input((4,))
    m = keras.Model(a, L.Dense(1, name="out")(a))
    with pytest.raises(ValueError) as e:
        m.compile("adam", {"nope": "mse"})
        fit(m, X, np.ones((8, 1)))
    assert "nope" in str(e.value)


# --- layers -------------------------------------------------------------------------------

@pytest.mark.parametrize("make, words", [
    (lambda: L.Dense(-1), ["Dense", "units", "-1"]),
    (lambda: L.Dense("a"), ["Dense", "units", "'a'"]),
    (lambda: L.Dense(2.5), ["Dense", "units", "2.5"]),
    (lambda: L.Dropout(1.0), ["Dropout", "rate", "1.0"]),
    (lambda: L.Dropout(-0.1), ["Dropout", "rate", "-0.1"]),
])
def test_bad_constructor_args(make, words):
    with pytest.raises(ValueError) as e:
        make()
    assert all(w in str(e.value) for w in words)


@pytest.mark.parametrize("ids, words", [
    ([[1, 12]], ["id 12", "sample 0, step 1", "input_dim=10", "vocab"]),
    ([[1, -1]], ["id -1", "input_dim=10"]),
    ([[1, 1.5]], ["integer", "1.5"]),
    (np.array([[1, 2 ** 40]], np.int64), [str(2 ** 40), "input_dim=10"]),
])
def test_embedding_bad_ids(ids, words):
    with pytest.raises(ValueError) as e:
        L.Embedding(10, 2)(np.array(ids))
    assert all(w in str(e.value) for w in words)


@pytest.mark.parametrize("call, words", [
    (lambda: L.Conv2D(2, 3)(np.ones((2, 5, 5), "f4")), ["Conv2D", "ndim=4", "ndim=3"]),
    (lambda: L.Conv2D(2, 7)(np.ones((2, 5, 5, 1), "f4")), ["Conv2D", "kernel_size=(7, 7)"]),
    (lambda: L.Reshape((7,))(np.ones((2, 6), "f4")), ["reshape", "(7,)", "(2, 6)"]),
    (lambda: L.Concatenate()([np.ones((2, 3, 4), "f4"), np.ones((2, 5, 3), "f4")]),
     ["Concatenate", "(None, 3, 4)", "(None, 5, 3)"]),
    (lambda: L.LSTM(3)(np.ones((2, 4), "f4")), ["LSTM", "ndim=3", "ndim=2"]),
    (lambda: L.BatchNormalization(axis=5)(np.ones((2, 4), "f4")), ["BatchNormalization", "axis 5"]),
])
def test_layer_bad_inputs(call, words):
    with pytest.raises(ValueError) as e:
        call()
    assert all(w in str(e.value) for w in words)


def test_set_weights_and_reuse():
    d = L.Dense(3, name="dd")
    d.build((None, 4))
    with pytest.raises(ValueError, match=r"'dd'.*2 weights.*got 1"):
        d.set_weights([np.ones((4, 3))])
    with pytest.raises(ValueError, match=r"'dd'.*kernel.*\(4, 3\).*\(4, 2\)"):
        d.set_weights([np.ones((4, 2)), np.ones(3)])
    with pytest.raises(ValueError, match=r"'dd'.*value 4.*\(2, 5\)"):
        d(np.ones((2, 5), "f4"))


# --- preprocessing ------------------------------------------------------------------------

def test_preprocessing_bad_args():
    from ckeras.preprocessing.sequence import pad_sequences
    from ckeras.preprocessing.text import Tokenizer
    with pytest.raises(ValueError, match="mid"):
        pad_sequences([[1, 2]], padding="mid")
    with pytest.raises(ValueError, match="mid"):
        pad_sequences([[1, 2]], truncating="mid")
    with pytest.raises(ValueError, match="maxlen.*-1"):
        pad_sequences([[1, 2]], maxlen=-1)
    with pytest.raises(TypeError, match="int.*index 0"):
        Tokenizer().fit_on_texts([1, 2])
    with pytest.raises(IndexError, match="label 5 is out of range"):  # IndexError, as Keras
        keras.utils.to_categorical([0, 5], 3)


# --- saving -------------------------------------------------------------------------------

def small_model():
    m = keras.Sequential([keras.Input((4,)), L.Dense(2, name="d")])
    m.compile("adam", "mse")
    return m


@pytest.mark.parametrize("kind", ["dir", "txt", "empty_h5", "truncated_h5", "no_config_keras"])
def test_load_model_bad_files(tmp_path, kind):
    if kind == "dir":
        p = tmp_path
    elif kind == "txt":
        p = tmp_path / "m.txt"
        p.write_text("hello")
    elif kind == "empty_h5":
        p = tmp_path / "m.h5"
        p.write_bytes(b"")
    elif kind == "truncated_h5":
        small_model().save(tmp_path / "full.h5")
        p = tmp_path / "m.h5"
        p.write_bytes((tmp_path / "full.h5").read_bytes()[:600])
    else:
        p = tmp_path / "m.keras"
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("metadata.json", "{}")
    with pytest.raises((ValueError, OSError)) as e:
        keras.models.load_model(str(p))
    assert str(p.name) in str(e.value) or str(p) in str(e.value)


def test_load_h5_missing_weight_dataset(tmp_path):
    import h5py
    p = tmp_path / "m.h5"
    small_model().save(p)
    with h5py.File(p, "r+") as f:
        names = []
        f["model_weights"].visititems(lambda n, o: names.append(n) if hasattr(o, "dtype") else None)
        del f["model_weights"][names[0]]
    with pytest.raises((ValueError, KeyError, OSError)) as e:
        keras.models.load_model(str(p))
    assert "'d'" in str(e.value) and "missing" in str(e.value)


def test_save_bad_directories(tmp_path):
    m = small_model()
    m.save(tmp_path / "nope" / "m.keras")  # by design the saver creates parent folders
    assert (tmp_path / "nope" / "m.keras").stat().st_size > 0
    ro = tmp_path / "ro"
    ro.mkdir()
    target = ro / "m.keras"
    m.save(target)
    before = target.read_bytes()
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: directory permissions are not enforced")
        with pytest.raises(OSError):
            m.save(target)
        assert target.read_bytes() == before
        assert sorted(os.listdir(ro)) == ["m.keras"]
    finally:
        os.chmod(ro, 0o700)


# --- kernels fed bad indices/shapes must not kill the interpreter -------------------------

RISKY = r"""
import numpy as np, ckeras as keras
L = keras.layers
def attempt(f):
    try: f()
    except Exception: pass
attempt(lambda: L.Embedding(10, 2)(np.array([[2**62, -2**62]], np.int64)))
attempt(lambda: L.Embedding(10, 2)(np.array([[2**31 + 3]], np.int64)))
attempt(lambda: L.Embedding(10, 2)(np.array([[1e30, np.nan]])))
attempt(lambda: L.Dense(3)(np.ones((0, 4), 'f4')))
attempt(lambda: L.Conv2D(2, 3)(np.ones((1, 2, 2, 1), 'f4')))
attempt(lambda: L.LSTM(2)(np.ones((1, 0, 3), 'f4')))
m = keras.Sequential([keras.Input((4,)), L.Dense(3, activation='softmax')])
m.compile('adam', 'sparse_categorical_crossentropy')
attempt(lambda: m.fit(np.ones((4, 4)), np.array([0, 1, 2**40, -2**40]), verbose=0))
attempt(lambda: m.fit(np.ones((4, 4)) * np.inf, np.array([0, 1, 2, 0]), verbose=0))
print('survived')
"""


def test_risky_kernels_do_not_crash_interpreter():
    # the ckeras under test; cwd elsewhere so a checkout's uncompiled tree cannot shadow it
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(keras.__file__)))
    r = subprocess.run([sys.executable, "-c", RISKY], capture_output=True, text=True,
                       timeout=60, env=env, cwd=tempfile.gettempdir())
    assert r.returncode >= 0, r.stderr[-2000:]
    assert "survived" in r.stdout, r.stderr[-2000:]


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    # Root ignores directory permissions, so simulate the failing final rename instead.
    m = small_model()
    target = tmp_path / "m.keras"
    m.save(target)
    before = target.read_bytes()

    def refuse(*a, **k):
        raise PermissionError("read-only directory")
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        m.save(target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]
    keras.models.load_model(str(target))


# --- issue 16: each misuse names the argument, expected vs got ---------------------------

@pytest.mark.parametrize("kw, exc, words", [
    ({"validation_split": 1.5}, ValueError, ["validation_split", "[0, 1)", "1.5"]),
    ({"validation_split": "0.2"}, TypeError, ["validation_split", "str"]),
    ({"epochs": -1}, ValueError, ["epochs", ">= 0", "-1"]),
    ({"epochs": 2.5}, TypeError, ["epochs", "integer", "2.5"]),
    ({"initial_epoch": -2}, ValueError, ["initial_epoch", "-2"]),
    ({"steps_per_epoch": 0}, ValueError, ["steps_per_epoch", ">= 1", "0"]),
    ({"steps_per_epoch": -3}, ValueError, ["steps_per_epoch", "-3"]),
    ({"validation_data": (X, Y), "validation_steps": 0}, ValueError, ["validation_steps", "0"]),
    ({"validation_freq": 0}, ValueError, ["validation_freq", "0"]),
    ({"class_weight": {-1: 1.0}}, ValueError, ["class_weight", ">= 0", "-1"]),
    ({"class_weight": {"a": 1.0}}, TypeError, ["class_weight", "integer", "'a'"]),
    ({"class_weight": {0: 1.0, 7: 2.0}}, ValueError, ["class_weight", "key 7", "3 classes"]),
    ({"class_weight": [1.0, 2.0, 3.0]}, TypeError, ["class_weight", "dict", "list"]),
    ({"class_weight": {0: "heavy"}}, TypeError, ["class_weight[0]", "number", "'heavy'"]),
    ({"class_weight": {0: -1.0}}, ValueError, ["class_weight[0]", ">= 0"]),
    ({"sample_weight": np.ones(5)}, ValueError, ["sample_weight", "5", "8"]),
    ({"sample_weight": np.ones(5), "class_weight": {0: 2.0}}, ValueError,
     ["sample_weight", "(5,)", "8 samples"]),
    ({"sample_weight": np.ones((8, 3))}, ValueError, ["sample_weight", "(8,)", "(8, 3)"]),
    ({"sample_weight": 2.0}, ValueError, ["sample_weight", "scalar"]),
    ({"callbacks": keras.callbacks.History()}, TypeError, ["callbacks", "list", "History"]),
    ({"callbacks": "early"}, TypeError, ["callbacks", "list", "str"]),
])
def test_fit_argument_checks(kw, exc, words):
    with pytest.raises(exc) as e:
        fit(clf(), X, Y, **kw)
    msg = str(e.value)
    assert all(w in msg for w in words), msg
    assert "sample_scale" not in msg


def test_evaluate_and_predict_steps_and_callbacks():
    m = clf()
    for call in (lambda: m.evaluate(X, Y, steps=0, verbose=0),
                 lambda: m.predict(X, steps=-1, verbose=0)):
        with pytest.raises(ValueError, match="`steps` must be >= 1"):
            call()
    with pytest.raises(TypeError, match="`callbacks` must be a list"):
        m.evaluate(X, Y, callbacks=keras.callbacks.History(), verbose=0)
    with pytest.raises(TypeError, match="`callbacks` must be a list"):
        m.predict(X, callbacks=keras.callbacks.History(), verbose=0)


def test_complex_inputs_refused():
    for call in (lambda m: fit(m, X.astype(np.complex64), Y),
                 lambda m: m.predict(X.astype(np.complex128), verbose=0),
                 lambda m: m.evaluate(X.astype(np.complex64), Y, verbose=0)):
        with pytest.raises(TypeError, match="`x` has dtype complex.*real"):
            call(clf())
    with pytest.raises(TypeError, match="`y` has dtype complex"):
        fit(clf(), X, Y.astype(np.complex64))


def test_extra_targets_for_one_output_model():
    with pytest.raises(ValueError, match=r"y has 2 target arrays.*1 output"):
        fit(clf(), X, [Y, np.zeros(8)])
    with pytest.raises(ValueError, match=r"y has 2 target arrays"):
        clf().evaluate(X, [Y, Y], verbose=0)
    fit(clf(), X, [Y])          # a one-element list is fine


@pytest.mark.parametrize("make, exc, words", [
    (lambda: L.Dropout("0.5"), TypeError, ["Dropout", "rate", "'0.5'"]),
    (lambda: L.Dropout(1.0), ValueError, ["Dropout", "rate", "[0, 1)"]),
    (lambda: L.Dropout(-0.1), ValueError, ["Dropout", "rate"]),
    (lambda: L.LSTM(4, dropout=1.5), ValueError, ["dropout", "[0, 1]", "1.5"]),
    (lambda: L.LSTM(4, recurrent_dropout="x"), TypeError, ["recurrent_dropout", "'x'"]),
    (lambda: L.GRU(4, dropout=None), TypeError, ["dropout", "None"]),
    (lambda: keras.Input((-3,)), ValueError, ["shape", "negative", "-3"]),
    (lambda: keras.Input(shape=(4, -1)), ValueError, ["negative", "(None, 4, -1)"]),
    (lambda: keras.Input(shape=(4, "x")), TypeError, ["shape", "'x'"]),
    (lambda: keras.Input(batch_shape=(-2, 3)), ValueError, ["negative"]),
])
def test_layer_constructor_checks(make, exc, words):
    with pytest.raises(exc) as e:
        make()
    assert all(w in str(e.value) for w in words), str(e.value)


def test_preprocessing_issue16_checks():
    from ckeras.preprocessing.text import Tokenizer
    with pytest.warns(UserWarning, match="single string"):
        Tokenizer().fit_on_texts("hello world")
    with pytest.warns(UserWarning, match="single string"):
        Tokenizer().texts_to_sequences("hello")
    with pytest.raises(ValueError, match="`num_words` must be >= 0, got -3"):
        Tokenizer(num_words=-3)
    with pytest.raises(TypeError, match="`num_words` must be an integer"):
        Tokenizer(num_words=2.5)
    tc = keras.utils.to_categorical
    with pytest.raises(ValueError, match=">= 0, got -1"):
        tc([0, -1, 2], 3)
    with pytest.raises(ValueError, match="whole numbers.*1.5"):
        tc([0, 1.5, 2], 3)
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        tc([0, 3], 3)
    with pytest.raises(TypeError, match="integers"):
        tc(["a", "b"])
    np.testing.assert_array_equal(tc([0.0, 2.0], 3), [[1, 0, 0], [0, 0, 1]])
    pad = keras.utils.pad_sequences
    with pytest.raises(ValueError, match="`maxlen` must be a positive integer, got 0"):
        pad([[1, 2], [3]], maxlen=0)
    with pytest.raises(TypeError, match="`maxlen`.*float 2.5"):
        pad([[1, 2], [3]], maxlen=2.5)


# --- faults in user code leave the model usable ----------------------------------------------

class _Boom(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise RuntimeError("callback failed")


def _still_usable(m, tmp_path):
    before = m.get_weights()
    assert all(np.isfinite(w).all() for w in before)
    h = fit(m, X, Y, epochs=2, batch_size=4)
    assert len(h.history["loss"]) == 2 and np.isfinite(h.history["loss"]).all()
    assert np.isfinite(m.predict(X, verbose=0)).all()
    m.save(tmp_path / "after.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "after.keras")
                               .predict(X, verbose=0), m.predict(X, verbose=0), atol=1e-6)


def test_exception_in_callback_leaves_model_usable(tmp_path):
    m = clf()
    with pytest.raises(RuntimeError, match="callback failed"):
        fit(m, X, Y, batch_size=2, callbacks=[_Boom()])
    _still_usable(m, tmp_path)


def test_exception_in_generator_leaves_model_usable(tmp_path):
    def batches():
        yield X[:4], Y[:4]
        yield X[4:], Y[4:]
        raise OSError("data source went away")
    m = clf()
    with pytest.raises(OSError, match="went away"):
        m.fit(batches(), epochs=1, steps_per_epoch=3, verbose=0)
    _still_usable(m, tmp_path)
    m2 = clf()
    with pytest.raises(OSError, match="went away"):
        m2.predict(batches(), verbose=0)
    _still_usable(m2, tmp_path)
