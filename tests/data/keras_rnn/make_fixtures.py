"""Generate the golden recurrent-model files in this folder with real Keras 3.

Run with a Python that has Keras 3 (any backend), from this folder:
    KERAS_BACKEND=jax python make_fixtures.py
Each model is saved as <name>.keras and <name>.h5, with <name>.npz holding
the inputs (x, or x0, x1, ...) and Keras's outputs (y, or y0, y1, ...). The
weights are random (biases included) so that layouts and gate orders matter.
"""
import os

import numpy as np

import keras
from keras import layers

rng = np.random.default_rng(2024)


def randomize(model):
    model.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype("float32")
                       for w in model.get_weights()])


def seq(n=4, t=6, d=3):
    return rng.standard_normal((n, t, d)).astype("float32")


def padded_ids(n=4, t=7, vocab=20):
    ids = rng.integers(1, vocab, (n, t))
    ids[0, :3] = 0            # pre-padding
    ids[1, 5:] = 0            # post-padding
    ids[2, 2] = 0             # a hole
    return ids.astype("int32")


def models():
    yield "gru_reset_after", keras.Sequential(
        [keras.Input((6, 3)), layers.GRU(4, return_sequences=True)]), [seq()]
    yield "gru_reset_before", keras.Sequential(
        [keras.Input((6, 3)), layers.GRU(4, reset_after=False, go_backwards=True)]), [seq()]
    yield "simple_rnn", keras.Sequential(
        [keras.Input((6, 3)), layers.SimpleRNN(5, return_sequences=True),
         layers.SimpleRNN(2, activation="relu")]), [seq()]
    yield "bidirectional", keras.Sequential(
        [keras.Input((6, 3)), layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
         layers.Bidirectional(layers.GRU(2), merge_mode="sum")]), [seq()]
    yield "time_distributed", keras.Sequential(
        [keras.Input((6, 3)), layers.LSTM(4, return_sequences=True),
         layers.TimeDistributed(layers.Dense(2, activation="softmax"))]), [seq()]
    yield "masked_lstm", keras.Sequential(
        [keras.Input((7,), dtype="int32"), layers.Embedding(20, 4, mask_zero=True),
         layers.LSTM(3, return_sequences=True), layers.LSTM(2)]), [padded_ids()]
    x = seq()
    x[0, :2] = -1.0
    x[3, 4:] = -1.0
    yield "masking_gru", keras.Sequential(
        [keras.Input((6, 3)), layers.Masking(-1.0), layers.GRU(3, return_sequences=True)]), [x]
    yield "repeat_permute", keras.Sequential(
        [keras.Input((6, 3)), layers.SimpleRNN(4), layers.RepeatVector(3),
         layers.Permute((2, 1)), layers.Dense(2)]), [seq()]
    enc_in, dec_in = keras.Input((None, 3)), keras.Input((None, 2))
    _, h, c = layers.LSTM(4, return_state=True)(enc_in)
    dec = layers.LSTM(4, return_sequences=True)(dec_in, initial_state=[h, c])
    out = layers.Dense(2)(dec)
    yield "seq2seq", keras.Model([enc_in, dec_in], out), [seq(), seq(4, 5, 2)]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, model, xs in models():
        randomize(model)
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        ys = ys if isinstance(ys, list) else [ys]
        model.save(os.path.join(here, name + ".keras"))
        model.save(os.path.join(here, name + ".h5"))
        arrays = {f"x{i}": x for i, x in enumerate(xs)}
        arrays.update({f"y{i}": y for i, y in enumerate(ys)})
        np.savez(os.path.join(here, name + ".npz"), **arrays)
        print(name, [y.shape for y in ys])


if __name__ == "__main__":
    main()
