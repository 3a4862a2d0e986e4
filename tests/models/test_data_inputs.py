"""fit/evaluate/predict take what Keras scripts pass: Python lists, pandas
DataFrames/Series, and object arrays holding numbers."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers


def model(inputs=3):
    m = keras.Sequential([keras.Input((inputs,)), layers.Dense(2, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def same_training(make_x, make_y, rng):
    """fit/evaluate/predict on converted inputs give what numpy arrays give."""
    x = rng.normal(size=(10, 3))
    y = rng.integers(0, 2, 10)
    results = []
    for xs, ys in ((x, y), (make_x(x), make_y(y))):
        keras.utils.set_random_seed(3)
        m = model()
        h = m.fit(xs, ys, epochs=2, batch_size=4, verbose=0, shuffle=False)
        results.append((h.history["loss"], m.evaluate(xs, ys, verbose=0),
                        m.predict(xs, verbose=0)))
    (l1, e1, p1), (l2, e2, p2) = results
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    np.testing.assert_allclose(e1, e2, rtol=1e-6)
    np.testing.assert_allclose(p1, p2, rtol=1e-6)


def test_python_lists(rng):
    same_training(lambda x: x.tolist(), lambda y: y.tolist(), rng)


def test_object_arrays_of_numbers(rng):
    # e.g. labels built from a DataFrame column of Python ints ("`y` has dtype object")
    same_training(lambda x: x.astype(object), lambda y: np.array(list(y), dtype=object), rng)


def test_pandas_frames_and_series(rng):
    pd = pytest.importorskip("pandas")
    same_training(lambda x: pd.DataFrame(x, columns=list("abc")), lambda y: pd.Series(y), rng)
    # mixed column dtypes (bool, int, float) become one object block in to_numpy()
    df = pd.DataFrame({"a": [True, False, True, False], "b": [1, 2, 3, 4],
                       "c": [0.5, 0.1, 0.2, 0.3]})
    model().fit(df, pd.Series([0, 1, 0, 1]), verbose=0)


def test_lists_per_input_for_multi_input_models(rng):
    a, b = keras.Input((2,)), keras.Input((1,))
    m = keras.Model([a, b], layers.Dense(1)(layers.Concatenate()([a, b])))
    m.compile("sgd", "mse")
    xa, xb = rng.normal(size=(5, 2)).tolist(), rng.normal(size=(5, 1)).tolist()
    m.fit([xa, xb], list(range(5)), verbose=0)
    assert m.predict([xa, xb], verbose=0).shape == (5, 1)


@pytest.mark.parametrize("bad,match", [
    ([[1, 2, 3], [1, 2]], "ragged"),
    (np.array([[1, None, 3]] * 4, dtype=object), "not numbers"),
    (np.array([["a", 1, 2]] * 4, dtype=object), "not numbers"),
    ([], "empty"),
])
def test_non_numeric_inputs_are_refused_clearly(bad, match):
    with pytest.raises(ValueError, match=match):
        model().fit(bad, [0] * max(len(bad), 1), verbose=0)
