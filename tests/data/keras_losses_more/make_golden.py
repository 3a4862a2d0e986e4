"""Writes golden.npz: Keras 3.15.1 on JAX — values and d(loss)/d(y_pred) of Dice,
Tversky, Circle, CategoricalGeneralizedCrossEntropy and CTC on small inputs.

Run: KERAS_BACKEND=jax /work/venvs/peers/bin/python make_golden.py
"""
import os
os.environ.setdefault("KERAS_BACKEND", "jax")
import jax
import numpy as np
import keras

rng = np.random.default_rng(0)
out = {}


def record(key, loss, y_true, y_pred, sample_weight=None, **inputs):
    """Store inputs, the loss value and the gradient of its sum w.r.t. y_pred."""
    yp = np.asarray(y_pred, np.float32)

    def f(p):
        return jax.numpy.sum(loss(y_true, p, sample_weight=sample_weight))
    out[key + "/y_true"] = np.asarray(y_true)
    out[key + "/y_pred"] = yp
    if sample_weight is not None:
        out[key + "/sample_weight"] = np.asarray(sample_weight, np.float32)
    out[key + "/value"] = np.asarray(loss(y_true, yp, sample_weight=sample_weight))
    out[key + "/grad"] = np.asarray(jax.grad(f)(yp))


seg_t = (rng.random((3, 4, 4, 2)) > 0.5).astype(np.float32)
seg_p = rng.random((3, 4, 4, 2)).astype(np.float32)
sw3 = np.array([0.5, 1.0, 2.0], np.float32)
record("dice_default", keras.losses.Dice(), seg_t, seg_p)
record("dice_axis", keras.losses.Dice(axis=(1, 2, 3), reduction=None), seg_t, seg_p)
record("dice_axis_sw", keras.losses.Dice(axis=(1, 2, 3)), seg_t, seg_p, sw3)
record("dice_axis_last", keras.losses.Dice(axis=-1, reduction="sum"), seg_t, seg_p)
record("dice_default_sw", keras.losses.Dice(), seg_t, seg_p, sw3)
record("tversky_default", keras.losses.Tversky(), seg_t, seg_p)
record("tversky_ab", keras.losses.Tversky(alpha=0.3, beta=0.7, axis=(1, 2)), seg_t, seg_p,
       sw3[:, None])
record("tversky_none", keras.losses.Tversky(alpha=0.8, beta=0.1, axis=(1, 2, 3),
                                            reduction="none"), seg_t, seg_p)

probs = rng.random((6, 4)).astype(np.float32) + 0.05
probs /= probs.sum(axis=1, keepdims=True)
labels = rng.integers(0, 4, 6)
sw6 = rng.random(6).astype(np.float32)
record("cgce_default", keras.losses.CategoricalGeneralizedCrossEntropy(), labels, probs)
record("cgce_q", keras.losses.CategoricalGeneralizedCrossEntropy(q=0.8, reduction="sum"),
       labels, probs, sw6)
record("cgce_none", keras.losses.CategoricalGeneralizedCrossEntropy(q=0.3, reduction=None),
       labels, probs)

emb = rng.normal(size=(8, 5)).astype(np.float32)
emb /= np.linalg.norm(emb, axis=1, keepdims=True)
cl = np.array([0, 1, 0, 2, 1, 0, 2, 3])
sw8 = rng.random(8).astype(np.float32)
record("circle_default", keras.losses.Circle(), cl, emb)
record("circle_args", keras.losses.Circle(gamma=10.0, margin=0.25, remove_diagonal=False,
                                          reduction=None), cl, emb)
record("circle_sw", keras.losses.Circle(gamma=5.0, reduction="mean_with_sample_weight"),
       cl, emb, sw8)
ref = rng.normal(size=(5, 5)).astype(np.float32)
ref /= np.linalg.norm(ref, axis=1, keepdims=True)
ref_labels = np.array([0, 1, 2, 3, 0])
out["circle_ref/ref_embeddings"] = ref
out["circle_ref/ref_labels"] = ref_labels
out["circle_ref/value"] = np.asarray(keras.losses.circle(
    cl, emb, ref_labels=ref_labels, ref_embeddings=ref, gamma=20.0, margin=0.3))

ctc_true = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [2, 0, 0, 0]])
ctc_logits = rng.normal(size=(3, 7, 4)).astype(np.float32)
record("ctc_default", keras.losses.CTC(), ctc_true, ctc_logits)
record("ctc_none", keras.losses.CTC(reduction=None), ctc_true, ctc_logits)
record("ctc_sw", keras.losses.CTC(reduction="sum"), ctc_true, ctc_logits, sw3)

np.savez_compressed(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.npz"),
                    **out)
print(len(out), "arrays")
