"""Embedding's embeddings_regularizer / embeddings_constraint act in training."""
import numpy as np

import ckeras as keras
from ckeras import layers


def _model(**kw):
    model = keras.Sequential([keras.Input((4,), dtype="int32"),
                              layers.Embedding(10, 3, embeddings_initializer="ones", **kw),
                              layers.Flatten(), layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    return model


def test_regularizer_adds_penalty_to_loss():
    x = np.arange(8).reshape(2, 4) % 10
    y = np.zeros((2, 1), np.float32)
    plain = _model().train_on_batch(x, y)
    reg = _model(embeddings_regularizer=keras.regularizers.L2(0.01)).train_on_batch(x, y)
    plain = plain[0] if isinstance(plain, (list, tuple)) else plain
    reg = reg[0] if isinstance(reg, (list, tuple)) else reg
    np.testing.assert_allclose(reg - plain, 0.01 * 10 * 3, rtol=1e-5)


def test_constraint_applied_after_each_update():
    model = _model(embeddings_constraint=keras.constraints.MaxNorm(0.5, axis=1))
    x = np.arange(8).reshape(2, 4) % 10
    model.fit(x, np.ones((2, 1), np.float32), epochs=2, verbose=0)
    table = model.layers[0].get_weights()[0]
    assert np.all(np.linalg.norm(table, axis=1) <= 0.5 + 1e-6)
    cfg = model.layers[0].get_config()
    assert cfg["embeddings_constraint"]["class_name"] == "MaxNorm"
