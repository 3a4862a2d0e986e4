"""Bad files and unsafe configs raise clear errors naming the file and the problem."""
import json
import os
import re
import zipfile

import h5py
import numpy as np
import pytest

import ckeras as keras
from ckeras.saving.model_config import SafetyError
from saving_helpers import layer_cls, mlp, mlp_data


@pytest.fixture
def saved(tmp_path):
    model = mlp()
    x, y = mlp_data(16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = str(tmp_path / "good.h5")
    model.save(path)
    return path


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError, match=re.escape(path)):
        keras.models.load_model(path)
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        mlp().load_weights(path)


def test_folder_empty_and_non_hdf5_files(tmp_path):
    with pytest.raises(ValueError, match="folder"):
        keras.models.load_model(tmp_path)
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        keras.models.load_model(empty)
    text = tmp_path / "notes.h5"
    text.write_text("this is not a model\n" * 50)
    with pytest.raises(ValueError, match=r"notes\.h5.*neither an HDF5 file nor a zip"):
        keras.models.load_model(text)


def test_truncated_h5(saved, tmp_path):
    data = open(saved, "rb").read()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.h5.*truncated or corrupted"):
        keras.models.load_model(cut)


def test_truncated_keras_archive(tmp_path):
    mlp().save(tmp_path / "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) - 200])
    with pytest.raises(ValueError, match=r"cut\.keras.*truncated or corrupted"):
        keras.models.load_model(tmp_path / "cut.keras")


def test_zip_without_config(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ValueError, match=r"other\.keras.*no config\.json"):
        keras.models.load_model(tmp_path / "other.keras")


def test_hdf5_without_model_config(tmp_path):
    mlp().save_weights(tmp_path / "only.weights.h5")
    with pytest.raises(ValueError, match=r"No model config found in .*only\.weights\.h5.*load_weights"):
        keras.models.load_model(tmp_path / "only.weights.h5")


def test_invalid_json_config(saved):
    with h5py.File(saved, "r+") as f:
        f.attrs["model_config"] = "{not json"
    with pytest.raises(ValueError, match=r"good\.h5.*model_config is not valid JSON"):
        keras.models.load_model(saved)


def _edit_config(path, fn):
    with h5py.File(path, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        fn(cfg)
        f.attrs["model_config"] = json.dumps(cfg)


def test_unknown_class_suggests_custom_objects(saved):
    _edit_config(saved, lambda c: c["config"]["layers"][1].update(class_name="MyDense"))
    with pytest.raises(ValueError) as info:
        keras.models.load_model(saved)
    msg = str(info.value)
    assert "good.h5" in msg and "MyDense" in msg and "custom_objects={'MyDense'" in msg


def test_weight_count_mismatch(saved):
    with h5py.File(saved, "r+") as f:
        g = f["model_weights/dense_1"]
        g.attrs["weight_names"] = np.array([b"mlp/dense_1/kernel"])
    with pytest.raises(ValueError) as info:
        keras.models.load_model(saved)
    msg = str(info.value)
    assert "Weight count mismatch" in msg and "good.h5" in msg and "'dense_1'" in msg
    assert "expects 2 weights" in msg and "holds 1" in msg


def test_weight_shape_mismatch(saved):
    _edit_config(saved, lambda c: c["config"]["layers"][1]["config"].update(units=7))
    with pytest.raises(ValueError) as info:
        keras.models.load_model(saved)
    msg = str(info.value)
    assert "Shape mismatch" in msg and "good.h5" in msg and "'dense'" in msg
    assert "(8, 7)" in msg and "(8, 16)" in msg


def test_layer_count_mismatch(saved):
    bigger = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16),
                               keras.layers.Dense(3), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Layer count mismatch .*good\.h5.*3 layers.*2 layers"):
        bigger.load_weights(saved)


def test_missing_dataset(saved):
    with h5py.File(saved, "r+") as f:
        del f["model_weights/dense/mlp/dense/bias"]
    with pytest.raises(ValueError, match=r"good\.h5.*'dense'.*mlp/dense/bias.*missing"):
        keras.models.load_model(saved)


def test_optimizer_state_mismatch_warns_and_starts_fresh(saved):
    with h5py.File(saved, "r+") as f:
        del f["optimizer_weights/adam/mlp_dense_bias_velocity"]
        names = [n for n in f["optimizer_weights"].attrs["weight_names"]
                 if "dense_bias_velocity" not in n]
        f["optimizer_weights"].attrs["weight_names"] = np.array(names, dtype="S")
    with pytest.warns(UserWarning, match="optimizer starts fresh"):
        model = keras.models.load_model(saved)
    assert model.optimizer.iterations == 0


# ---- safety ------------------------------------------------------------------------

def _lambda_config(function, **extra):
    return {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 2], "name": "i"}},
        {"class_name": "Lambda", "config": dict({"name": "lam", "function": function}, **extra)}]}}


@pytest.mark.parametrize("function, extra", [
    ({"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None,
                                             "closure": None}}, {}),
    (["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk4p", None, None],
     {"function_type": "lambda"}),
])
def test_lambda_with_bytecode_is_refused(tmp_path, function, extra):
    path = tmp_path / "lam.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(_lambda_config(function, **extra))
        f.create_group("model_weights").attrs["layer_names"] = np.array([b"lam"])
    with pytest.raises(SafetyError, match=r"'lam' is a Lambda layer.*never executes code"):
        keras.models.load_model(path)
    with pytest.raises(SafetyError):
        keras.models.load_model(path, safe_mode=False)   # never, whatever the flag


def test_lambda_over_named_function_loads_with_custom_objects(tmp_path):
    Lambda = layer_cls("Lambda")

    def double(x):
        return 2 * x

    model = keras.Sequential([keras.Input((2,)), Lambda(double), keras.layers.Dense(1)])
    model.save(tmp_path / "named.h5")
    with pytest.raises(ValueError, match="custom_objects"):
        keras.models.load_model(tmp_path / "named.h5")
    with pytest.warns(UserWarning, match="not\\* compiled"):
        loaded = keras.models.load_model(tmp_path / "named.h5",
                                         custom_objects={"double": double})
    x = np.ones((3, 2), np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_saving_code_never_unpickles():
    root = os.path.dirname(keras.saving.__file__)
    files = [os.path.join(root, f) for f in os.listdir(root) if f.endswith(".py")]
    files.append(os.path.join(os.path.dirname(keras.callbacks.__file__), "model_checkpoint.py"))
    for path in files:
        src = open(path).read()
        for bad in ("import pickle", "import marshal", "allow_pickle=True", "eval(", "exec("):
            assert bad not in src, f"{bad!r} in {path}"


# ---- saving errors -------------------------------------------------------------------

def test_overwrite_false_and_bad_extension(tmp_path, saved):
    with pytest.raises(FileExistsError, match="good.h5"):
        mlp().save(saved, overwrite=False)
    with pytest.raises(ValueError, match=r"Invalid filepath extension.*\.keras"):
        mlp().save(tmp_path / "model.pkl")
    with pytest.raises(ValueError, match="weights.h5"):
        mlp().save_weights(tmp_path / "w.keras")


def test_load_weights_into_unbuilt_model(saved):
    unbuilt = keras.Sequential([keras.layers.Dense(16), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="not been built"):
        unbuilt.load_weights(saved)
