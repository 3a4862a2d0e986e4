"""ckeras -> file -> ckeras, and the exact Keras HDF5 layout of what we write."""
import json
import os

import h5py
import numpy as np
import pytest

import ckeras as keras
from ckeras.saving import h5_utils
from saving_helpers import (assert_same_predictions, functional, functional_data, layer_cls,
                            mlp, mlp_data)

EXTS = [".h5", ".hdf5", ".keras"]


def _trained_mlp(epochs=1):
    keras.utils.set_random_seed(1)
    model = mlp()
    x, y = mlp_data()
    model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
    return model, x, y


@pytest.mark.parametrize("ext", EXTS)
def test_sequential_roundtrip(tmp_path, ext):
    model, x, y = _trained_mlp()
    path = tmp_path / f"m{ext}"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded).__name__ == "Sequential" and loaded.name == "mlp"
    assert_same_predictions(model, loaded, x, atol=0)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 2
    for (n1, a1), (n2, a2) in zip(model.optimizer.variables(), loaded.optimizer.variables()):
        assert n1 == n2
        np.testing.assert_array_equal(a1, a2)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


@pytest.mark.parametrize("ext", EXTS)
def test_functional_roundtrip(tmp_path, ext):
    keras.utils.set_random_seed(2)
    model = functional()
    x, y = functional_data()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    path = tmp_path / f"f{ext}"
    keras.saving.save_model(model, path)
    loaded = keras.saving.load_model(path)
    assert loaded.input_names == ["in_a", "in_b"]
    assert loaded.output_names == ["cls", "reg"]
    assert_same_predictions(model, loaded, x, atol=0)
    want = model.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert got == pytest.approx(want)


@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_fit_save_load_fit_equals_uninterrupted_fit(tmp_path, ext):
    """Full training state survives: 2 epochs + save/load + 2 epochs == 4 epochs."""
    x, y = mlp_data(48)

    def fresh():
        keras.utils.set_random_seed(123)
        return mlp(name="state")

    straight = fresh()
    straight.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    first = fresh()
    first.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    path = tmp_path / f"state{ext}"
    first.save(path)
    resumed = keras.models.load_model(path)
    assert resumed.optimizer.iterations == 6
    resumed.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_fit_save_load_fit_with_batchnorm_and_rmsprop(tmp_path):
    x = np.random.default_rng(0).random((40, 5), dtype=np.float32)
    y = x.sum(axis=1, keepdims=True)
    BN = layer_cls("BatchNormalization")

    def fresh():
        keras.utils.set_random_seed(5)
        m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6), BN(),
                              keras.layers.Dense(1)], name="bn")
        m.compile(keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True), "mse")
        return m

    straight = fresh()
    straight.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    first = fresh()
    first.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    first.save(tmp_path / "bn.h5")
    resumed = keras.models.load_model(tmp_path / "bn.h5")
    resumed.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


# ---- the HDF5 layout -------------------------------------------------------------------

def test_h5_layout_sequential(tmp_path):
    model, _, _ = _trained_mlp()
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["keras_version"].startswith("3.")
        assert isinstance(f.attrs["backend"], str)
        cfg = json.loads(f.attrs["model_config"])
        assert cfg["class_name"] == "Sequential"
        layers = cfg["config"]["layers"]
        assert layers[0]["class_name"] == "InputLayer"
        assert layers[0]["config"]["batch_shape"] == [None, 8]
        assert layers[0]["config"]["name"].startswith("input_layer")
        assert all(set(e) == {"class_name", "config"} for e in layers)
        assert cfg["config"]["build_input_shape"] == [None, 8]
        tc = json.loads(f.attrs["training_config"])
        assert tc["loss"] == "sparse_categorical_crossentropy"
        assert tc["metrics"] == ["accuracy"]
        assert tc["optimizer_config"]["class_name"] == "Adam"
        assert tc["optimizer_config"]["config"]["learning_rate"] == pytest.approx(0.001)
        mw = f["model_weights"]
        assert h5_utils.read_name_list(mw, "layer_names") == ["dense", "dense_1"]
        assert h5_utils.read_name_list(mw["dense"], "weight_names") == [
            "mlp/dense/kernel", "mlp/dense/bias"]
        assert mw["dense/mlp/dense/kernel"].shape == (8, 16)
        assert mw["dense/mlp/dense/kernel"].dtype == np.float32
        top = mw["top_level_model_weights"].attrs["weight_names"]
        assert top.dtype == np.float64 and top.shape == (0,)
        ow = f["optimizer_weights"]
        names = h5_utils.read_name_list(ow, "weight_names")
        assert names[:4] == ["adam/iteration", "adam/learning_rate",
                             "adam/mlp_dense_kernel_momentum", "adam/mlp_dense_kernel_velocity"]
        assert ow["adam/iteration"].dtype == np.int64 and ow["adam/iteration"][()] == 2
        assert ow["adam/learning_rate"].shape == ()


def test_h5_layout_functional_lists_inputs_and_empty_names(tmp_path):
    model = functional()
    path = tmp_path / "f.h5"
    model.save(path)
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        assert cfg["class_name"] == "Functional"
        assert cfg["config"]["input_layers"] == [["in_a", 0, 0], ["in_b", 0, 0]]
        mw = f["model_weights"]
        assert h5_utils.read_name_list(mw, "layer_names") == [
            "in_a", "in_b", "branch_a", "branch_b", "concat", "trunk", "cls", "reg"]
        assert h5_utils.read_name_list(mw["branch_a"], "weight_names") == [
            "branch_a/kernel", "branch_a/bias"]
        for weightless in ("in_a", "concat"):
            names = mw[weightless].attrs["weight_names"]
            assert names.dtype == np.float64 and names.shape == (0,)
        # Never trained: the optimizer has no variables yet, so no group.
        assert "optimizer_weights" not in f
        tc = json.loads(f.attrs["training_config"])
        # Short aliases are written long: Keras 3.15.1 fails on "mse" itself.
        assert tc["loss"] == ["sparse_categorical_crossentropy", "mean_squared_error"]
        assert tc["metrics"] == [["accuracy"], ["mae"]]
        assert tc["loss_weights"] == [1.0, 0.5]


def test_include_optimizer_false_and_uncompiled(tmp_path):
    model, x, _ = _trained_mlp()
    model.save(tmp_path / "no_opt.h5", include_optimizer=False)
    with h5py.File(tmp_path / "no_opt.h5", "r") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f
    with pytest.warns(UserWarning, match="not\\* compiled"):
        loaded = keras.models.load_model(tmp_path / "no_opt.h5")
    assert not getattr(loaded, "compiled", False)
    assert_same_predictions(model, loaded, x, atol=0)
    plain = mlp(compile=False)
    plain.save(tmp_path / "plain.keras")
    assert not getattr(keras.models.load_model(tmp_path / "plain.keras"), "compiled", False)


def test_layer_can_override_saved_weight_names(tmp_path):
    model = mlp(compile=False)
    model.layers[0]._saved_weight_names = lambda: ["cell/k", "cell/b"]
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert h5_utils.read_name_list(f["model_weights/dense"], "weight_names") == ["cell/k", "cell/b"]
        assert f["model_weights/dense/cell/k"].shape == (8, 16)
    with pytest.warns(UserWarning, match="not\\* compiled"):
        loaded = keras.models.load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_chunked_name_lists_roundtrip(tmp_path):
    names = [f"layer_{i:05d}_" + "x" * 200 for i in range(700)]   # ~150 kB of names
    with h5py.File(tmp_path / "c.h5", "w") as f:
        h5_utils.write_name_list(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs
        assert "layer_names2" in f.attrs
    with h5py.File(tmp_path / "c.h5", "r") as f:
        assert h5_utils.read_name_list(f, "layer_names") == names


def test_model_with_many_layers_uses_chunked_layer_names(tmp_path):
    L = keras.layers
    model = keras.Sequential([keras.Input((2,))] + [
        L.Dense(2, name=f"long_layer_name_{i:04d}_" + "z" * 600) for i in range(120)])
    model.save(tmp_path / "deep.h5")
    with h5py.File(tmp_path / "deep.h5", "r") as f:
        assert "layer_names0" in f["model_weights"].attrs
    with pytest.warns(UserWarning, match="not\\* compiled"):
        loaded = keras.models.load_model(tmp_path / "deep.h5")
    x = np.ones((2, 2), np.float32)
    assert_same_predictions(model, loaded, x, atol=0)


def test_to_json_and_model_from_json():
    model = functional(compile=False)
    clone = keras.saving.model_from_json(model.to_json())
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert keras.models.model_from_json(mlp(compile=False).to_json()).count_params() == 195


def test_keras_archive_layout(tmp_path):
    import io
    import zipfile
    model, _, _ = _trained_mlp()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert z.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        meta = json.loads(z.read("metadata.json"))
        assert meta["keras_version"].startswith("3.") and "@" in meta["date_saved"]
        cfg = json.loads(z.read("config.json"))
        assert (cfg["module"], cfg["class_name"], cfg["registered_name"]) == (
            "keras", "Sequential", None)
        assert cfg["build_config"] == {"input_shape": [None, 8]}
        dense = cfg["config"]["layers"][1]
        assert dense["module"] == "keras.layers" and dense["registered_name"] is None
        assert dense["build_config"] == {"input_shape": [None, 8]}
        cc = cfg["compile_config"]
        assert cc["optimizer"]["class_name"] == "Adam"
        assert cc["optimizer"]["module"] == "keras.optimizers"
        assert cc["loss"] == "sparse_categorical_crossentropy"
        with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            assert f["vars"].attrs["name"] == "mlp" and len(f["vars"]) == 0
            assert f["layers/dense/vars"].attrs["name"] == "dense"
            assert f["layers/dense/vars/0"].shape == (8, 16)
            assert f["layers/dense_1/vars/1"].shape == (3,)
            assert len(f["optimizer/vars"]) == 10
            assert f["optimizer/vars/0"][()] == 2


def test_keras3_group_keys_follow_class_names_not_layer_names(tmp_path):
    model = functional(compile=False)
    model.save_weights(tmp_path / "f.weights.h5")
    with h5py.File(tmp_path / "f.weights.h5", "r") as f:
        assert sorted(f["layers"]) == ["concatenate", "dense", "dense_1", "dense_2", "dense_3",
                                       "dense_4", "input_layer", "input_layer_1"]
        assert f["layers/dense/vars"].attrs["name"] == "branch_a"
        assert f["layers/dense_4/vars"].attrs["name"] == "reg"
        assert f["layers/dense_4/vars/0"].shape == (10, 1)


def test_importing_ckeras_does_not_import_h5py():
    import subprocess
    import sys
    import tempfile
    code = "import sys, ckeras, ckeras.saving; assert 'h5py' not in sys.modules, 'h5py imported'"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(keras.__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, env=env,
                   cwd=tempfile.gettempdir())


@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_unbuilt_compiled_model_roundtrip(tmp_path, ext):
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    model.save(tmp_path / f"u{ext}")
    loaded = keras.models.load_model(tmp_path / f"u{ext}")
    assert not loaded.built and loaded.optimizer.iterations == 0
    loaded.fit(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32), verbose=0)
    assert loaded.optimizer.iterations == 1


def test_keras_archive_to_and_from_file_objects():
    import io
    model, x, _ = _trained_mlp()
    buf = io.BytesIO()
    keras.saving.save_model(model, buf)
    buf.seek(0)
    loaded = keras.saving.load_model(buf)
    assert_same_predictions(model, loaded, x, atol=0)
