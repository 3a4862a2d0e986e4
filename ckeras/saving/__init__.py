"""Saving and loading: Keras HDF5 (``.h5``/``.hdf5``), Keras 3 (``.keras``,
``.weights.h5``), readable and writable by real Keras in both directions.

Writes are atomic (one write to a temp file in the same folder, fsync,
``os.replace``), so a crash mid-save leaves the previous file intact; a
symlink's target is replaced and the file's permission bits are kept (see
``atomic.py``, also for hard links). Loading never runs code from the file
(no pickle, no marshalled lambdas: Lambda layers are refused) and never reads
outside it: HDF5 links, external storage, virtual datasets, plugin filters
and unsafe zip members are refused, and declared sizes are checked before
anything is allocated (``safety.py``). h5py is imported only when a file is
actually read or written.
"""
import os
import zipfile
from ckeras._typing import Any, ArrayLike, Callable, Data, Dict, List, Logs, Optional, PathLike, Sequence, Shape, Union  # noqa: F401

# The registry lives on the ground floor (ckeras/registry.py); Keras has its
# public names here.
from ckeras.registry import (register_keras_serializable, custom_object_scope,
                             CustomObjectScope, get_custom_objects, get_registered_name,
                             get_registered_object)
from ckeras.saving.atomic import atomic_write
from ckeras.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_from_json",
           "register_keras_serializable", "custom_object_scope", "CustomObjectScope",
           "get_registered_name", "get_custom_objects", "model_from_config",
           "get_registered_object", "serialize_keras_object", "deserialize_keras_object"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"


def _path(filepath):
    try:
        return os.fspath(filepath)
    except TypeError:
        raise TypeError(f"filepath must be a str or os.PathLike, got {filepath!r}") from None


def _ext(path):
    p = path.lower()
    for ext in (".weights.h5", ".keras", ".h5", ".hdf5"):
        if p.endswith(ext):
            return ext
    return os.path.splitext(p)[1]


# ---- saving ----------------------------------------------------------------------

def save_model(model: Any, filepath: PathLike, overwrite: bool = True,
               include_optimizer: bool = True, **kwargs: Any) -> None:
    """``.keras`` -> Keras 3 archive; ``.h5``/``.hdf5`` -> Keras HDF5."""
    from ckeras.saving import keras_v3, legacy_h5
    if hasattr(filepath, "write") and hasattr(filepath, "seek"):
        return keras_v3.save_model(model, filepath, include_optimizer)
    path = _path(filepath)
    ext = _ext(path)
    if ext == ".keras":
        writer = keras_v3.save_model
    elif ext in (".h5", ".hdf5", ".weights.h5"):
        writer = legacy_h5.save_model
    else:
        raise ValueError(
            f"Invalid filepath extension for saving: {path!r}. Please add either a "
            "`.keras` extension for the native Keras format (recommended) or a `.h5` "
            "extension.")
    with atomic_write(path, overwrite) as f:
        writer(model, f, include_optimizer)


def save_weights(model: Any, filepath: PathLike, overwrite: bool = True, **kwargs: Any) -> None:
    """``.weights.h5`` -> Keras 3 layout; ``.h5``/``.hdf5`` (or any other
    name) -> the legacy Keras HDF5 weights layout."""
    from ckeras.saving import keras_v3, legacy_h5
    path = _path(filepath)
    ext = _ext(path)
    if ext == ".keras":
        raise ValueError(f"save_weights({path!r}): a .keras file holds a whole model; use "
                         "model.save() for it, or a `.weights.h5` name for weights only.")
    writer = keras_v3.save_weights if ext == ".weights.h5" else legacy_h5.save_weights
    with atomic_write(path, overwrite) as f:
        writer(model, f)


# ---- loading ---------------------------------------------------------------------

def _sniff(path):
    """'zip', 'h5' or None, from the file's bytes (not its name)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No file or directory found at {path!r}.")
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a folder (a TensorFlow SavedModel?). ckeras loads "
                         "`.keras` and `.h5` files.")
    size = os.path.getsize(path)
    if size == 0:
        raise ValueError(f"{path!r} is empty (0 bytes): not a saved model.")
    with open(path, "rb") as f:
        head = f.read(8)
        if head.startswith(_ZIP_SIGNATURE):
            return "zip"
        # HDF5 may sit after a user block of 512, 1024, 2048, ... bytes.
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            if f.read(8) == _HDF5_SIGNATURE:
                return "h5"
            offset = 512 if offset == 0 else offset * 2
    return None


def _not_a_model(path):
    return ValueError(f"{path!r} is neither an HDF5 file nor a zip archive, so it is not "
                      "a saved Keras model (`.keras` or `.h5`); the file may be corrupted.")


def _open_h5(path):
    """(h5py.File, its safety.H5Sizes), checked to read nothing outside it."""
    from ckeras.saving.safety import open_h5
    try:
        return open_h5(path, path)
    except OSError as e:
        raise ValueError(f"Cannot read {path!r}: it starts like an HDF5 file but HDF5 "
                         f"cannot open it; it is probably truncated or corrupted ({e}).") from None


def _open_zip(path):
    from ckeras.saving.safety import check_zip
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"Cannot read {path!r}: it starts like a zip archive (`.keras`) "
                         f"but is not a valid one; it is probably truncated or corrupted "
                         f"({e}).") from None
    try:
        check_zip(zf, path)
    except BaseException:
        zf.close()
        raise
    return zf


def _reading(path, fn):
    """Run ``fn`` turning low-level read failures into errors naming the file
    (h5py reports corrupted HDF5 structures as OSError, RuntimeError or
    KeyError)."""
    try:
        return fn()
    except (OSError, zipfile.BadZipFile, EOFError, RuntimeError, KeyError) as e:
        if isinstance(e, (FileNotFoundError, RecursionError, NotImplementedError)):
            raise       # (the last two are RuntimeErrors, not file damage)
        raise ValueError(f"Cannot read {path!r}: the file is truncated or corrupted "
                         f"({type(e).__name__}: {e}).") from e


def load_model(filepath: PathLike, custom_objects: Optional[Dict[str, Any]] = None,
               compile: bool = True, safe_mode: bool = True) -> Any:
    """Load a ``.keras`` archive or a Keras ``.h5`` file (Keras 3 or tf.keras 2).

    ``safe_mode`` is accepted for Keras compatibility; ckeras is always safe:
    it never executes code stored in a file.
    """
    from ckeras.saving import keras_v3, legacy_h5
    if hasattr(filepath, "read") and hasattr(filepath, "seek"):   # a .keras file object
        from ckeras.saving.safety import check_zip

        def run():
            with zipfile.ZipFile(filepath) as zf:
                check_zip(zf, "<file object>")
                return keras_v3.load_model(zf, "<file object>", custom_objects, compile)
        return _reading("<file object>", run)
    path = _path(filepath)
    kind = _sniff(path)
    if kind == "zip":
        def run():
            with _open_zip(path) as zf:
                return keras_v3.load_model(zf, path, custom_objects, compile)
        return _reading(path, run)
    if kind == "h5":
        def run():
            f, sizes = _open_h5(path)
            with f:
                return legacy_h5.load_model(f, path, custom_objects, compile, sizes)
        return _reading(path, run)
    raise _not_a_model(path)


def _check_built(model, path):
    if not getattr(model, "built", False):
        raise ValueError(
            f"Cannot load weights from {path!r} into model {model.name!r}: it has not been "
            "built yet, so its weights do not exist. Give it an Input (or input_shape) or "
            "call model.build(input_shape) first.")


def load_weights(model: Any, filepath: PathLike, skip_mismatch: bool = False,
                 by_name: bool = False, **kwargs: Any) -> None:
    """Weights from a ``.weights.h5`` (Keras 3 layout), a legacy ``.h5`` weights
    file, a full-model ``.h5`` or a ``.keras`` archive."""
    from ckeras.saving import keras_v3, legacy_h5
    from ckeras.saving.safety import open_h5
    path = _path(filepath)
    kind = _sniff(path)
    _check_built(model, path)

    def from_h5(f):
        if keras_v3.is_keras3_weights(f):
            if by_name:
                raise ValueError(f"{path!r} uses the Keras 3 weights layout, which is "
                                 "matched by structure: by_name=True applies only to "
                                 "legacy `.h5` weight files.")
            keras_v3.load_weights(model, f, path, skip_mismatch=skip_mismatch)
            return
        group = f
        if not _h5_has_layers(f) and "model_weights" in f:
            group = f["model_weights"]
        if not _h5_has_layers(group):
            raise ValueError(f"{path!r} holds no Keras weights (no layer_names attribute "
                             "and no Keras 3 `layers`/`vars` groups).")
        legacy_h5.load_weights_group(model, group, path, skip_mismatch=skip_mismatch,
                                     by_name=by_name)

    if kind == "zip":
        def run():
            import io
            with _open_zip(path) as zf:
                if keras_v3.WEIGHTS_FILE not in zf.namelist():
                    raise ValueError(f"{path!r} is a zip archive without "
                                     f"{keras_v3.WEIGHTS_FILE}.")
                data = zf.read(keras_v3.WEIGHTS_FILE)
            f, _ = open_h5(io.BytesIO(data), path)
            with f:
                from_h5(f)
        return _reading(path, run)
    if kind == "h5":
        def run():
            f, _ = _open_h5(path)
            with f:
                from_h5(f)
        return _reading(path, run)
    raise _not_a_model(path)


def _h5_has_layers(group):
    from ckeras.saving.h5_utils import has_name_list
    return has_name_list(group, "layer_names")


def model_from_json(json_string: str, custom_objects: Optional[Dict[str, Any]] = None) -> Any:
    """Model (fresh weights) from ``model.to_json()`` output or a Keras JSON config."""
    from ckeras.saving.model_config import model_from_config, parse_json
    config = parse_json(json_string, "the JSON string", "<json>")
    return model_from_config(config, custom_objects)


def model_from_config(config, custom_objects=None):
    from ckeras.saving.model_config import model_from_config as impl
    return impl(config, custom_objects)
