"""Writes masked_loss.npz: Keras 3.15.1 on TensorFlow 2.21 — the loss and
metrics of a sequence model whose output carries a mask (Embedding with
mask_zero), and the weights after one SGD step.

Run with keras and tensorflow installed: python make_fixture.py
"""
import os
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np
import keras

rng = np.random.default_rng(0)
x = rng.integers(1, 20, (8, 6))
for i, n in enumerate([6, 4, 2, 5, 1, 6, 3, 0]):
    x[i, n:] = 0                      # padding at the end; the last row is all padding
y = rng.integers(0, 3, (8, 6))


def model():
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((6,), dtype="int32"),
                          keras.layers.Embedding(20, 4, mask_zero=True),
                          keras.layers.SimpleRNN(5, return_sequences=True),
                          keras.layers.Dense(3, activation="softmax")])
    m.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


m = model()
weights = [w.numpy() for w in m.weights]
loss, acc = m.evaluate(x, y, verbose=0)
# (with sample_weight of shape (8,) this Keras fails: "Incompatible shapes: [8] vs. [8,6]")
m.train_on_batch(x, y)
after = [w.numpy() for w in m.weights]
here = os.path.dirname(os.path.abspath(__file__))
np.savez(os.path.join(here, "masked_loss.npz"), x=x, y=y, loss=loss, acc=acc, **{f"w{i}": w for i, w in enumerate(weights)},
         **{f"after{i}": w for i, w in enumerate(after)})
print(loss, acc)
