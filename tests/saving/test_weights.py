"""save_weights / load_weights: legacy .h5 layout, Keras 3 .weights.h5 layout,
by_name matching, skip_mismatch, and weights from full-model files."""
import h5py
import numpy as np
import pytest

import ckeras as keras
from ckeras.saving import h5_utils
from saving_helpers import (assert_same_predictions, functional, functional_data, layer_cls,
                            mlp, mlp_data)


def _scramble(model):
    for w in model.weights:
        w.assign(np.full(w.shape, 0.5))


@pytest.mark.parametrize("name", ["w.h5", "w.hdf5", "w.weights.h5", "w_no_extension"])
def test_weights_roundtrip(tmp_path, name):
    model = mlp(compile=False)
    x, _ = mlp_data(8)
    model.save_weights(tmp_path / name)
    other = mlp(compile=False)
    _scramble(other)
    other.load_weights(tmp_path / name)
    assert_same_predictions(model, other, x, atol=0)


def test_legacy_weights_layout(tmp_path):
    model = mlp(compile=False)
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert h5_utils.read_name_list(f, "layer_names") == ["dense", "dense_1"]
        assert h5_utils.read_name_list(f["dense_1"], "weight_names") == [
            "mlp/dense_1/kernel", "mlp/dense_1/bias"]
        assert h5_utils.decode(f.attrs["keras_version"]).startswith("3.")
        assert "top_level_model_weights" in f


def test_keras3_weights_layout_includes_optimizer(tmp_path):
    model = mlp()
    x, y = mlp_data(16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        assert set(f) == {"layers", "optimizer", "vars"}
        assert f["layers/dense/vars/0"].shape == (8, 16)
        assert len(f["optimizer/vars"]) == 10
    # Loading into a compiled model restores the optimizer too (as Keras 3 does).
    other = mlp()
    other.load_weights(tmp_path / "w.weights.h5")
    assert other.optimizer.iterations == 2
    assert_same_predictions(model, other, x, atol=0)


def test_functional_weights_roundtrip_both_layouts(tmp_path):
    model = functional(compile=False)
    x, _ = functional_data(8)
    for name in ("f.h5", "f.weights.h5"):
        model.save_weights(tmp_path / name)
        other = functional(compile=False)
        _scramble(other)
        other.load_weights(tmp_path / name)
        assert_same_predictions(model, other, x, atol=0)


def test_load_weights_from_full_model_files(tmp_path):
    model = mlp()
    x, _ = mlp_data(8)
    model.save(tmp_path / "full.h5")
    model.save(tmp_path / "full.keras")
    for name in ("full.h5", "full.keras"):
        other = mlp(compile=False)
        _scramble(other)
        other.load_weights(tmp_path / name)
        assert_same_predictions(model, other, x, atol=0)


def test_by_name_loads_matching_layers_only(tmp_path):
    L = keras.layers
    src = keras.Sequential([keras.Input((4,)), L.Dense(3, name="shared"),
                            L.Dense(2, name="old_head")])
    src.save_weights(tmp_path / "src.h5")
    dst = keras.Sequential([keras.Input((4,)), L.Dense(3, name="shared"),
                            L.Dense(5, name="new_head")])
    head_before = dst.layers[1].get_weights()
    with pytest.raises(ValueError, match="Shape mismatch"):
        dst.load_weights(tmp_path / "src.h5")          # by position: head shapes differ
    dst.load_weights(tmp_path / "src.h5", by_name=True)
    np.testing.assert_array_equal(dst.layers[0].get_weights()[0], src.layers[0].get_weights()[0])
    np.testing.assert_array_equal(dst.layers[1].get_weights()[0], head_before[0])


def test_by_name_shape_mismatch_and_skip_mismatch(tmp_path):
    L = keras.layers
    src = keras.Sequential([keras.Input((4,)), L.Dense(3, name="a"), L.Dense(2, name="b")])
    src.save_weights(tmp_path / "src.h5")
    dst = keras.Sequential([keras.Input((4,)), L.Dense(3, name="a"), L.Dense(6, name="b")])
    with pytest.raises(ValueError, match=r"Shape mismatch.*'b'.*src\.h5"):
        dst.load_weights(tmp_path / "src.h5", by_name=True)
    b_before = dst.layers[1].get_weights()[0]
    with pytest.warns(UserWarning, match="skip_mismatch"):
        dst.load_weights(tmp_path / "src.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(dst.layers[0].get_weights()[1], src.layers[0].get_weights()[1])
    np.testing.assert_array_equal(dst.layers[1].get_weights()[0], b_before)


def test_skip_mismatch_keras3_layout(tmp_path):
    L = keras.layers
    src = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)])
    src.save_weights(tmp_path / "src.weights.h5")
    dst = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(7)])
    with pytest.raises(ValueError, match=r"src\.weights\.h5.*expects 2 variables"):
        dst.load_weights(tmp_path / "src.weights.h5")
    with pytest.warns(UserWarning):
        dst.load_weights(tmp_path / "src.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(dst.layers[0].get_weights()[0], src.layers[0].get_weights()[0])
    with pytest.raises(ValueError, match="by_name"):
        dst.load_weights(tmp_path / "src.weights.h5", by_name=True)


def test_failed_load_changes_nothing(tmp_path):
    L = keras.layers
    src = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)])
    src.save_weights(tmp_path / "src.h5")
    dst = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(9)])
    before = dst.get_weights()
    with pytest.raises(ValueError):
        dst.load_weights(tmp_path / "src.h5")
    for a, b in zip(before, dst.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_batchnorm_non_trainable_weights_in_both_layouts(tmp_path):
    BN = layer_cls("BatchNormalization")
    model = keras.Sequential([keras.Input((3,)), BN()])
    bn = model.layers[0]
    for i, w in enumerate(bn.weights):
        w.assign(np.arange(3) + 10 * i + 1.0)
    for name in ("bn.h5", "bn.weights.h5"):
        model.save_weights(tmp_path / name)
        other = keras.Sequential([keras.Input((3,)), BN()])
        other.load_weights(tmp_path / name)
        for a, b in zip(bn.get_weights(), other.layers[0].get_weights()):
            np.testing.assert_array_equal(a, b)
    with h5py.File(tmp_path / "bn.h5", "r") as f:
        names = h5_utils.read_name_list(f[bn.name], "weight_names")
        assert [n.split("/")[-1] for n in names] == ["gamma", "beta", "moving_mean",
                                                     "moving_variance"]


def test_nested_model_weights(tmp_path):
    L = keras.layers
    inner = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)], name="inner")
    inp = keras.Input((4,), name="outer_in")
    outer = keras.Model(inp, L.Dense(1, name="head")(inner(inp)), name="outer")
    x = np.random.default_rng(0).random((5, 4), dtype=np.float32)
    for name in ("n.h5", "n.weights.h5", "n.keras"):
        if name.endswith(".keras"):
            outer.save(tmp_path / name)
            loaded = keras.models.load_model(tmp_path / name)
        else:
            outer.save_weights(tmp_path / name)
            inner2 = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)], name="inner")
            inp2 = keras.Input((4,), name="outer_in")
            loaded = keras.Model(inp2, L.Dense(1, name="head")(inner2(inp2)), name="outer")
            loaded.load_weights(tmp_path / name)
        assert_same_predictions(outer, loaded, x, atol=0)
    with h5py.File(tmp_path / "n.weights.h5", "r") as f:
        assert "layers/sequential/layers/dense/vars/0" in f
