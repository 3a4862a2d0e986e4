"""Data plumbing: class_weight / sample_weight losses against hand computation
(docs/spec/training_loop.md §1.2, §2), and generators / PyDataset in
fit / evaluate / predict with and without steps."""
import threading
import warnings

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.models.data import class_weight_to_sample_weight
from ckeras.utils.py_dataset import PyDataset, Sequence


# ---- helpers -------------------------------------------------------------------

def data(n=40, dim=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    y = rng.integers(0, classes, n)
    return x, y


def linear_model(dim=4, units=3, activation="softmax", seed=0):
    """A one-Dense model with fixed weights, so losses can be computed by hand."""
    model = keras.Sequential([keras.Input((dim,)), layers.Dense(units, activation=activation)])
    rng = np.random.default_rng(seed + 100)
    model.set_weights([rng.standard_normal((dim, units)).astype(np.float32) * 0.5,
                       rng.standard_normal(units).astype(np.float32) * 0.1])
    return model


def probs(model, x):
    k, b = model.get_weights()
    z = x.astype(np.float64) @ k.astype(np.float64) + b
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sparse_ce(model, x, y):
    p = probs(model, x)
    return -np.log(p[np.arange(len(y)), y])


def sgd0():
    return keras.optimizers.SGD(learning_rate=0.0)


# ---- sample_weight / class_weight ------------------------------------------------

def test_sample_weight_evaluate_is_sum_w_l_over_n():
    x, y = data()
    w = np.random.default_rng(1).uniform(0, 3, len(y)).astype(np.float32)
    model = linear_model()
    model.compile(sgd0(), "sparse_categorical_crossentropy")
    expected = float(np.sum(w * sparse_ce(model, x, y)) / len(y))
    not_expected = float(np.sum(w * sparse_ce(model, x, y)) / w.sum())
    for bs in (7, 40, 64):   # partial batches: the epoch value is still exact
        got = model.evaluate(x, y, sample_weight=w, batch_size=bs, verbose=0)
        assert got == pytest.approx(expected, rel=1e-5)
        assert got != pytest.approx(not_expected, rel=1e-3)
    # a (N, 1) column of weights means the same
    got = model.evaluate(x, y, sample_weight=w[:, None], batch_size=9, verbose=0)
    assert got == pytest.approx(expected, rel=1e-5)


def test_class_weight_sparse_labels_fit_lr0():
    x, y = data()
    cw = {0: 0.5, 1: 2.0, 2: 4.0}
    model = linear_model()
    before = model.get_weights()
    model.compile(sgd0(), "sparse_categorical_crossentropy")
    h = model.fit(x, y, class_weight=cw, batch_size=16, epochs=1, shuffle=False, verbose=0)
    cws = np.array([cw[int(c)] for c in y])
    expected = np.sum(cws * sparse_ce(model, x, y)) / len(y)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_class_weight_one_hot_uses_argmax_and_multiplies_sample_weight():
    x, y = data()
    onehot = np.eye(3, dtype=np.float32)[y]
    cw = {0: 1.0, 1: 3.0}           # class 2 missing -> weight 1
    sw = np.linspace(0.5, 2.0, len(y)).astype(np.float32)
    model = linear_model()
    model.compile(sgd0(), "categorical_crossentropy")
    h = model.fit(x, onehot, class_weight=cw, sample_weight=sw, batch_size=12,
                  epochs=1, verbose=0)
    cws = np.array([cw.get(int(c), 1.0) for c in y])
    expected = np.sum(cws * sw * sparse_ce(model, x, y)) / len(y)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_class_weight_binary_column_labels():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((30, 4)).astype(np.float32)
    y = (rng.random((30, 1)) > 0.5).astype(np.float32)
    model = linear_model(units=1, activation="sigmoid")
    model.compile(sgd0(), "binary_crossentropy")
    cw = {0: 1.0, 1: 5.0}
    h = model.fit(x, y, class_weight=cw, epochs=1, verbose=0)
    k, b = model.get_weights()
    p = 1 / (1 + np.exp(-(x.astype(np.float64) @ k + b)))
    l = -(y * np.log(p) + (1 - y) * np.log(1 - p))[:, 0]
    w = np.where(y[:, 0] > 0.5, 5.0, 1.0)
    assert h.history["loss"][0] == pytest.approx(np.sum(w * l) / 30, rel=1e-5)


def test_mse_sample_weight_and_zero_weights():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((25, 4)).astype(np.float32)
    y = rng.standard_normal((25, 2)).astype(np.float32)
    model = linear_model(units=2, activation=None)
    model.compile(sgd0(), "mse")
    w = np.zeros(25, np.float32)
    w[:5] = 2.0
    k, b = model.get_weights()
    pred = x.astype(np.float64) @ k + b
    per = ((pred - y) ** 2).mean(axis=1)
    got = model.evaluate(x, y, sample_weight=w, batch_size=4, verbose=0)
    assert got == pytest.approx(np.sum(w * per) / 25, rel=1e-5)


def test_metrics_ignore_weights_weighted_metrics_use_them():
    x, y = data(n=20)
    model = linear_model()
    model.compile(sgd0(), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["sparse_categorical_accuracy"])
    correct = probs(model, x).argmax(1) == y
    w = np.where(correct, 10.0, 1.0).astype(np.float32)
    logs = model.evaluate(x, y, sample_weight=w, return_dict=True, verbose=0)
    assert logs["accuracy"] == pytest.approx(correct.mean(), abs=1e-6)
    assert logs["sparse_categorical_accuracy"] == pytest.approx(
        np.sum(w * correct) / w.sum(), abs=1e-6)


def test_class_weight_to_sample_weight_rules():
    y = np.array([0, 2, 1, 2])
    np.testing.assert_allclose(class_weight_to_sample_weight({2: 3.0}, y, None), [1, 3, 1, 3])
    np.testing.assert_allclose(class_weight_to_sample_weight({1: 2.0}, y[:, None],
                                                             np.full((4, 1), 0.5)),
                               [0.5, 0.5, 1.0, 0.5])
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(class_weight_to_sample_weight({0: 4.0}, onehot, None),
                               [4, 1, 1, 1])
    # probabilities as labels round, as Keras does (0.9 -> class 1)
    np.testing.assert_allclose(class_weight_to_sample_weight({1: 2.0}, np.array([[0.9], [0.2]]),
                                                             None), [2, 1])


# ---- generators --------------------------------------------------------------------

def batches_of(x, y, size, sw=None):
    for i in range(0, len(x), size):
        if sw is None:
            yield x[i:i + size], y[i:i + size]
        else:
            yield x[i:i + size], y[i:i + size], sw[i:i + size]


def forever(x, y, size):
    while True:
        yield from batches_of(x, y, size)


class CountBatches(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.per_epoch = []

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.per_epoch[-1] += 1


def test_fit_generator_one_pass_matches_arrays():
    x, y = data()
    a, b = linear_model(), linear_model()
    for m in (a, b):
        m.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    ha = a.fit(x, y, batch_size=8, shuffle=False, epochs=1, verbose=0)
    hb = b.fit(batches_of(x, y, 8), epochs=1, verbose=0)
    assert hb.history["loss"][0] == pytest.approx(ha.history["loss"][0], rel=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)
    assert hb.params["steps"] is None


def test_fit_generator_with_sample_weights_and_class_weight():
    x, y = data()
    sw = np.linspace(0, 2, len(y)).astype(np.float32)
    cw = {1: 3.0}
    model = linear_model()
    model.compile(sgd0(), "sparse_categorical_crossentropy")
    h = model.fit(batches_of(x, y, 16, sw), class_weight=cw, verbose=0)
    cws = np.array([cw.get(int(c), 1.0) for c in y])
    expected = np.sum(cws * sw * sparse_ce(model, x, y)) / len(y)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_fit_infinite_generator_with_steps_per_epoch():
    x, y = data()
    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    count = CountBatches()
    h = model.fit(forever(x, y, 10), steps_per_epoch=3, epochs=4, verbose=0, callbacks=[count])
    assert count.per_epoch == [3, 3, 3, 3]
    assert h.params["steps"] == 3 and len(h.history["loss"]) == 4


def test_one_shot_generator_for_several_epochs_is_a_clear_error():
    x, y = data()
    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(batches_of(x, y, 10), epochs=2, verbose=0)
    with pytest.raises(ValueError, match="validation_steps"):
        model.fit(x, y, validation_data=batches_of(x, y, 10), epochs=2, verbose=0)


def test_generator_running_out_warns_and_stops_training():
    x, y = data()   # 4 batches of 10
    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    count = CountBatches()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = model.fit(batches_of(x, y, 10), steps_per_epoch=3, epochs=5, verbose=0,
                      callbacks=[count])
    assert count.per_epoch == [3, 1]
    assert len(h.history["loss"]) == 2


def test_reiterable_is_read_again_every_epoch():
    x, y = data()

    class Batches:
        def __iter__(self):
            return batches_of(x, y, 10)

    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    count = CountBatches()
    model.fit(Batches(), epochs=3, verbose=0, callbacks=[count])
    assert count.per_epoch == [4, 4, 4]


def test_arrays_with_steps_per_epoch_continue_across_epochs():
    x, y = data()   # batch 10 -> 4 batches
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    count = CountBatches()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, batch_size=10, steps_per_epoch=2, epochs=4, verbose=0, callbacks=[count])
    assert count.per_epoch == [2, 2, 2, 2]
    with pytest.warns(UserWarning, match="ran out of data"):
        model.fit(x, y, batch_size=10, steps_per_epoch=3, epochs=2, verbose=0, callbacks=[count])
    assert count.per_epoch == [3, 1]   # Keras: the epoch ends when the pass does


def test_evaluate_and_predict_generators_match_arrays():
    x, y = data()
    model = linear_model()
    model.compile(sgd0(), "sparse_categorical_crossentropy", metrics=["accuracy"])
    ref = model.evaluate(x, y, batch_size=10, verbose=0)
    got = model.evaluate(batches_of(x, y, 10), verbose=0)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    # steps: only the first batches
    first = model.evaluate(x[:20], y[:20], verbose=0)
    np.testing.assert_allclose(model.evaluate(forever(x, y, 10), steps=2, verbose=0),
                               first, rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=10, steps=2, verbose=0),
                               first, rtol=1e-6)
    p = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(batches_of(x, y, 10), verbose=0), p, rtol=1e-6)
    # bare arrays and 1-tuples are inputs
    np.testing.assert_allclose(model.predict((x[i:i + 7] for i in range(0, 40, 7)), verbose=0),
                               p, rtol=1e-6)
    np.testing.assert_allclose(model.predict(((x[i:i + 7],) for i in range(0, 40, 7)),
                                             verbose=0), p, rtol=1e-6)
    np.testing.assert_allclose(model.predict(forever(x, y, 10), steps=3, verbose=0), p[:30],
                               rtol=1e-6)


def test_tf_keras2_generator_methods_are_fit_evaluate_predict():
    x, y = data()
    a, b = linear_model(), linear_model()
    for m in (a, b):
        m.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    a.fit(forever(x, y, 10), steps_per_epoch=4, epochs=2, verbose=0, shuffle=False)
    hist = b.fit_generator(forever(x, y, 10), steps_per_epoch=4, epochs=2, verbose=0,
                           workers=4, use_multiprocessing=True, shuffle=False)
    assert sorted(hist.history) == ["accuracy", "loss"] and len(hist.history["loss"]) == 2
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_allclose(b.evaluate_generator(batches_of(x, y, 10), steps=4),
                               b.evaluate(x, y, batch_size=10, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(b.predict_generator(forever(x, y, 10), steps=4),
                               b.predict(x, verbose=0), rtol=1e-6)


def test_multi_input_generator_with_dict_and_list():
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    from ckeras.layers.merge import Concatenate
    out = layers.Dense(1)(Concatenate()([a, b]))
    model = keras.Model([a, b], out)
    model.compile(sgd0(), "mse")
    rng = np.random.default_rng(5)
    xa = rng.standard_normal((20, 3)).astype(np.float32)
    xb = rng.standard_normal((20, 2)).astype(np.float32)
    y = rng.standard_normal((20, 1)).astype(np.float32)
    ref = model.evaluate([xa, xb], y, verbose=0)
    as_dict = (({"a": xa[i:i + 5], "b": xb[i:i + 5]}, y[i:i + 5]) for i in range(0, 20, 5))
    as_list = (([xa[i:i + 5], xb[i:i + 5]], y[i:i + 5]) for i in range(0, 20, 5))
    assert model.evaluate(as_dict, verbose=0) == pytest.approx(ref, rel=1e-6)
    assert model.evaluate(as_list, verbose=0) == pytest.approx(ref, rel=1e-6)
    h = model.fit((([xa[i:i + 5], xb[i:i + 5]], y[i:i + 5]) for i in range(0, 20, 5)),
                  verbose=0)
    assert h.history["loss"][0] == pytest.approx(ref, rel=1e-6)


def test_generator_argument_errors():
    x, y = data()
    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="`y` should not be passed"):
        model.fit(batches_of(x, y, 10), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(batches_of(x, y, 10), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="needs targets"):
        model.fit((x[i:i + 10] for i in range(0, 40, 10)), verbose=0)
    with pytest.raises(ValueError, match="tuple"):
        model.fit(iter([(x[:5], y[:5], None, None)]), verbose=0)
    with pytest.raises(ValueError, match="batch size"):
        model.fit(iter([(x[:5], y[:4])]), verbose=0)
    with pytest.raises(ValueError, match="no batch"):
        model.fit(iter([]), verbose=0)


def test_validation_generator_with_validation_steps():
    x, y = data()
    model = linear_model()
    model.compile(sgd0(), "sparse_categorical_crossentropy")
    h = model.fit(x, y, validation_data=forever(x, y, 10), validation_steps=4, epochs=3,
                  verbose=0)
    ref = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"], [ref] * 3, rtol=1e-6)


def test_progress_bar_learns_unknown_length(capsys):
    x, y = data()

    class Batches:
        def __iter__(self):
            return batches_of(x, y, 10)

    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(Batches(), epochs=2, verbose=1)
    out = capsys.readouterr().out
    first, second = out.split("Epoch 2/2")
    assert "/Unknown" in first and "4/4" in first
    assert "/Unknown" not in second and "4/4" in second


# ---- PyDataset ---------------------------------------------------------------------

class ArraysDataset(PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0
        self.visited = []
        self._lock = threading.Lock()

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, idx):
        with self._lock:
            self.visited.append(idx)
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        return self.x[sl], self.y[sl]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_pydataset_fit_evaluate_predict():
    assert Sequence is PyDataset
    x, y = data()
    model = linear_model()
    model.compile(sgd0(), "sparse_categorical_crossentropy")
    ds = ArraysDataset(x, y, 10)
    count = CountBatches()
    h = model.fit(ds, epochs=3, verbose=0, callbacks=[count])
    assert count.per_epoch == [4, 4, 4] and h.params["steps"] == 4
    assert ds.epochs_ended == 3
    visited = ds.visited[1:]          # [0] was read up front to build the model
    assert sorted(visited) == sorted(list(range(4)) * 3)
    ref = model.evaluate(x, y, verbose=0)
    assert h.history["loss"] == pytest.approx([ref] * 3, rel=1e-6)
    assert model.evaluate(ArraysDataset(x, y, 7), verbose=0) == pytest.approx(ref, rel=1e-6)
    np.testing.assert_allclose(model.predict(ArraysDataset(x, y, 7), verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_pydataset_shuffle_false_and_steps_continue():
    x, y = data()
    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    ds = ArraysDataset(x, y, 5)        # 8 batches
    ds.visited.clear()
    model.fit(ds, steps_per_epoch=3, epochs=2, shuffle=False, verbose=0)
    assert ds.visited[1:] == [0, 1, 2, 3, 4, 5]
    assert ds.epochs_ended == 2


@pytest.mark.parametrize("multiprocessing", [False, True])
def test_pydataset_workers_keep_order(multiprocessing):
    x, y = data()
    model = linear_model()
    model.compile(sgd0(), "sparse_categorical_crossentropy")
    ds = ArraysDataset(x, y, 3, workers=3, use_multiprocessing=multiprocessing,
                       max_queue_size=4)
    np.testing.assert_allclose(model.predict(ds, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert model.evaluate(ds, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0),
                                                          rel=1e-6)


def test_pydataset_errors_and_warning():
    x, y = data()
    model = linear_model()
    model.compile("sgd", "sparse_categorical_crossentropy")

    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, i):
            return x[:4], y[:4]

    with pytest.raises(ValueError, match="endless"):
        model.fit(Endless(), verbose=0)
    h = model.fit(Endless(), steps_per_epoch=2, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2

    class NoSuper(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, i):
            return x, y

    with pytest.warns(UserWarning, match="super"):
        model.fit(NoSuper(), verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(ArraysDataset(x, y, 10), sample_weight=np.ones(40), verbose=0)
