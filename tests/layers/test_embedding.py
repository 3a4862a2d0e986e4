"""Embedding: gather/scatter-add against numpy, id checking, masks, config,
a text classifier that learns, and sparse-row SGD == dense SGD."""
import json

import numpy as np
import pytest

import ckeras as keras
from ckeras.layers.embedding import Embedding
from ckeras.layers.pooling import GlobalAveragePooling1D
from ckeras.optimizers import SGD, Adam
from ckeras.optimizers.sparse import sgd_update_rows
from ckeras.variables import RowSparseVariable
from ckeras.testing import numeric_gradient, to_float64


# ---- forward / backward ------------------------------------------------------

@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int16", "float32", "float64"])
def test_forward_is_table_rows(rng, dtype, ops_impl):
    layer = Embedding(40, 5)
    ids = rng.integers(0, 40, (3, 7)).astype(dtype)
    y = layer(ids)
    assert y.shape == (3, 7, 5) and y.dtype == np.float32
    np.testing.assert_array_equal(y, layer.embeddings.value[ids.astype(np.int64)])


def test_forward_any_rank(rng):
    layer = Embedding(10, 3)
    for shape in [(4,), (2, 3, 4), (2, 0)]:
        ids = rng.integers(0, 10, shape)
        y = layer(ids)
        assert y.shape == shape + (3,)
        np.testing.assert_array_equal(y, layer.embeddings.value[ids])
    assert layer.compute_output_shape((None, 2, 3)) == (None, 2, 3, 3)


def test_backward_is_add_at_with_repeats_and_id_zero(rng, ops_impl):
    layer = Embedding(12, 4)
    layer.build()
    ids = np.array([[0, 3, 3, 0, 11], [3, 0, 5, 5, 5]], dtype=np.int32)
    dy = rng.standard_normal((2, 5, 4)).astype(np.float32)
    _, backward = layer.forward(ids)
    assert backward(dy, need_dx=True) is None          # ids get no gradient
    expected = np.zeros((12, 4), np.float32)
    np.add.at(expected, ids.reshape(-1), dy.reshape(-1, 4))
    np.testing.assert_allclose(layer.embeddings.grad, expected, rtol=1e-6, atol=1e-6)
    # backward accumulates (a shared layer called twice sums)
    backward(dy)
    np.testing.assert_allclose(layer.embeddings.grad, 2 * expected, rtol=1e-6, atol=1e-6)


def test_chain_gradient_wrt_table_matches_finite_differences(rng):
    """Embedding(mask_zero) -> GlobalAveragePooling1D -> Dense, float64."""
    emb = Embedding(9, 3, mask_zero=True)
    pool = GlobalAveragePooling1D()
    dense = keras.layers.Dense(2, activation="tanh")
    emb.build()
    dense._maybe_build((None, 3))
    to_float64(emb)
    to_float64(dense)
    ids = np.array([[1, 4, 4, 0, 0], [0, 8, 2, 2, 7], [3, 3, 3, 3, 0]])
    r = rng.standard_normal((3, 2))

    def run():
        h, b1 = emb.forward(ids)
        mask = emb.compute_mask(ids)
        p, b2 = pool.forward(h, mask=mask)
        out, b3 = dense.forward(p)
        return float((out * r).sum()), (b1, b2, b3)

    emb.embeddings.grad = np.zeros_like(emb.embeddings.value)
    dense.kernel.grad = np.zeros_like(dense.kernel.value)
    dense.bias.grad = np.zeros_like(dense.bias.value)
    _, (b1, b2, b3) = run()
    b1(b2(b3(r)), need_dx=False)
    num = numeric_gradient(lambda: run()[0], emb.embeddings.value)
    np.testing.assert_allclose(emb.embeddings.grad, num, rtol=1e-6, atol=1e-8)
    assert np.abs(num[0]).max() == 0      # masked id 0 learns nothing
    assert np.abs(num[5]).max() == 0      # unused id


def test_trainable_false_leaves_grad_alone(rng):
    layer = Embedding(5, 2, trainable=False)
    layer.build()
    _, back = layer.forward(np.array([[1, 2]]))
    back(np.ones((1, 2, 2), np.float32))
    assert layer.trainable_weights == [] and not np.any(layer.embeddings.grad)


# ---- bad ids -------------------------------------------------------------------

@pytest.mark.parametrize("bad, dtype", [(-1, "int64"), (50, "int32"), (2**40, "int64"),
                                        (50, "float32"), (-3, "float64"),
                                        (2**63 + 5, "uint64"), (1e30, "float64")])
def test_out_of_range_id_names_layer_position_and_input_dim(bad, dtype, ops_impl):
    layer = Embedding(50, 4, name="words")
    ids = np.ones((5, 20), dtype=dtype)
    ids[3, 17] = bad
    with pytest.raises(ValueError) as err:
        layer(ids)
    msg = str(err.value)
    assert "'words'" in msg and "sample 3, step 17" in msg and "input_dim=50" in msg
    assert "tokenizer.vocab_size" in msg
    if dtype != "float64" or bad != 1e30:
        assert str(int(bad)) in msg


def test_error_raised_by_the_lookup_op_gets_the_same_message(monkeypatch, ops_impl):
    # Skip the layer's own pre-check so the op (kernel or numpy) finds the id.
    monkeypatch.setattr(Embedding, "_as_ids", lambda self, x: np.ascontiguousarray(x, np.int64))
    ids = np.zeros((4, 9), np.int64)
    ids[2, 6] = -7
    with pytest.raises(ValueError) as err:
        Embedding(30, 2, name="e")(ids)
    msg = str(err.value)
    assert "'e'" in msg and "-7" in msg and "sample 2, step 6" in msg and "input_dim=30" in msg


def test_nan_and_fractional_ids_are_refused():
    layer = Embedding(10, 2)
    with pytest.raises(ValueError, match="sample 1"):
        layer(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="not a whole number"):
        layer(np.array([[1.0, 2.5]]))
    with pytest.raises(TypeError, match="integer token ids"):
        layer(np.array([["a"]]))


def test_out_of_range_in_fit_and_predict_raises_cleanly():
    model = keras.Sequential([Embedding(10, 3), GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    x = np.ones((8, 6), np.int64)
    x[5, 2] = 10
    for call in (lambda: model.predict(x, verbose=0),
                 lambda: model.fit(x, np.ones(8), verbose=0, batch_size=4)):
        with pytest.raises(ValueError, match="step 2"):
            call()
    model.fit(np.ones((8, 6), np.int64), np.ones(8), verbose=0)   # still usable


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="input_dim"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim"):
        Embedding(10, 2.5)


# ---- masks, shapes, models --------------------------------------------------------

def test_compute_mask():
    ids = np.array([[3, 0, 1], [0, 0, 2]])
    assert Embedding(5, 2).compute_mask(ids) is None
    np.testing.assert_array_equal(Embedding(5, 2, mask_zero=True).compute_mask(ids), ids != 0)


def test_input_length_builds_sequential_with_int_input():
    model = keras.Sequential([Embedding(100, 8, input_length=12), GlobalAveragePooling1D()])
    assert model.built and model._input_layer.dtype == "int32"
    lines = []
    model.summary(print_fn=lines.append)
    assert "(None, 12, 8)" in lines[0] and "800" in lines[0]
    entry = model.get_config()["layers"][1]["config"]
    assert "input_length" not in entry and "batch_input_shape" not in entry


def test_lazy_sequential_and_functional_int_input(rng):
    ids = rng.integers(0, 30, (4, 6)).astype(np.int32)
    lazy = keras.Sequential([Embedding(30, 5), GlobalAveragePooling1D()])
    assert lazy.predict(ids, verbose=0).shape == (4, 5)
    inp = keras.Input(shape=(6,), dtype="int32")
    emb = Embedding(30, 5)
    out = GlobalAveragePooling1D()(emb(inp))
    assert out.shape == (None, 5)
    model = keras.Model(inp, out)
    np.testing.assert_allclose(model.predict(ids, verbose=0),
                               emb.embeddings.value[ids].mean(axis=1), rtol=1e-6)


def test_mask_flows_through_dense_to_pooling(rng):
    ids = np.array([[4, 2, 0, 0], [1, 0, 0, 0]])
    model = keras.Sequential([Embedding(6, 3, mask_zero=True), keras.layers.Dense(2),
                              GlobalAveragePooling1D()])
    out = model.predict(ids, verbose=0)
    emb, dense = model.layers[0], model.layers[1]
    h = emb.embeddings.value[ids] @ dense.kernel.value + dense.bias.value
    expected = np.stack([h[0, :2].mean(0), h[1, :1].mean(0)])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_text_classifier_learns_toy_problem(rng):
    # Positive texts contain token 1..4, negative ones 5..8; padded with 0.
    n, t = 256, 10
    y = rng.integers(0, 2, n)
    lengths = rng.integers(2, t + 1, n)
    x = np.zeros((n, t), np.int32)
    for i in range(n):        # test data only
        lo = 1 if y[i] else 5
        x[i, :lengths[i]] = rng.integers(lo, lo + 4, lengths[i])
    model = keras.Sequential([Embedding(10, 8, mask_zero=True), GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["accuracy"][-1] == 1.0


# ---- config -------------------------------------------------------------------------

def test_config_round_trip_and_keras_keys():
    layer = Embedding(7, 3, mask_zero=True, name="tok", embeddings_regularizer="l2",
                      input_length=4, sparse_grad=True)
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "input_dim", "output_dim",
                           "embeddings_initializer", "embeddings_regularizer",
                           "activity_regularizer", "embeddings_constraint", "mask_zero"}
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["embeddings_initializer"]["config"]["minval"] == -0.05
    json.dumps(config)
    clone = Embedding.from_config(config)
    assert clone.get_config() == config
    revived = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(revived, Embedding) and revived.mask_zero


def test_keras2_config_and_initial_weights():
    keras2 = {"name": "embedding", "trainable": False, "dtype": "float32",
              "batch_input_shape": [None, 100], "input_dim": 20, "output_dim": 4,
              "embeddings_initializer": {"class_name": "RandomUniform",
                                         "config": {"minval": -0.05, "maxval": 0.05,
                                                    "seed": None}},
              "embeddings_regularizer": None, "activity_regularizer": None,
              "embeddings_constraint": None, "mask_zero": False, "input_length": 100}
    layer = Embedding.from_config(keras2)
    assert layer._batch_input_shape == (None, 100) and not layer.trainable
    matrix = np.arange(80, dtype=np.float32).reshape(20, 4)
    for weights in (matrix, [matrix]):
        pre = Embedding(20, 4, weights=weights)
        np.testing.assert_array_equal(pre.embeddings.value, matrix)
    with pytest.raises(ValueError):
        Embedding(20, 4, weights=np.zeros((3, 4)))


def test_default_initializer_range():
    layer = Embedding(1000, 16)
    layer.build()
    w = layer.embeddings.value
    assert np.abs(w).max() <= 0.05 and w.std() > 0.02


# ---- sparse-row gradients -----------------------------------------------------------

class RowSGD(SGD):
    """SGD with the proposed one-line hook (see ckeras.optimizers.sparse)."""
    sparse_steps = 0

    def _update_step(self, index, value, grad, lr):
        if sgd_update_rows(self, index, value, grad, lr):
            self.sparse_steps += 1
            return
        super()._update_step(index, value, grad, lr)


def _twin_models(sparse, optimizer, vocab=5000, regularizer=None):
    keras.layers.layer.reset_names()
    model = keras.Sequential([
        Embedding(vocab, 6, mask_zero=True, sparse_grad=sparse,
                  embeddings_regularizer=regularizer),
        GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
    model.build((None, 12))
    init = np.random.default_rng(7)
    model.set_weights([init.uniform(-0.05, 0.05, (vocab, 6)).astype(np.float32),
                       init.normal(0, 0.3, (6, 1)).astype(np.float32),
                       np.zeros(1, np.float32)])
    model.compile(optimizer, "binary_crossentropy")
    return model


@pytest.mark.parametrize("opts", [{}, {"weight_decay": 0.01}, {"clipnorm": 0.01},
                                  {"momentum": 0.9}])
@pytest.mark.parametrize("vocab", [5000, 300])
def test_sparse_sgd_equals_dense_sgd(rng, opts, vocab, ops_impl):
    # 5000 rows: few touched, row-wise path; 300 rows: many, dense fallback.
    x = rng.integers(0, vocab, (64, 12))
    x[:, 9:] = 0
    y = rng.integers(0, 2, 64)
    dense = _twin_models(False, SGD(0.5, **opts), vocab)
    opt = RowSGD(0.5, **opts)
    sparse = _twin_models(True, opt, vocab)
    assert isinstance(sparse.layers[0].embeddings, RowSparseVariable)
    for _ in range(3):
        dense.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
        sparse.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(dense.get_weights(), sparse.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)
    emb = sparse.layers[0].embeddings
    np.testing.assert_array_equal(emb.sparse_rows, np.unique(x[-16:]))
    row_wise = opts in ({}, {"weight_decay": 0.01}) and vocab == 5000
    assert (opt.sparse_steps > 0) == row_wise   # clipnorm / momentum stay dense
    emb.zero_grad()
    assert not np.any(emb.grad) and emb.sparse_rows.size == 0


def test_sparse_rows_off_with_regularizer_and_shared_layer(rng):
    y = rng.integers(0, 2, 32)
    dense = _twin_models(False, SGD(0.3), regularizer="l2")
    sparse = _twin_models(True, RowSGD(0.3), regularizer="l2")
    x = rng.integers(1, 5000, (32, 12))
    for m in (dense, sparse):
        m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert sparse.layers[0].embeddings.sparse_rows is None
    for a, b in zip(dense.get_weights(), sparse.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)

    # A layer called twice in one step (shared): the recorded rows are the union.
    emb = Embedding(50, 3, sparse_grad=True)
    emb.build()
    emb.embeddings.zero_grad()
    xa, xb = np.array([[1, 2, 2, 3]]), np.array([[40, 41, 1, 1]])
    (_, back_a), (_, back_b) = emb.forward(xa), emb.forward(xb)
    back_b(np.ones((1, 4, 3), np.float32))
    back_a(np.ones((1, 4, 3), np.float32))
    np.testing.assert_array_equal(emb.embeddings.sparse_rows, [1, 2, 3, 40, 41])
    expected = np.zeros((50, 3), np.float32)
    np.add.at(expected, np.r_[xa.ravel(), xb.ravel()], 1.0)
    np.testing.assert_array_equal(emb.embeddings.grad, expected)
    emb.embeddings.zero_grad()
    assert not np.any(emb.embeddings.grad) and emb.embeddings.sparse_rows.size == 0


def test_sparse_grad_toggle_after_build_and_grad_reassignment():
    layer = Embedding(20, 2)
    layer.build()
    before = layer.embeddings.value
    layer.sparse_grad = True
    var = layer.embeddings
    assert isinstance(var, RowSparseVariable) and var.value is before
    assert layer.weights == [var]
    var.zero_grad()
    _, back = layer.forward(np.array([[3, 3, 7]]))
    back(np.ones((1, 3, 2), np.float32))
    np.testing.assert_array_equal(var.sparse_rows, [3, 7])
    var.grad = np.zeros((20, 2), np.float32)       # a new buffer: unknown again
    assert var.sparse_rows is None
