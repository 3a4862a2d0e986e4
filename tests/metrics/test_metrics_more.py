"""IoU family, correlations, rate-at-rate metrics and the focal/Huber metric
functions against Keras 3 on JAX (tests/data/keras_metrics_more): result()
after each of three weighted batches, after reset_state and one more batch,
Keras's get_config, config round trips and use by name in compile()."""
import json
import os
import warnings

import numpy as np
import pytest

import ckeras
from ckeras import metrics as M

HERE = os.path.join(os.path.dirname(__file__), "..", "data", "keras_metrics_more")
GOLDEN = np.load(os.path.join(HERE, "golden.npz"))
with open(os.path.join(HERE, "configs.json")) as f:
    CONFIGS = json.load(f)

CASES = {
    "iou": lambda: M.IoU(num_classes=3, target_class_ids=[0, 2]),
    "iou_ignore": lambda: M.IoU(num_classes=4, target_class_ids=[1, 2, 3], ignore_class=0),
    "iou_float_w": lambda: M.IoU(num_classes=3, target_class_ids=[1]),
    "mean_iou": lambda: M.MeanIoU(num_classes=4),
    "mean_iou_ignore": lambda: M.MeanIoU(num_classes=3, ignore_class=2),
    "mean_iou_out_of_range": lambda: M.MeanIoU(num_classes=3),
    "mean_iou_dense_pred": lambda: M.MeanIoU(num_classes=3, sparse_y_pred=False),
    "binary_iou": lambda: M.BinaryIoU(),
    "binary_iou_args": lambda: M.BinaryIoU(target_class_ids=[1], threshold=0.3),
    "one_hot_iou": lambda: M.OneHotIoU(num_classes=3, target_class_ids=[0, 2]),
    "one_hot_iou_sparse_pred": lambda: M.OneHotIoU(num_classes=3, target_class_ids=[1],
                                                   sparse_y_pred=True),
    "one_hot_mean_iou": lambda: M.OneHotMeanIoU(num_classes=4, ignore_class=3),
    "pearson": lambda: M.PearsonCorrelation(),
    "pearson_axis0": lambda: M.PearsonCorrelation(axis=0),
    "concordance": lambda: M.ConcordanceCorrelation(),
    "concordance_rank3": lambda: M.ConcordanceCorrelation(axis=-1),
    "precision_at_recall": lambda: M.PrecisionAtRecall(0.7),
    "precision_at_recall_cls": lambda: M.PrecisionAtRecall(0.5, num_thresholds=50, class_id=1),
    "recall_at_precision": lambda: M.RecallAtPrecision(0.8),
    "recall_at_precision_1": lambda: M.RecallAtPrecision(0.6, num_thresholds=1),
    "sensitivity_at_specificity": lambda: M.SensitivityAtSpecificity(0.6),
    "sensitivity_at_specificity_cls": lambda: M.SensitivityAtSpecificity(
        0.4, num_thresholds=20, class_id=0),
    "specificity_at_sensitivity": lambda: M.SpecificityAtSensitivity(0.75),
}


def _batches(key):
    t, p = GOLDEN[key + "/y_true"], GOLDEN[key + "/y_pred"]
    sw = GOLDEN.get(key + "/sw")
    return [(t[i], p[i], None if sw is None else sw[i]) for i in range(len(t))]


@pytest.mark.parametrize("key", sorted(CASES))
def test_results_match_keras_over_batches(key):
    metric = CASES[key]()
    got = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # float weights on an int IoU: Keras's warning
        for i, (t, p, w) in enumerate(_batches(key)):
            if i == 3:
                metric.reset_state()
            metric.update_state(t, p, sample_weight=w)
            got.append(metric.result())
    np.testing.assert_allclose(got, GOLDEN[key + "/results"], rtol=1e-5, atol=1e-6)


def _without_name(config):
    return {k: v for k, v in config.items() if k != "name"}   # Keras numbers repeated names


@pytest.mark.parametrize("key", sorted(CASES))
def test_config_is_keras_and_round_trips(key):
    metric = CASES[key]()
    config = metric.get_config()
    assert _without_name(config) == _without_name(CONFIGS[key]["config"])
    again = type(metric).from_config(config)
    assert again.get_config() == config
    restored = M.deserialize(M.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == config


def test_iou_float_weights_truncate_and_warn():
    metric = M.IoU(num_classes=2, target_class_ids=[0, 1])
    with pytest.warns(UserWarning, match="weight as `float`"):
        metric.update_state([0, 1, 1], [0, 1, 0], sample_weight=[1.7, 0.9, 2.0])
    # 1.7 -> 1, 0.9 -> 0, 2.0 -> 2: cm = [[1, 0], [2, 0]]
    np.testing.assert_array_equal(metric.total_cm, [[1, 0], [2, 0]])
    float_metric = M.IoU(num_classes=2, target_class_ids=[0], dtype="float32")
    float_metric.update_state([0, 1, 1], [0, 1, 0], sample_weight=[1.5, 1.0, 0.5])
    assert float_metric.result() == pytest.approx(1.5 / 2.0, rel=1e-6)


def test_iou_errors():
    with pytest.raises(ValueError, match=r"Target class id 3 is out of range, which is \[0, 3\)"):
        M.IoU(num_classes=3, target_class_ids=[0, 3])
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        M.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match="they must match"):
        M.MeanIoU(num_classes=3).update_state([0, 1], [0, 1, 2])


def test_rate_metric_errors():
    with pytest.raises(ValueError, match=r"`recall` must be in the range \[0, 1\]"):
        M.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 0"):
        M.SensitivityAtSpecificity(0.5, num_thresholds=0)


def test_metric_functions_match_keras():
    t, p, ct = GOLDEN["fn/t"], GOLDEN["fn/p"], GOLDEN["fn/ct"]
    checks = {
        "binary_focal_crossentropy": M.binary_focal_crossentropy(t, p),
        "binary_focal_args": M.binary_focal_crossentropy(
            t, p * 4 - 2, apply_class_balancing=True, alpha=0.3, gamma=1.5, from_logits=True),
        "categorical_focal_crossentropy": M.categorical_focal_crossentropy(ct, p),
        "huber": M.huber(t, p * 3, delta=0.5),
        "pearson_correlation": M.pearson_correlation(t, p),
        "concordance_correlation": M.concordance_correlation(t, p, axis=0),
    }
    for key, got in checks.items():
        np.testing.assert_allclose(got, GOLDEN["fn/" + key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_metric_function_wrapper_by_name_round_trips():
    wrapper = M.MeanMetricWrapper("huber", delta=0.3)
    again = M.MeanMetricWrapper.from_config(wrapper.get_config())
    t, p = GOLDEN["fn/t"], GOLDEN["fn/p"] * 3
    assert again(t, p) == pytest.approx(float(np.mean(M.huber(t, p, delta=0.3))), rel=1e-6)


def test_by_name_and_objects_in_compile():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = ckeras.Sequential([ckeras.Input((4,)), ckeras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["pearson_correlation", M.BinaryIoU(name="biou"),
                           M.PrecisionAtRecall(0.5, name="p_at_r"), M.MeanMetricWrapper(
                               M.binary_focal_crossentropy, name="focal")])
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0)
    biou = M.BinaryIoU()
    biou.update_state(y, probs)
    assert logs["biou"] == pytest.approx(biou.result(), rel=1e-5)
    par = M.PrecisionAtRecall(0.5)
    par.update_state(y, probs)
    assert logs["p_at_r"] == pytest.approx(par.result(), rel=1e-5)
    assert set(logs) >= {"loss", "pearson_correlation", "focal"}
