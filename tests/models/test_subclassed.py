"""Subclassed models (``__init__`` + ``call``): build, fit/evaluate/predict,
summary, weights and whole-model saving."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers, ops


class MLP(keras.Model):
    def __init__(self, hidden=16, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.d1 = layers.Dense(hidden, activation="relu")
        self.drop = layers.Dropout(0.1)
        self.d2 = layers.Dense(1)

    def call(self, x, training=False):
        return self.d2(self.drop(self.d1(x), training=training))


class RecommenderNet(keras.Model):
    """keras.io's collaborative-filtering model (it raised "no attribute output_names")."""

    def __init__(self, num_users, num_movies, embedding_size, **kwargs):
        super().__init__(**kwargs)
        self.num_users = num_users
        self.num_movies = num_movies
        self.embedding_size = embedding_size
        self.user_embedding = layers.Embedding(
            num_users, embedding_size, embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6))
        self.user_bias = layers.Embedding(num_users, 1)
        self.movie_embedding = layers.Embedding(
            num_movies, embedding_size, embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6))
        self.movie_bias = layers.Embedding(num_movies, 1)

    def call(self, inputs):
        user_vector = self.user_embedding(inputs[:, 0])
        user_bias = self.user_bias(inputs[:, 0])
        movie_vector = self.movie_embedding(inputs[:, 1])
        movie_bias = self.movie_bias(inputs[:, 1])
        dot = ops.sum(user_vector * movie_vector, axis=1, keepdims=True)
        return ops.nn.sigmoid(dot + user_bias + movie_bias)


class TicketModel(keras.Model):
    """Dict inputs, its own weight, and a weight-sharing sub-layer list."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.towers = [layers.Dense(4, activation="tanh"), layers.Dense(4, activation="tanh")]
        self.head = layers.Dense(1)

    def build(self, input_shape):
        self.mix = self.add_weight(shape=(2,), initializer="ones", name="mix")

    def call(self, inputs):
        a = self.towers[0](inputs["title"]) * self.mix[0]
        b = self.towers[1](inputs["body"]) * self.mix[1]
        return self.head(ops.concatenate([a, b], axis=-1))


def regression(n=96, d=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    return x, (x[:, :1] * 2 - x[:, 1:2]).astype("float32")


def test_mlp_fit_evaluate_predict_summary(capsys):
    x, y = regression()
    model = MLP()
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0, validation_split=0.25)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert sorted(hist.history) == ["loss", "mae", "val_loss", "val_mae"]
    loss, mae = model.evaluate(x, y, verbose=0)
    assert loss < hist.history["loss"][0]
    out = model(x[:3])
    assert out.shape == (3, 1) and isinstance(out.numpy(), np.ndarray)
    np.testing.assert_allclose(out, model.predict(x[:3], verbose=0), rtol=1e-6)
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "mlp' in text and "Dense" in text and "Total params: " in text
    assert "(None, 16)" in text and "(None, 1)" in text      # shapes seen in the last call
    assert len(model.trainable_weights) == 4 and len(model.layers) == 3


def test_recommender_trains_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    x = np.stack([rng.integers(0, 20, 256), rng.integers(0, 30, 256)], 1)
    y = (x[:, 0] % 2).astype("float32")
    model = RecommenderNet(20, 30, 8)
    model.compile(loss=keras.losses.BinaryCrossentropy(),
                  optimizer=keras.optimizers.Adam(learning_rate=0.02))
    hist = model.fit(x, y, batch_size=64, epochs=10, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    path = str(tmp_path / "rec.keras")
    model.save(path)
    back = keras.models.load_model(path, custom_objects={"RecommenderNet": RecommenderNet})
    assert isinstance(back, RecommenderNet) and back.embedding_size == 8
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("ext", [".weights.h5", ".h5"])
def test_save_and_load_weights(tmp_path, ext):
    x, y = regression()
    model = MLP()
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / f"w{ext}")
    model.save_weights(path)
    other = MLP()
    other.build((None, 5))
    assert other.built and len(other.weights) == 4
    other.load_weights(path)
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_dict_inputs_own_weight_and_layer_list(tmp_path):
    rng = np.random.default_rng(1)
    x = {"title": rng.standard_normal((40, 3)).astype("float32"),
         "body": rng.standard_normal((40, 6)).astype("float32")}
    y = rng.standard_normal((40, 1)).astype("float32")
    model = TicketModel()
    model.compile("adam", "mse")
    before = model.count_params() if model.built else None
    model.fit(x, y, epochs=2, verbose=0)
    assert before is None
    names = [w.name for w in model.trainable_weights]
    assert names[0] == "mix" and len(names) == 7
    mix0 = model.mix.numpy()
    model.fit(x, y, epochs=2, verbose=0)
    assert not np.allclose(model.mix.numpy(), mix0)       # its own weight trains too
    assert model.predict(x, verbose=0).shape == (40, 1)


def test_nested_subclassed_model_in_functional():
    x, y = regression()
    inner = MLP(8)
    inp = keras.Input((5,))
    out = layers.Dense(1)(inner(inp))
    model = keras.Model(inp, out)
    model.compile("adam", "mse")
    w0 = inner.d1.kernel.numpy()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.allclose(inner.d1.kernel.numpy(), w0)


def test_subclassed_model_to_h5_is_refused_clearly(tmp_path):
    model = MLP()
    model.build((None, 5))
    with pytest.raises(NotImplementedError, match="subclassed"):
        model.save(str(tmp_path / "m.h5"))


def test_init_without_kwargs_and_call_returning_a_weight(tmp_path):
    class Plain(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(1)

        def call(self, x):
            return self.d(x)

    class ComputeSum(layers.Layer):           # keras.io: a non-trainable state weight
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,),
                                         trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total
    s = ComputeSum(2)
    s(np.ones((2, 2)))
    out = s(np.ones((2, 2)))
    np.testing.assert_allclose(out.numpy(), [4, 4])
    assert s.trainable_weights == [] and len(s.non_trainable_weights) == 1
    x, y = regression(16)
    model = Plain()
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "plain.keras")
    model.save(path)
    back = keras.models.load_model(path, custom_objects={"Plain": Plain})
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_multi_output_subclassed_models_list_and_dict():
    class TwoHeads(keras.Model):
        def __init__(self, as_dict=False, **kw):
            super().__init__(**kw)
            self.as_dict = as_dict
            self.body = layers.Dense(8, activation="relu")
            self.a, self.b = layers.Dense(1), layers.Dense(2)

        def call(self, x):
            h = self.body(x)
            if self.as_dict:
                return {"score": self.a(h), "pair": self.b(h)}
            return [self.a(h), self.b(h)]
    x, y = regression()
    y2 = np.concatenate([y, -y], axis=1)
    m = TwoHeads()
    m.compile(keras.optimizers.Adam(0.02), loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    hist = m.fit(x, [y, y2], epochs=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert {"output_0_loss", "output_1_loss"} <= set(hist.history)
    d = TwoHeads(as_dict=True)
    d.compile("adam", loss={"score": "mse", "pair": "mse"})
    hist = d.fit(x, {"score": y, "pair": y2}, epochs=3, verbose=0)
    assert {"score_loss", "pair_loss"} <= set(hist.history)
    out = d.predict(x[:4], verbose=0)
    assert sorted(out) == ["pair", "score"] and out["pair"].shape == (4, 2)
