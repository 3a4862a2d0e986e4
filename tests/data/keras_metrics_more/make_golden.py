"""Writes golden.npz and configs.json: Keras 3.15.1 on JAX — the IoU family,
the correlations, the "X at Y" threshold metrics and the focal/Huber metric
functions, each updated over three batches (with sample weights), then reset
and updated once more; result() after every update, and get_config().

Run: KERAS_BACKEND=jax /work/venvs/peers/bin/python make_golden.py
"""
import json
import os
os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import keras

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)
M = keras.metrics
out, configs = {}, {}


def batches(make, n=4):
    return [make() for _ in range(n)]


def run(key, metric, data):
    """data: 4 (y_true, y_pred, sample_weight or None); reset before the last."""
    results = []
    for i, (t, p, w) in enumerate(data):
        if i == 3:
            metric.reset_state()
        metric.update_state(t, p, sample_weight=w)
        results.append(np.asarray(metric.result(), np.float64))
    # the four batches share their shapes: one stacked array per input
    out[key + "/y_true"] = np.stack([np.asarray(d[0]) for d in data])
    out[key + "/y_pred"] = np.stack([np.asarray(d[1]) for d in data])
    if data[0][2] is not None:
        out[key + "/sw"] = np.stack([np.asarray(d[2]) for d in data])
    out[key + "/results"] = np.stack(results)
    config = metric.get_config()
    configs[key] = {"class_name": type(metric).__name__, "config": json.loads(
        json.dumps(config, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))}


def sparse(n_cls, shape, weights=None):
    def make():
        w = None if weights is None else weights(shape)
        return rng.integers(0, n_cls, shape), rng.integers(0, n_cls, shape), w
    return make


def int_w(shape):
    return rng.integers(0, 3, shape)


run("iou", M.IoU(num_classes=3, target_class_ids=[0, 2]), batches(sparse(3, (10,), int_w)))
run("iou_ignore", M.IoU(num_classes=4, target_class_ids=[1, 2, 3], ignore_class=0),
    batches(sparse(4, (3, 5))))
run("iou_float_w", M.IoU(num_classes=3, target_class_ids=[1]),
    batches(sparse(3, (8,), lambda s: rng.random(s) * 2)))
run("mean_iou", M.MeanIoU(num_classes=4), batches(sparse(4, (2, 6), int_w)))
run("mean_iou_ignore", M.MeanIoU(num_classes=3, ignore_class=2), batches(sparse(3, (12,))))
run("mean_iou_out_of_range", M.MeanIoU(num_classes=3),
    batches(lambda: (rng.integers(-1, 4, 12), rng.integers(0, 4, 12), None)))


def probs(n, k):
    p = rng.random((n, k)).astype(np.float32)
    return p / p.sum(axis=1, keepdims=True)


run("mean_iou_dense_pred", M.MeanIoU(num_classes=3, sparse_y_pred=False),
    batches(lambda: (rng.integers(0, 3, 9), probs(9, 3), int_w((9,)))))
run("binary_iou", M.BinaryIoU(), batches(
    lambda: (rng.integers(0, 2, 10), rng.random(10).astype(np.float32), int_w((10,)))))
run("binary_iou_args", M.BinaryIoU(target_class_ids=[1], threshold=0.3), batches(
    lambda: (rng.integers(0, 2, (4, 3)), rng.random((4, 3)).astype(np.float32), None)))


def onehot(n, k):
    return np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]


run("one_hot_iou", M.OneHotIoU(num_classes=3, target_class_ids=[0, 2]),
    batches(lambda: (onehot(8, 3), probs(8, 3), int_w((8,)))))
run("one_hot_iou_sparse_pred", M.OneHotIoU(num_classes=3, target_class_ids=[1],
                                           sparse_y_pred=True),
    batches(lambda: (onehot(8, 3), rng.integers(0, 3, 8), None)))
run("one_hot_mean_iou", M.OneHotMeanIoU(num_classes=4, ignore_class=3),
    batches(lambda: (onehot(10, 4), probs(10, 4), int_w((10,)))))


def regression(shape, weighted=True):
    def make():
        t = rng.normal(size=shape).astype(np.float32)
        p = (t + rng.normal(size=shape) * 0.7).astype(np.float32)
        return t, p, (rng.random(shape[0]).astype(np.float32) if weighted else None)
    return make


run("pearson", M.PearsonCorrelation(), batches(regression((6, 5))))
run("pearson_axis0", M.PearsonCorrelation(axis=0), batches(regression((7, 3), False)))
run("concordance", M.ConcordanceCorrelation(), batches(regression((6, 5))))
run("concordance_rank3", M.ConcordanceCorrelation(axis=-1), batches(regression((3, 2, 5))))


def scores(shape, weighted=True):
    def make():
        t = rng.integers(0, 2, shape)
        p = np.clip(t * 0.3 + rng.random(shape) * 0.7, 0, 1).astype(np.float32)
        return t, p, (rng.random(shape[0]).astype(np.float32) if weighted else None)
    return make


run("precision_at_recall", M.PrecisionAtRecall(0.7), batches(scores((20,))))
run("precision_at_recall_cls", M.PrecisionAtRecall(0.5, num_thresholds=50, class_id=1),
    batches(scores((12, 3))))
run("recall_at_precision", M.RecallAtPrecision(0.8), batches(scores((20,))))
run("recall_at_precision_1", M.RecallAtPrecision(0.6, num_thresholds=1),
    batches(scores((20,), False)))
run("sensitivity_at_specificity", M.SensitivityAtSpecificity(0.6), batches(scores((20,))))
run("sensitivity_at_specificity_cls",
    M.SensitivityAtSpecificity(0.4, num_thresholds=20, class_id=0), batches(scores((10, 2))))
run("specificity_at_sensitivity", M.SpecificityAtSensitivity(0.75), batches(scores((20,))))

# the metric functions Keras exposes from the losses
t = rng.integers(0, 2, (5, 3)).astype(np.float32)
p = rng.random((5, 3)).astype(np.float32)
out["fn/t"], out["fn/p"] = t, p
out["fn/binary_focal_crossentropy"] = np.asarray(M.binary_focal_crossentropy(t, p))
out["fn/binary_focal_args"] = np.asarray(M.binary_focal_crossentropy(
    t, p * 4 - 2, apply_class_balancing=True, alpha=0.3, gamma=1.5, from_logits=True))
ct = np.eye(3, dtype=np.float32)[[0, 2, 1, 1, 0]]
out["fn/ct"] = ct
out["fn/categorical_focal_crossentropy"] = np.asarray(M.categorical_focal_crossentropy(ct, p))
out["fn/huber"] = np.asarray(M.huber(t, p * 3, delta=0.5))
out["fn/pearson_correlation"] = np.asarray(M.pearson_correlation(t, p))
out["fn/concordance_correlation"] = np.asarray(M.concordance_correlation(t, p, axis=0))

# integer inputs are small: int8 keeps the file a few KB
out = {k: (v.astype(np.int8) if v.dtype.kind == "i" else v) for k, v in out.items()}
np.savez_compressed(os.path.join(HERE, "golden.npz"), **out)
with open(os.path.join(HERE, "configs.json"), "w") as f:
    json.dump(configs, f, indent=1, sort_keys=True)
print(len(out), "arrays")
