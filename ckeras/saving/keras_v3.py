"""Keras 3's native formats: ``.weights.h5`` and the ``.keras`` zip archive.

Layout (checked against files written by real Keras 3.15.1):

    vars/                        @name = model name (the model's own variables: none)
    layers/<key>/vars/0, 1, ...  one group per layer of ``model.layers``; <key> is the
                                 snake-cased *class* name made unique by a counter in
                                 layer order (dense, dense_1, input_layer, ...), not
                                 the layer's name; @name = the layer's name
    layers/<key>/<attr>/vars/... a sub-layer held in attribute <attr> (LSTM: cell)
    layers/<key>/layers/...      a nested model, recursively
    optimizer/vars/0, 1, ...     optimizer.variables(): iteration, learning_rate, slots

A layer's own variables are stored trainable first, then non-trainable, in
creation order. A layer may override the grouping with
``_keras3_variable_groups() -> [(subpath, [Variable, ...]), ...]`` (subpath ""
is the layer's own ``vars``).

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` (the model's
full serialization with ``compile_config``) and ``model.weights.h5``, plus
``assets/<layer path>/vocabulary.txt`` for each lookup layer Keras adapted: an
adapted vocabulary is not in Keras's config. The file has one token per
line, special tokens first; tf_idf's weights are the dataset ``idf_weights`` in
the layer's vars group. ckeras writes the vocabulary into the config instead
(Keras reads that as a given vocabulary) and reads both.
"""
import datetime
import io
import json
import warnings
import zipfile

import numpy as np

from ckeras.registry import to_snake_case
from ckeras.saving import safety
from ckeras.saving.legacy_h5 import (largest_weight, legacy_weights, read_optimizer_values,
                                     restore_optimizer_state)
from ckeras.saving.model_config import (KERAS_VERSION, compile_config, compile_from_config,
                                        full_model_config, model_from_config, parse_json)

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
VOCABULARY_FILE = "vocabulary.txt"


def _is_model(obj):
    return getattr(obj, "_is_model", False)


def _is_layer(obj):
    from ckeras.layers.layer import Layer
    return isinstance(obj, Layer)


def _own_variables(layer, exclude=()):
    own = [w for w in getattr(layer, "_weights", []) if id(w) not in exclude]
    return [w for w in own if w.trainable] + [w for w in own if not w.trainable]


def _container_keys(objs):
    """Keras's names for a list of saveables: snake class name + counter."""
    used, keys = {}, []
    for obj in objs:
        key = to_snake_case(type(obj).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        keys.append(key)
    return keys


def _all_weight_ids(layer):
    ids = {id(w) for w in getattr(layer, "_weights", [])}
    for _, child in _child_layers(layer):
        ids |= _all_weight_ids(child)
    return ids


def _child_layers(layer):
    """(path, sub-layer) for sub-layers held in public attributes."""
    out = []
    for attr in sorted(vars(layer)):
        if attr.startswith("_"):
            continue
        value = getattr(layer, attr, None)
        if _is_layer(value) and value is not layer:
            out.append((attr, value))
        elif isinstance(value, (list, tuple)) and value and all(_is_layer(v) for v in value):
            for key, v in zip(_container_keys(value), value):
                out.append((f"{attr}/{key}", v))
    return out


def variable_groups(obj, path, visited=None):
    """[(group path, object name, [variables])] for ``obj`` in Keras 3's layout."""
    visited = set() if visited is None else visited
    if id(obj) in visited:
        return []
    visited.add(id(obj))
    join = (lambda p: f"{path}/{p}" if path else p)
    if _is_model(obj):
        out = [(join("vars"), obj.name, [])]
        layers = list(obj.layers)
        for key, layer in zip(_container_keys(layers), layers):
            out.extend(variable_groups(layer, join(f"layers/{key}"), visited))
        return out
    hook = getattr(obj, "_keras3_variable_groups", None)
    if callable(hook):
        return [(join(f"{sub}/vars" if sub else "vars"), obj.name if not sub else sub.split("/")[-1],
                 list(vs)) for sub, vs in hook()]
    children = _child_layers(obj)
    exclude = set()
    for _, child in children:
        exclude |= _all_weight_ids(child)
    out = [(join("vars"), obj.name, _own_variables(obj, exclude))]
    for attr, child in children:
        out.extend(variable_groups(child, join(attr), visited))
    written = {id(w) for _, _, vs in out for w in vs}
    if written != {id(w) for w in legacy_weights(obj)}:
        # Weights held in a way the attribute scan does not see: never drop any.
        return [(join("vars"), obj.name, legacy_weights(obj))]
    return out


# ---- writing ----------------------------------------------------------------------------------

def write_weights(model, h5file, include_optimizer=True):
    for group_path, name, variables in variable_groups(model, ""):
        group = h5file.require_group(group_path)
        group.attrs["name"] = name
        for i, w in enumerate(variables):
            group.create_dataset(str(i), data=np.asarray(w.value, dtype=np.float32))
    for path, layer in _units(model):
        for sub, name, datasets in getattr(layer, "_keras3_datasets", list)():
            group = h5file.require_group(f"{path}/{sub}/vars" if sub else f"{path}/vars")
            group.attrs["name"] = name
            for key, value in datasets.items():
                group.create_dataset(key, data=value)
    opt = getattr(model, "optimizer", None)
    if include_optimizer and getattr(model, "compiled", False) and opt is not None \
            and hasattr(opt, "variables"):
        group = h5file.require_group("optimizer/vars")
        group.attrs["name"] = opt.name
        for i, (_, value) in enumerate(opt.variables()):
            group.create_dataset(str(i), data=np.asarray(value))


def save_weights(model, fileobj):
    import h5py
    with h5py.File(fileobj, "w") as f:
        write_weights(model, f)


def save_model(model, fileobj, include_optimizer=True):
    import h5py
    compiled = include_optimizer and getattr(model, "compiled", False) and \
        getattr(model, "optimizer", None) is not None
    config = full_model_config(model, compile_config(model) if compiled else None)
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        write_weights(model, f, include_optimizer=compiled)
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(METADATA_FILE, json.dumps(metadata))
        z.writestr(CONFIG_FILE, json.dumps(config))
        z.writestr(WEIGHTS_FILE, buf.getvalue())


# ---- reading ------------------------------------------------------------------------------------

def is_keras3_weights(h5file):
    return "layer_names" not in h5file.attrs and "model_weights" not in h5file and (
        "layers" in h5file or "vars" in h5file)


def _flat_file_vars(group):
    """Every dataset under a layer's group: its vars, then sub-groups sorted."""
    out = []
    if "vars" in group:
        vg = group["vars"]
        out.extend(_dataset(vg, str(i)) for i in range(len(vg)))
    for key in sorted(group):
        if key != "vars" and hasattr(group[key], "keys"):
            out.extend(_flat_file_vars(group[key]))
    return out


def _dataset(group, key):
    if key not in group:
        raise ValueError(f"group {group.name!r} does not hold datasets 0..{len(group) - 1}")
    ds = group[key]
    if safety.dataset_shape(ds) is None:
        raise ValueError(f"{group.name}/{key} is not an HDF5 dataset")
    return ds


def _read_vars(h5file, path):
    """The datasets (not yet read) of group ``path``, or None."""
    if path not in h5file:
        return None
    group = h5file[path]
    if not hasattr(group, "keys"):
        raise ValueError(f"{path!r} is not an HDF5 group")
    return [_dataset(group, str(i)) for i in range(len(group))]


def _units(model, path=""):
    """(group path, layer) for every non-model layer, through nested models."""
    layers = list(model.layers)
    for key, layer in zip(_container_keys(layers), layers):
        sub = f"{path}/layers/{key}" if path else f"layers/{key}"
        if _is_model(layer):
            yield from _units(layer, sub)
        else:
            yield sub, layer


def _same_shapes(datasets, variables):
    return len(datasets) == len(variables) and all(
        tuple(d.shape) == tuple(w.shape) for d, w in zip(datasets, variables))


def _plan_layer(h5file, path, layer, filepath):
    """[(variable, value)] for one layer, or an error message."""
    groups = variable_groups(layer, path)
    pairs = []
    for gpath, _, variables in groups:
        values = _read_vars(h5file, gpath) or []
        if not _same_shapes(values, variables):
            break
        pairs.extend(zip(variables, values))
    else:
        return pairs, None
    # The file may group a layer's variables differently (e.g. a sub-layer
    # ckeras does not have): accept the subtree if it matches in legacy order.
    expected = legacy_weights(layer)
    flat = _flat_file_vars(h5file[path]) if path in h5file else []
    if _same_shapes(flat, expected):
        return list(zip(expected, flat)), None
    want = [tuple(w.shape) for w in expected]
    got = [tuple(v.shape) for v in flat]
    return None, (f"{filepath!r}: layer {layer.name!r} ({type(layer).__name__}, group "
                  f"{path!r}) expects {len(want)} variables {want}, the file holds "
                  f"{len(got)} {got}.")


def load_weights(model, h5file, filepath, skip_mismatch=False, load_optimizer=True):
    """Assign weights from a Keras 3 layout; all or nothing unless skip_mismatch."""
    assignments, problems = [], []
    for path, layer in _units(model):
        if not legacy_weights(layer):
            continue
        try:
            pairs, problem = _plan_layer(h5file, path, layer, filepath)
        except ValueError as e:      # a group or dataset of the wrong kind
            raise ValueError(f"{filepath!r}: layer {layer.name!r}: {e}.") from None
        if problem is None:
            assignments.extend(pairs)
        else:
            problems.append(problem)
    if problems and not skip_mismatch:
        more = f" ({len(problems) - 1} more layers mismatch)" if len(problems) > 1 else ""
        raise ValueError(problems[0] + more)
    for p in problems:
        warnings.warn(p + " Skipped (skip_mismatch=True).", stacklevel=3)
    values = [safety.read_weight(ds, w.shape, f"dataset {ds.name!r}", filepath)
              for w, ds in assignments]
    for (w, _), v in zip(assignments, values):
        w.assign(v)
    opt = getattr(model, "optimizer", None)
    if load_optimizer and opt is not None and getattr(model, "compiled", False) \
            and "optimizer/vars" in h5file:
        group = h5file["optimizer/vars"]
        names = [str(i) for i in range(len(group))]
        values = read_optimizer_values(group, names, filepath, largest_weight(model))
        restore_optimizer_state(model, [], values, filepath)


def _check_model_config(config, filepath):
    """A .keras config must describe a model with layers."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(f"{filepath!r}: {CONFIG_FILE} must be a JSON object with a 'config' "
                         f"object describing the model, got {str(config)[:80]!r}.")
    layers = config["config"].get("layers", None)
    if "layers" in config["config"] and (not isinstance(layers, list) or not layers):
        raise ValueError(f"{filepath!r}: {CONFIG_FILE} describes a model with no layers "
                         f"(layers={str(layers)[:40]}); refusing to load an empty model.")


def _saved_idf_weights(h5file, path, n_tokens, filepath):
    """tf_idf's weights from ``<path>/vars/idf_weights``, or None."""
    key = f"{path}/vars/idf_weights"
    if h5file is None or key not in h5file:
        return None
    ds = h5file[key]
    shape = safety.dataset_shape(ds)
    if shape is None or len(shape) != 1 or shape[0] < n_tokens:
        raise ValueError(f"{filepath!r}: {key} must be a 1-D dataset of at least {n_tokens} "
                         f"weights (one per vocabulary entry), got shape {shape}.")
    return safety.read_weight(ds, shape, f"dataset {key!r}", filepath)[:n_tokens]


def _restore_vocabularies(model, zf, h5file, filepath):
    """Give each lookup layer that came without a vocabulary the one Keras saved
    as an asset. The member name is built from the layer's own path, never
    taken from the archive."""
    names = set(zf.namelist())
    for path, layer in _units(model):
        restore = getattr(layer, "_restore_vocabulary", None)
        member = f"assets/{path}/{VOCABULARY_FILE}"
        if restore is None or layer._has_vocabulary() or member not in names:
            continue
        lines = safety.read_text_member(zf, member, filepath, "a vocabulary").splitlines()
        while lines and lines[-1] == "":      # Keras drops trailing empty lines
            lines.pop()
        idf = _saved_idf_weights(h5file, path, len(lines), filepath)
        try:
            restore(lines, idf)
        except ValueError as e:
            raise ValueError(f"{filepath!r}: {member}: {e}") from None


def load_model(zf, filepath, custom_objects=None, compile=True):
    """Model from an open ``zipfile.ZipFile`` of the ``.keras`` format
    (already checked by ``safety.check_zip``)."""
    names = set(zf.namelist())
    if CONFIG_FILE not in names:
        raise ValueError(f"{filepath!r} is a zip file but not a Keras archive: it has no "
                         f"{CONFIG_FILE} (members: {sorted(names)[:10]}).")
    config = parse_json(safety.read_text_member(zf, CONFIG_FILE, filepath), CONFIG_FILE,
                        filepath)
    _check_model_config(config, filepath)
    f, sizes = None, safety.H5Sizes(0, 0)
    if WEIGHTS_FILE in names:
        f, sizes = safety.open_h5(io.BytesIO(zf.read(WEIGHTS_FILE)), filepath)
    try:
        with safety.weight_budget(sizes, filepath):
            model = model_from_config(config, custom_objects, filepath)
        compile_cfg = config.get("compile_config")
        if compile and compile_cfg:
            compile_from_config(model, compile_cfg, custom_objects, filepath)
        if f is not None:
            load_weights(model, f, filepath, load_optimizer=bool(compile and compile_cfg))
        elif any(legacy_weights(l) for l in model.layers):
            raise ValueError(f"{filepath!r} has no {WEIGHTS_FILE}: the archive holds no "
                             "weights.")
        _restore_vocabularies(model, zf, f, filepath)
    finally:
        if f is not None:
            f.close()
    return model
