"""Models: Sequential, the functional Model, and loading saved ones."""
from ckeras.models.model import Model
from ckeras.models.sequential import Sequential
from ckeras.models.functional import Functional


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    from ckeras.saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    from ckeras.saving import save_model as _save
    return _save(model, filepath, overwrite=overwrite, include_optimizer=include_optimizer)


def model_from_json(json_string, custom_objects=None):
    from ckeras.saving import model_from_json as _from_json
    return _from_json(json_string, custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    from ckeras.models.cloning import clone_model as _clone
    return _clone(model, input_tensors=input_tensors, clone_function=clone_function,
                  call_function=call_function, recursive=recursive, **kwargs)
