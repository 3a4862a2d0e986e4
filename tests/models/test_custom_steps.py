"""train_step / test_step overrides (Keras 3 style), GradientTape loops and
optimizer.apply / apply_gradients."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers, ops

RNG = np.random.default_rng(0)


def regression(n=64):
    x = RNG.standard_normal((n, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32"))


class CustomModel(keras.Model):
    """keras.io "Customizing what happens in fit()": compute_loss, the
    metrics loop, optimizer.apply; and a test_step."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.hidden = layers.Dense(8, activation="tanh")
        self.out = layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        self._loss_metric.update_state(loss)
        return self.compute_metrics(x, y, y_pred)


def test_train_step_override_with_compute_loss_and_metrics():
    x, y = regression()
    model = CustomModel()
    model.compile(keras.optimizers.Adam(0.02), "mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0, validation_data=(x, y))
    assert set(hist.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    ref = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    np.testing.assert_allclose(logs["loss"], ref, rtol=1e-4)
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]


def test_super_train_step_runs_the_builtin_step():
    class Wrapped(CustomModel):
        calls = 0

        def train_step(self, data):
            Wrapped.calls += 1
            return keras.Model.train_step(self, data)
    x, y = regression()
    model = Wrapped()
    model.compile("adam", "mse")
    hist = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert Wrapped.calls == 4 and "loss" in hist.history


class Sampling(layers.Layer):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=1)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


class VAE(keras.Model):
    """keras.io's VAE train_step, with the KL term through add_loss."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker]

    def call(self, x):
        z_mean, z_log_var, z = self.encoder(x)
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        self.add_loss(ops.mean(ops.sum(kl, axis=1)))
        return self.decoder(z)

    def train_step(self, data):
        with keras.GradientTape() as tape:
            reconstruction = self(data, training=True)
            reconstruction_loss = ops.mean(ops.sum(
                keras.losses.binary_crossentropy(data[..., None], reconstruction[..., None]),
                axis=1))
            total_loss = reconstruction_loss + ops.sum(self.losses)
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        return {m.name: m.result() for m in self.metrics}


def make_vae(latent=2):
    enc_in = keras.Input(shape=(8,))
    h = layers.Dense(16, activation="relu")(enc_in)
    z_mean = layers.Dense(latent, name="z_mean")(h)
    z_log_var = layers.Dense(latent, name="z_log_var")(h)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(enc_in, [z_mean, z_log_var, z], name="encoder")
    dec_in = keras.Input(shape=(latent,))
    out = layers.Dense(8, activation="sigmoid")(layers.Dense(16, activation="relu")(dec_in))
    return VAE(encoder, keras.Model(dec_in, out, name="decoder"))


def test_vae_train_step_with_add_loss_and_weights_reload(tmp_path):
    x = (RNG.uniform(0, 1, (256, 8)) > 0.5).astype("float32")
    x[:, 4:] = x[:, :4]          # learnable structure
    vae = make_vae()
    vae.compile(optimizer=keras.optimizers.Adam(0.01))
    hist = vae.fit(x, epochs=8, batch_size=32, verbose=0)
    assert set(hist.history) == {"total_loss", "reconstruction_loss"}
    assert vae.metrics_names == ["total_loss", "reconstruction_loss"]
    assert hist.history["total_loss"][-1] < hist.history["total_loss"][0]
    assert len(vae.losses) == 1
    path = str(tmp_path / "vae.weights.h5")
    vae.save_weights(path)
    other = make_vae()
    other(x[:1])
    other.load_weights(path)
    z_a = vae.encoder.predict(x[:5], verbose=0)[0]
    z_b = other.encoder.predict(x[:5], verbose=0)[0]
    np.testing.assert_allclose(z_a, z_b, rtol=1e-6)


def test_gradient_tape_loop_matches_fit_step():
    x, y = regression(32)

    def build():
        keras.utils.set_random_seed(3)
        return keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                                 layers.Dense(1)])
    a, b = build(), build()
    b.compile(keras.optimizers.SGD(0.1), "mse")
    b.train_on_batch(x, y)
    opt = keras.optimizers.SGD(0.1)
    loss_fn = keras.losses.MeanSquaredError()
    with keras.GradientTape() as tape:
        pred = a(x, training=True)
        loss = loss_fn(y, pred)
    grads = tape.gradient(loss, a.trainable_weights)
    assert all(g is not None and g.shape == w.shape for g, w in zip(grads, a.trainable_weights))
    opt.apply_gradients(zip(grads, a.trainable_weights))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)


def test_gradient_tape_loop_on_subclassed_model_trains_and_saves(tmp_path):
    x, y = regression(64)
    model = CustomModel()
    opt = keras.optimizers.Adam(0.05)
    losses = []
    for epoch in range(30):
        with keras.GradientTape() as tape:
            loss = ops.mean(ops.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply(grads, model.trainable_weights)
        losses.append(float(loss))
    assert losses[-1] < 0.3 * losses[0]
    path = str(tmp_path / "loop.weights.h5")
    model.save_weights(path)
    other = CustomModel()
    other.build((None, 4))
    other.load_weights(path)
    np.testing.assert_allclose(other(x), model(x), rtol=1e-6)


def test_optimizer_apply_argument_orders():
    from ckeras.variables import Variable
    w = Variable(np.ones(3, np.float32), "w")
    opt = keras.optimizers.SGD(0.5)
    opt.apply([np.ones(3, np.float32)], [w])               # Keras 3: (grads, variables)
    np.testing.assert_allclose(w.value, 0.5)
    w.grad[...] = 1.0
    opt.apply([w])                                          # ckeras: variables with .grad
    np.testing.assert_allclose(w.value, 0.0)
    opt.apply(grads=[np.ones(3, np.float32)], trainable_variables=[w])
    np.testing.assert_allclose(w.value, -0.5)


def test_fit_without_loss_needs_a_train_step():
    model = CustomModel.__mro__[1]()   # a bare keras.Model has no call
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        model.compile("adam")
        model.fit(np.zeros((4, 4)), np.zeros((4, 1)), verbose=0)


def test_functional_subclass_train_step_with_own_trackers():
    loss_fn = keras.losses.MeanSquaredError()
    loss_tracker = keras.metrics.Mean(name="loss")
    mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    class Custom(keras.Model):
        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = loss_fn(y, y_pred)
            trainable_vars = self.trainable_variables
            self.optimizer.apply(tape.gradient(loss, trainable_vars), trainable_vars)
            loss_tracker.update_state(loss)
            mae_metric.update_state(y, y_pred)
            return {"loss": loss_tracker.result(), "mae": mae_metric.result()}

        @property
        def metrics(self):
            return [loss_tracker, mae_metric]
    x, y = regression()
    inputs = keras.Input(shape=(4,))
    model = Custom(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    hist = model.fit(x, y, epochs=10, verbose=0)
    assert hist.history["loss"][-1] < 0.3 * hist.history["loss"][0]
    assert set(hist.history) == {"loss", "mae"}


def test_gan_two_optimizers_and_compile_override():
    latent = 3

    class GAN(keras.Model):
        def __init__(self, discriminator, generator):
            super().__init__()
            self.discriminator, self.generator = discriminator, generator
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def train_step(self, real):
            batch_size = ops.shape(real)[0]
            z = keras.random.normal((batch_size, latent), seed=self.seed_generator)
            fake = self.generator(z)
            combined = ops.concatenate([fake, real], axis=0)
            labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], 0)
            with keras.GradientTape() as tape:
                d_loss = self.loss_fn(labels, self.discriminator(combined))
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
            before = [w.numpy() for w in self.discriminator.weights]
            with keras.GradientTape() as tape:
                g_loss = self.loss_fn(ops.zeros((batch_size, 1)),
                                      self.discriminator(self.generator(z)))
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            assert all(g is not None for g in grads)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
            for b, w in zip(before, self.discriminator.weights):   # only G moved
                np.testing.assert_array_equal(b, w.numpy())
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}
    disc = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])
    gen = keras.Sequential([keras.Input((latent,)), layers.Dense(8, activation="relu"),
                            layers.Dense(4)])
    gan = GAN(disc, gen)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                keras.losses.BinaryCrossentropy())
    hist = gan.fit(RNG.standard_normal((64, 4)).astype("float32"), epochs=2, batch_size=16,
                   verbose=0)
    assert set(hist.history) == {"d_loss", "g_loss"}


def test_model_losses_include_weight_penalties_on_the_tape():
    x, y = regression(32)

    def build():
        keras.utils.set_random_seed(5)
        return keras.Sequential([keras.Input((4,)), layers.Dense(
            3, activation="tanh", kernel_regularizer=keras.regularizers.l2(0.1)),
            layers.Dense(1)])
    a, b = build(), build()
    assert len(a.losses) == 1
    b.compile(keras.optimizers.SGD(0.1), "mse")
    b.train_on_batch(x, y)
    with keras.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, a(x, training=True))
        loss += sum(a.losses)
    grads = tape.gradient(loss, a.trainable_weights)
    keras.optimizers.SGD(0.1).apply_gradients(zip(grads, a.trainable_weights))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)


def test_tf_keras2_train_step_with_compiled_loss_and_metrics():
    class Old(CustomModel):
        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}
    x, y = regression()
    model = Old()
    model.compile(keras.optimizers.Adam(0.02), "mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert set(hist.history) == {"loss", "mae"}
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_custom_train_step_under_mpi_strategy_is_a_clear_error():
    """MPIDataParallel reduces the built-in step's gradients only; a model
    with its own train_step must not silently train unsynchronised."""
    x, y = regression(16)
    model = CustomModel()
    model.compile(optimizer="sgd", loss="mse")
    model._distribution = object()     # what compile() attaches inside strategy.scope()
    with pytest.raises(NotImplementedError, match="overrides train_step"):
        model.fit(x, y, epochs=1, verbose=0)
