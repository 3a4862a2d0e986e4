"""Patterns from public Keras scripts: tf.keras 2 backend layers, metrics and
losses written with K, functional use of custom layers."""
import numpy as np

import ckeras as keras
from ckeras import backend as K
from ckeras import layers


class Attention(layers.Layer):
    """The tf.keras 2 attention layer many text scripts copy."""

    def __init__(self, **kwargs):
        super(Attention, self).__init__(**kwargs)

    def build(self, input_shape):
        self.W = self.add_weight(name="att_weight", shape=(input_shape[-1], 1),
                                 initializer="normal")
        self.b = self.add_weight(name="att_bias", shape=(input_shape[1], 1),
                                 initializer="zeros")
        super(Attention, self).build(input_shape)

    def call(self, x):
        et = K.squeeze(K.tanh(K.dot(x, self.W) + self.b), axis=-1)
        at = K.softmax(et)
        at = K.expand_dims(at, axis=-1)
        return K.sum(x * at, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def recall_m(y_true, y_pred):
    true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
    possible_positives = K.sum(K.round(K.clip(y_true, 0, 1)))
    return true_positives / (possible_positives + K.epsilon())


def focal_loss(gamma=2.0, alpha=0.25):
    def loss(y_true, y_pred):
        y_pred = K.clip(y_pred, K.epsilon(), 1.0 - K.epsilon())
        pt = y_true * y_pred + (1 - y_true) * (1 - y_pred)
        return -K.mean(alpha * K.pow(1.0 - pt, gamma) * K.log(pt), axis=-1)
    return loss


def test_attention_model_with_k_metric_and_focal_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 6, 4)).astype("float32")
    y = (x[:, :, 0].mean(1) > 0).astype("float32")[:, None]
    inp = keras.Input((6, 4))
    h = layers.Dense(8, activation="tanh")(inp)
    out = layers.Dense(1, activation="sigmoid")(Attention()(h))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(0.02), loss=focal_loss(), metrics=[recall_m, "accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.7
    assert {"recall_m", "accuracy", "loss"} <= set(hist.history)
