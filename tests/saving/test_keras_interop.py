"""Real Keras loads what ckeras saves and vice versa (runs only where Keras is
installed; see benchmarks/check_keras_interop.py for the full matrix)."""
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def interop():
    from benchmarks import check_keras_interop as module   # (tests/conftest.py)
    from ckeras.saving.model_config import import_layer_modules
    import_layer_modules()
    return module


# A small sample (Keras + JAX cost seconds per model); the script runs the rest.
@pytest.mark.parametrize("direction, family, fmt, opt", [
    ("ckeras to keras", "functional", ".keras", "adam"),
    ("keras to ckeras", "functional", ".h5", "sgd_momentum"),
])
def test_models_move_between_ckeras_and_keras(interop, tmp_path, direction, family, fmt, opt):
    import ckeras
    src, dst = (ckeras, keras) if direction == "ckeras to keras" else (keras, ckeras)
    interop.RESULTS.clear()
    interop.check(direction, family, fmt, src, dst, str(tmp_path), opt)
    assert len(interop.RESULTS) == 3 and all(interop.RESULTS)
