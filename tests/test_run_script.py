"""`python -m ckeras run script.py args`: Keras/tf.keras imports resolve to
ckeras inside the script only; other TensorFlow use fails with one clear error."""
import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

from ckeras.keras_shim import keras_aliases


def run(tmp_path, source, *args):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    env = dict(os.environ, CKERAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "ckeras", "run", str(script), *args],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


def test_keras_imports_resolve_to_ckeras(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 7\n")  # the script's folder is on sys.path
    r = run(tmp_path, """
        import sys
        import ckeras
        import keras
        import keras.layers
        import tensorflow as tf
        import tf_keras
        from tensorflow import keras as tk
        from tensorflow.keras.layers import Dense
        from tensorflow.keras import backend as K
        from keras.utils import to_categorical
        import tensorflow.keras.callbacks as cbs
        import helper
        assert keras is ckeras and tk is ckeras and tf_keras is ckeras and tf.keras is ckeras
        assert Dense is ckeras.layers.Dense and keras.layers is ckeras.layers
        assert K is ckeras.backend and cbs is ckeras.callbacks
        assert ckeras.__spec__.name == "ckeras" and ckeras.layers.__spec__.name == "ckeras.layers"
        assert not hasattr(ckeras.backend, "__path__")
        if __name__ == "__main__":
            print("main", sys.argv[1:], helper.VALUE)
        """, "--epochs", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "main ['--epochs', '3'] 7"


def test_small_tf_keras_training_script(tmp_path):
    r = run(tmp_path, """
        import numpy as np
        from tensorflow import keras
        from tensorflow.keras import layers
        x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
        y = (x.sum(axis=1) > 0).astype("int32")
        model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                                  layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, epochs=2, verbose=0)
        print("ok", len(h.history["loss"]))
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok 2"


def test_tf_dtype_names_are_keras_dtype_strings(tmp_path):
    r = run(tmp_path, """
        import numpy as np
        import tensorflow as tf
        from tensorflow import keras
        inp = keras.Input((2,), dtype=tf.float32)
        words = keras.Input((1,), dtype=tf.string)
        x = np.ones((3, 2)).astype(tf.float32)
        print(tf.float32, tf.string, tf.int64, words.dtype, x.dtype)
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["float32", "string", "int64", "string", "float32"]


@pytest.mark.parametrize("use,named", [
    ("import tensorflow as tf\nx = tf.constant([1.0])", "tensorflow.constant"),
    ("import tensorflow as tf\nds = tf.data.Dataset", "tensorflow.data"),
    ("from tensorflow import random", "tensorflow.random"),
    ("import tensorflow.compat.v1 as tf", "tensorflow.compat"),
    ("import tensorflow as tf\nprint(tf.__version__)", "tensorflow.__version__"),
])
def test_other_tensorflow_use_is_one_clear_error(tmp_path, use, named):
    r = run(tmp_path, use + "\nprint('not reached')\n")
    assert r.returncode == 1 and "not reached" not in r.stdout
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ckeras.keras_shim.TensorFlowNotProvided: ")
    assert f"`{named}`" in last and "only the Keras API" in last
    assert r.stderr.count("TensorFlowNotProvided:") == 1


def test_exit_code_and_missing_module(tmp_path):
    assert run(tmp_path, "import sys\nsys.exit(3)\n").returncode == 3
    r = run(tmp_path, "import keras.src.engine\n")
    assert r.returncode == 1 and "No module named 'keras.src'" in r.stderr


def test_usage_errors(tmp_path):
    # cwd outside the checkout: its uncompiled ckeras/ must not shadow the installed one
    r = subprocess.run([sys.executable, "-m", "ckeras", "train.py"], capture_output=True,
                       text=True, cwd=tmp_path)
    assert r.returncode == 2 and "usage: python -m ckeras run" in r.stderr
    r = subprocess.run([sys.executable, "-m", "ckeras", "run", str(tmp_path / "nope.py")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1 and "no such script" in r.stderr


def test_aliases_only_inside_the_block():
    before = importlib.util.find_spec("keras")
    meta = list(sys.meta_path)
    with keras_aliases():
        import keras
        import ckeras
        assert keras is ckeras
    assert "keras" not in sys.modules and "tensorflow" not in sys.modules
    assert sys.meta_path == meta
    after = importlib.util.find_spec("keras")
    assert (before is None) == (after is None)
    if before is not None:
        assert before.origin == after.origin


def test_tf_keras2_module_paths_resolve(tmp_path):
    r = run(tmp_path, """
        import ckeras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator, load_img
        from tensorflow.keras.preprocessing.sequence import pad_sequences
        from tensorflow.keras.preprocessing.text import Tokenizer
        from keras.utils import np_utils
        from keras.utils.data_utils import get_file
        from tensorflow.keras.datasets import mnist, imdb
        from tensorflow.keras.models import Model, clone_model
        from tensorflow.keras.utils import to_categorical, image_dataset_from_directory
        assert np_utils.to_categorical is ckeras.utils.np_utils.to_categorical
        assert mnist is ckeras.datasets.mnist and get_file is ckeras.utils.get_file
        print("ok")
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
