"""Run an unchanged Keras script on ckeras: ``python -m ckeras run train.py``.

While the script runs, a meta-path finder answers the imports a Keras
script makes: ``keras``, ``keras.*``, ``tf_keras``, ``tensorflow.keras`` and
``tensorflow.keras.*`` resolve to the matching ``ckeras`` modules (the very
same module objects, so ``keras.layers.Dense is ckeras.layers.Dense``), and
``tensorflow`` itself is a stand-in whose only attributes are ``keras`` and the
dtype names scripts pass to Keras (``tf.float32``, ``tf.string``: the dtype
strings Keras 3 takes in their place); any other use (``tf.constant``, ``tf.data``, ``import tensorflow.compat.v1``)
raises TensorFlowNotProvided naming what was used. Nothing is installed; the
finder is removed when the script ends, so ``import keras`` elsewhere is
untouched.
"""
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import types

# Alias prefix -> the ckeras package it stands for.
_ALIASES = {"keras": "ckeras", "tf_keras": "ckeras", "tensorflow.keras": "ckeras"}


class TensorFlowNotProvided(RuntimeError):
    """The script used TensorFlow beyond its Keras API."""


# What to use instead, for the TensorFlow names Keras scripts use most.
_HINTS = {
    "random": "keras.utils.set_random_seed(seed) instead of tf.random.set_seed(seed)",
    "data": "numpy arrays or a keras.utils.PyDataset instead of tf.data",
    "constant": "np.asarray(...) instead of tf.constant(...)",
    "convert_to_tensor": "np.asarray(...) instead of tf.convert_to_tensor(...)",
    "config": "ckeras.backend.set_num_threads(n) for thread settings; there is no GPU",
    "__version__": "ckeras.__version__ for the version of ckeras",
}


def _not_provided(what):
    name = what.split(".")[1] if "." in what else what
    hint = _HINTS.get(name, "numpy or a Keras API instead")
    return TensorFlowNotProvided(
        f"`{what}` is TensorFlow, not Keras: ckeras provides only the Keras API "
        f"(`tensorflow.keras` / `tf.keras`), running on numpy. Use {hint}.")


# tf.<dtype> as Keras arguments (Input(dtype=tf.string), astype(tf.float32)).
_DTYPES = frozenset(["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32",
                     "int64", "uint8", "uint16", "uint32", "uint64", "bool", "string"])


class _TensorFlowStandIn(types.ModuleType):
    """``import tensorflow as tf`` gives this: ``tf.keras`` is ckeras, anything
    else raises TensorFlowNotProvided."""

    def __getattr__(self, name):
        if name == "keras":
            return importlib.import_module("ckeras")
        if name in _DTYPES:
            return name
        if name.startswith("__") and name.endswith("__") and name != "__version__":
            raise AttributeError(name)  # what the import system and tools probe
        raise _not_provided(f"tensorflow.{name}")


def _target(fullname):
    """The ckeras module name an aliased import stands for, or None."""
    for alias, real in _ALIASES.items():
        if fullname == alias:
            return real
        if fullname.startswith(alias + "."):
            return real + fullname[len(alias):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        if self.target is None:
            module = _TensorFlowStandIn("tensorflow")
            module.__path__ = []  # a package, so `tensorflow.keras` is asked of the finder
            return module
        module = importlib.import_module(self.target)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module):
        if self.target is not None:
            module.__spec__ = self._own_spec  # the import system set the alias's spec


class KerasAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves Keras and tf.keras imports to ckeras (see the module doc)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "tensorflow":
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(None),
                                                  is_package=True)
        real = _target(fullname)
        if real is None:
            if fullname.startswith("tensorflow."):
                raise _not_provided(fullname)
            return None
        real_spec = importlib.util.find_spec(real)
        if real_spec is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: ckeras has no {real!r} (ckeras implements "
                "the Keras API, not every internal module).", name=fullname)
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(real),
            is_package=real_spec.submodule_search_locations is not None)


def _is_alias(name):
    return name == "tensorflow" or name.startswith("tensorflow.") or _target(name) is not None


@contextlib.contextmanager
def keras_aliases():
    """Inside the block, Keras/tf.keras imports resolve to ckeras."""
    finder = KerasAliasFinder()
    saved = {k: v for k, v in sys.modules.items() if _is_alias(k)}
    for k in saved:
        del sys.modules[k]
    sys.meta_path.insert(0, finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if _is_alias(k)]:
            del sys.modules[k]
        sys.modules.update(saved)


def run_script(path, args=()):
    """Execute ``path`` as ``__main__`` with ``sys.argv = [path, *args]`` and
    the script's folder first on sys.path, as ``python path args`` does."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"python -m ckeras run: no such script: {path!r}")
    saved_argv, saved_path0 = sys.argv, list(sys.path)
    sys.argv = [path] + list(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with keras_aliases():
            runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path0
