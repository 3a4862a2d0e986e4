"""ReversibleEmbedding: both call modes, gradients, a Keras language-model
file with one layer used both ways (outputs against Keras:
test_layers_more_keras_golden.py)."""
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers, ops
from ckeras.testing import check_layer_gradients

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "keras_layers_more")
rng = np.random.default_rng(3)


class _Reverse(layers.Layer):
    """The reverse call of a ReversibleEmbedding as a layer of its own, for
    check_layer_gradients (which calls forward without call keywords)."""

    def __init__(self, emb, **kwargs):
        super().__init__(**kwargs)
        self.emb = emb

    def call(self, x):
        return self.emb(x, reverse=True)


@pytest.mark.parametrize("kwargs", [{}, {"tie_weights": False},
                                    {"tie_weights": False, "logit_soft_cap": 1.5},
                                    {"logit_soft_cap": 0.5}])
def test_reverse_gradients(kwargs):
    emb = layers.ReversibleEmbedding(7, 3, embeddings_initializer="random_normal", **kwargs)
    emb.build()
    assert [w.name for w in emb.weights] == (
        ["embeddings"] + ([] if kwargs.get("tie_weights", True) else ["reverse_embeddings"]))
    check_layer_gradients(_Reverse(emb), rng.standard_normal((2, 4, 3)))


def test_both_modes_and_shapes():
    emb = layers.ReversibleEmbedding(9, 4, mask_zero=True)
    ids = np.array([[1, 0, 3]])
    h = emb(ids)
    assert np.shape(h) == (1, 3, 4)
    logits = emb(h, reverse=True)
    np.testing.assert_allclose(logits, np.asarray(h) @ emb.embeddings.numpy().T, rtol=1e-6)
    assert emb.compute_output_shape((None, 3, 4), reverse=True) == (None, 3, 9)
    assert emb.compute_output_shape((None, 3)) == (None, 3, 4)
    assert emb.compute_mask(ids, reverse=True) is None
    np.testing.assert_array_equal(emb.compute_mask(ids), ids != 0)
    with pytest.raises(ValueError, match="reverse=True needs inputs whose last axis is "
                                         "output_dim=4"):
        emb(np.zeros((1, 5), np.float32), reverse=True)


def test_a_tied_language_model_trains_and_round_trips(tmp_path):
    ids = keras.Input((5,), dtype="int32")
    emb = layers.ReversibleEmbedding(12, 6)
    h = layers.Dense(6, activation="tanh")(emb(ids))
    model = keras.Model(ids, emb(h, reverse=True))
    assert model.output_shape == (None, 5, 12)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = rng.integers(0, 12, (32, 5))
    before = model.evaluate(x, x, verbose=0)
    model.fit(x, x, epochs=15, verbose=0)
    assert model.evaluate(x, x, verbose=0) < before
    path = str(tmp_path / "lm.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_keras_language_model_file():
    fix = np.load(os.path.join(DATA, "layers_more.npz"))
    model = keras.models.load_model(os.path.join(DATA, "reversible_lm.keras"))
    np.testing.assert_allclose(model.predict(fix["lm/x"], verbose=0), fix["lm/y"],
                               rtol=1e-5, atol=1e-6)


def test_reverse_on_a_tape_in_a_custom_layer():
    emb = layers.ReversibleEmbedding(5, 2)
    h = rng.standard_normal((3, 2)).astype(np.float32)
    emb.build()
    with keras.GradientTape() as tape:
        loss = ops.sum(emb(h, reverse=True))
    g = tape.gradient(loss, emb.trainable_weights)[0]
    np.testing.assert_allclose(g, np.tile(np.asarray(h).sum(0), (5, 1)), rtol=1e-5)


def test_unsupported_arguments():
    with pytest.raises(NotImplementedError, match="reverse_dtype='bfloat16'"):
        layers.ReversibleEmbedding(5, 2, reverse_dtype="bfloat16")
    with pytest.raises(NotImplementedError, match="sparse_grad"):
        layers.ReversibleEmbedding(5, 2, sparse_grad=True)
    with pytest.raises(ValueError, match="logit_soft_cap"):
        layers.ReversibleEmbedding(5, 2, logit_soft_cap=-1.0)
