"""The Keras HDF5 (``.h5``) format: full models and legacy weight files.

Layout and loading rules follow docs/spec/hdf5_format.md: weights are paired
with the model *by position* (weight-bearing layers in order; within a layer,
trainable then non-trainable), names in the file are only labels.
"""
import json
import math
import warnings

import numpy as np

from ckeras.saving import h5_utils, safety
from ckeras.saving.model_config import (BACKEND, KERAS_VERSION, compile_from_config,
                                        legacy_model_config, model_from_config,
                                        parse_json, training_config)


# ---- weights of one layer -------------------------------------------------------------

def legacy_weights(layer):
    """Keras's saved order: all trainable weights, then all non-trainable."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def saved_weight_names(layer, weights):
    """Names written into ``weight_names``: ``Variable.path`` (Keras 3 style),
    unless the layer provides ``_saved_weight_names()``."""
    hook = getattr(layer, "_saved_weight_names", None)
    names = list(hook()) if callable(hook) else [getattr(w, "path", None) or w.name for w in weights]
    if len(names) != len(weights):
        raise ValueError(f"Layer {layer.name!r}: _saved_weight_names() returned "
                         f"{len(names)} names for {len(weights)} weights.")
    out, seen = [], set()
    for name in names:
        name = str(name).lstrip("/") or "weight"
        base, k = name, 1
        while name in seen:        # datasets need distinct paths
            name = f"{base}_{k}"
            k += 1
        seen.add(name)
        out.append(name)
    return out


# ---- writing -----------------------------------------------------------------------------

def write_weights_group(model, group):
    """``model_weights`` (or a legacy weights file's root) for ``model``."""
    layers = list(model.layers)
    h5_utils.write_name_list(group, "layer_names", [l.name for l in layers])
    h5_utils.write_str_attr(group, "backend", BACKEND, ascii=True)
    h5_utils.write_str_attr(group, "keras_version", KERAS_VERSION, ascii=True)
    for layer in layers:
        sub = group.create_group(layer.name)
        weights = legacy_weights(layer)
        names = saved_weight_names(layer, weights)
        h5_utils.write_name_list(sub, "weight_names", names)
        for name, w in zip(names, weights):
            sub.create_dataset(name, data=np.asarray(w.value, dtype=np.float32))
    if "top_level_model_weights" not in group:
        top = group.create_group("top_level_model_weights")
        h5_utils.write_name_list(top, "weight_names", [])


def write_optimizer_group(group, variables):
    names = [n for n, _ in variables]
    h5_utils.write_name_list(group, "weight_names", names)
    for name, value in variables:
        group.create_dataset(name, data=np.asarray(value))


def save_model(model, fileobj, include_optimizer=True):
    """Write the full model into an open binary file object."""
    import h5py
    model_config = json.dumps(legacy_model_config(model))
    train_config = None
    opt_vars = None
    opt = getattr(model, "optimizer", None)
    if (include_optimizer and getattr(model, "compiled", False) and opt is not None
            and not isinstance(opt, str)):
        train_config = json.dumps(training_config(model))
        if getattr(opt, "built", False):
            opt_vars = [(n, np.array(v, copy=True)) for n, v in opt.variables()]
    with h5py.File(fileobj, "w") as f:
        h5_utils.write_str_attr(f, "keras_version", KERAS_VERSION)
        h5_utils.write_str_attr(f, "backend", BACKEND)
        h5_utils.write_str_attr(f, "model_config", model_config, ascii=True)
        if train_config is not None:
            h5_utils.write_str_attr(f, "training_config", train_config, ascii=True)
        write_weights_group(model, f.create_group("model_weights"))
        if opt_vars:
            write_optimizer_group(f.create_group("optimizer_weights"), opt_vars)


# ---- reading ---------------------------------------------------------------------------------

def _read_layer_entries(group, filepath):
    entries = []
    for name in h5_utils.read_name_list(group, "layer_names"):
        if name not in group:
            raise ValueError(f"{filepath!r}: layer_names lists {name!r} but the file has "
                             "no group of that name (truncated or hand-edited file?).")
        sub = group[name]
        wnames = h5_utils.read_name_list(sub, "weight_names")
        entries.append((name, sub, wnames))
    return entries


def _read_shapes(sub, wnames, layer_name, filepath):
    """Declared shapes of a layer's datasets (nothing is read yet)."""
    shapes = []
    for wn in wnames:
        if wn not in sub:
            raise ValueError(f"{filepath!r}: layer {layer_name!r} lists weight {wn!r} "
                             "but the dataset is missing.")
        shape = safety.dataset_shape(sub[wn])
        if shape is None:
            raise ValueError(f"{filepath!r}: layer {layer_name!r}'s weight {wn!r} is not "
                             "an HDF5 dataset.")
        shapes.append(shape)
    return shapes


def _read_values(sub, wnames, shapes, layer_name, filepath):
    return [safety.read_weight(sub[wn], shape, f"layer {layer_name!r}'s weight {wn!r}",
                               filepath) for wn, shape in zip(wnames, shapes)]


def _match(layer, file_name, wnames, shapes, filepath, position):
    """Return an error message, or None if datasets of ``shapes`` fit ``layer``."""
    weights = legacy_weights(layer)
    where = (f"layer #{position} {layer.name!r} ({type(layer).__name__})"
             + (f" (stored as {file_name!r})" if file_name != layer.name else ""))
    if len(shapes) != len(weights):
        return (f"Weight count mismatch for {where} in {filepath!r}: the model layer "
                f"expects {len(weights)} weights {[tuple(w.shape) for w in weights]}, "
                f"the file holds {len(shapes)} {wnames}.")
    for w, shape, wn in zip(weights, shapes, wnames):
        if tuple(shape) != tuple(w.shape):
            return (f"Shape mismatch for {where} in {filepath!r}: weight "
                    f"{getattr(w, 'path', w.name)!r} expects shape {tuple(w.shape)}, "
                    f"the file's {wn!r} has shape {tuple(shape)}.")
    return None


def load_weights_group(model, group, filepath, skip_mismatch=False, by_name=False):
    """Assign weights from a legacy weights group to ``model`` (all or nothing,
    apart from layers skipped with ``skip_mismatch``)."""
    entries = _read_layer_entries(group, filepath)
    top = group.get("top_level_model_weights") if hasattr(group, "get") else None
    if top is not None and h5_utils.read_name_list(top, "weight_names"):
        raise ValueError(f"{filepath!r} holds weights owned by the model itself "
                         "(top_level_model_weights), which ckeras models do not have.")
    plan = []
    if by_name:
        by_file = {name: (sub, wn) for name, sub, wn in entries if wn}
        for i, layer in enumerate(model.layers):
            if layer.name not in by_file or not legacy_weights(layer):
                continue
            sub, wnames = by_file[layer.name]
            plan.append((i, layer, layer.name, wnames, sub))
    else:
        layers = [l for l in model.layers if legacy_weights(l)]
        filtered = [(name, sub, wn) for name, sub, wn in entries if wn]
        if len(layers) != len(filtered):
            raise ValueError(
                f"Layer count mismatch when loading weights from {filepath!r}: the model "
                f"has {len(layers)} layers with weights {[l.name for l in layers]}, the "
                f"file has weights for {len(filtered)} layers {[n for n, _, _ in filtered]}.")
        plan = [(i, layer, name, wn, sub)
                for i, (layer, (name, sub, wn)) in enumerate(zip(layers, filtered))]
    assignments = []
    for i, layer, file_name, wnames, sub in plan:
        shapes = _read_shapes(sub, wnames, file_name, filepath)
        problem = _match(layer, file_name, wnames, shapes, filepath, i)
        if problem is not None:
            if skip_mismatch:
                warnings.warn(problem + " Skipping this layer (skip_mismatch=True).",
                              stacklevel=3)
                continue
            raise ValueError(problem)
        assignments.append((layer, (sub, wnames, shapes, file_name)))
    assignments = [(layer, _read_values(*entry, filepath)) for layer, entry in assignments]
    for layer, values in assignments:
        for w, v in zip(legacy_weights(layer), values):
            w.assign(v)


def read_optimizer_group(group, filepath, limit):
    """(names, values); no slot may be larger than ``limit`` elements (the
    model's largest weight)."""
    names = h5_utils.read_name_list(group, "weight_names")
    return names, read_optimizer_values(group, names, filepath, limit)


def read_optimizer_values(group, names, filepath, limit):
    values = []
    for n in names:
        if n not in group:
            raise ValueError(f"{filepath!r}: optimizer weight {n!r} is listed but missing.")
        shape = safety.dataset_shape(group[n])
        if shape is None:
            raise ValueError(f"{filepath!r}: optimizer weight {n!r} is not an HDF5 dataset.")
        if math.prod(shape) > limit:
            raise ValueError(f"{filepath!r}: optimizer weight {n!r} has shape {shape}, "
                             f"larger than any model weight ({limit:,} elements).")
        values.append(safety.read_weight(group[n], None, f"optimizer weight {n!r}",
                                         filepath))
    return values


def largest_weight(model):
    return max([int(np.prod(w.shape)) for w in model.weights] + [1])


def restore_optimizer_state(model, names, values, filepath):
    """Build the optimizer's slots and set them by position (Keras 3 order).

    A tf.keras 2 file has no learning-rate variable: the current one is kept.
    On any mismatch, warn and keep a fresh optimizer, as Keras does.
    """
    opt = model.optimizer
    if not getattr(model, "built", False):
        return      # no weights yet: the optimizer builds on the first step
    try:
        opt.build(model.trainable_weights)
        ours = opt.variables()
        values = list(values)
        has_lr = any(n.split("/")[-1].split(":")[0] in ("learning_rate", "lr") for n in names)
        if (len(values) == len(ours) - 1 and len(ours) > 1
                and ours[1][0].endswith("/learning_rate") and not has_lr):
            values.insert(1, np.array(ours[1][1], copy=True))
        elif len(values) < len(ours) and all(np.ndim(v) == 0 for v in values) \
                and len(values) <= 2 and all(np.ndim(a) == 0 for _, a in ours[:len(values)]):
            # Saved before its first step (Keras writes iteration and learning
            # rate only): keep the fresh slots.
            values += [np.array(a, copy=True) for _, a in ours[len(values):]]
        opt.set_variables(values)
    except (ValueError, TypeError) as e:
        warnings.warn(f"{filepath!r}: could not restore the optimizer state ({e}); "
                      "the optimizer starts fresh.", stacklevel=3)


def load_model(f, filepath, custom_objects=None, compile=True, sizes=None):
    """Full model from an open ``h5py.File`` checked by ``safety.check_h5``
    (``sizes``: what that returned)."""
    attrs = f.attrs
    if "model_config" not in attrs:
        raise ValueError(
            f"No model config found in {filepath!r}: it is an HDF5 file but not a saved "
            "Keras model (a weights-only file?). Build the model in code and call "
            "model.load_weights() instead.")
    config = parse_json(h5_utils.decode_attr(attrs, "model_config", filepath),
                        "model_config", filepath)
    if sizes is None:
        sizes = safety.check_h5(f, filepath)
    with safety.weight_budget(sizes, filepath):
        model = model_from_config(config, custom_objects, filepath)
    group = f["model_weights"] if "model_weights" in f else f
    if not h5_utils.has_name_list(group, "layer_names"):
        raise ValueError(f"{filepath!r} has a model config but no weights "
                         "(no model_weights/layer_names).")
    load_weights_group(model, group, filepath)
    if not compile:
        return model
    if "training_config" not in attrs:
        warnings.warn(f"No training configuration found in {filepath!r}, so the model "
                      "was *not* compiled. Compile it manually.", stacklevel=5)
        return model
    tc = parse_json(h5_utils.decode_attr(attrs, "training_config", filepath),
                    "training_config", filepath)
    compile_from_config(model, tc, custom_objects, filepath)
    if "optimizer_weights" in f:
        names, values = read_optimizer_group(f["optimizer_weights"], filepath,
                                             largest_weight(model))
        restore_optimizer_state(model, names, values, filepath)
    return model


def save_weights(model, fileobj):
    import h5py
    with h5py.File(fileobj, "w") as f:
        write_weights_group(model, f)
