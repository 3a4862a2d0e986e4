"""What a model file may make the loader do: read only itself, allocate only
what it holds.

A crafted HDF5 file can point outside itself (external links, external raw
storage, virtual datasets, soft links through those), and a crafted config
can declare weights of any size. Before anything is built or read:

* ``check_h5`` walks every object without following links and refuses any
  link other than a hard link, datasets stored outside the file, virtual
  datasets and filters HDF5 would load as plugins. It returns the element
  counts of the largest dataset and of all of them.
* ``check_zip`` refuses ``.keras`` archives whose member names escape the
  archive, that repeat a name, or whose declared sizes are absurd (zip bombs:
  ``zipfile`` never inflates a member past its declared size).
* ``weight_budget(sizes)`` bounds, while a model is rebuilt from a file, every
  weight a layer creates by the largest dataset in that file, and all of them
  together by the file's total; outside it, ``check_weight_shape`` still
  refuses weights larger than physical memory.
* ``check_config`` bounds a config's nesting depth and node count.
* ``read_weight`` reads a dataset only once its declared shape and dtype are
  known to be what the model expects (real numbers, not complex or strings).
"""
import collections
import contextlib
import contextvars
import math
import os
import posixpath

import numpy as np


class UnsafeFileError(ValueError):
    """The file asks the loader to read outside it or to allocate absurd sizes."""


# Slack while loading, per weight and in total: layers may own small
# variables a file does not store (seed state, counters).
_SMALL_WEIGHT = 1 << 20
_SMALL_TOTAL = 1 << 24
# A config nested deeper than this, or with more JSON nodes, is refused.
MAX_CONFIG_DEPTH = 400
MAX_CONFIG_NODES = 5_000_000
# HDF5 objects visited by the scan before giving up on a file.
MAX_H5_OBJECTS = 2_000_000
# .keras members: at most this many, metadata/config at most this large.
MAX_ZIP_MEMBERS = 10_000
MAX_TEXT_MEMBER_BYTES = 1 << 30
# A deflated member may not claim to inflate more than this ratio (plus slack).
MAX_ZIP_RATIO = 1000

_budget = contextvars.ContextVar("ckeras_weight_budget", default=None)


class H5Sizes(collections.namedtuple("H5Sizes", "largest total")):
    """Element counts of a file's largest dataset and of all its datasets."""


def physical_memory():
    """Bytes of RAM of this machine (a large number if unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 1 << 46


def _fmt(n):
    return f"{n:,}"


# ---- HDF5 ---------------------------------------------------------------------------

def check_h5(f, filepath):
    """Refuse links and storage outside the file; return its ``H5Sizes``.
    Never follows a link, never reads data."""
    import h5py
    largest = total = 0
    seen = set()
    stack = [("/", f)]
    visited = 0
    while stack:
        path, group = stack.pop()
        for name in group:
            visited += 1
            if visited > MAX_H5_OBJECTS:
                raise UnsafeFileError(f"{filepath!r} holds more than {_fmt(MAX_H5_OBJECTS)} "
                                      "HDF5 objects: refusing to load it.")
            full = posixpath.join(path, name)
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise UnsafeFileError(
                    f"{filepath!r} contains an HDF5 external link {full!r} -> "
                    f"{link.filename!r}:{link.path!r}. A model file must not point to other "
                    "files; ckeras refuses to load it.")
            if isinstance(link, h5py.SoftLink):
                raise UnsafeFileError(
                    f"{filepath!r} contains an HDF5 soft link {full!r} -> {link.path!r}. "
                    "Keras never writes links; ckeras refuses files with them (a link can "
                    "lead outside the file).")
            if not isinstance(link, h5py.HardLink):
                raise UnsafeFileError(f"{filepath!r} contains an HDF5 link {full!r} of an "
                                      "unsupported kind: refusing to load it.")
            obj = group[name]
            key = _object_key(obj)
            if key in seen:
                continue
            seen.add(key)
            if isinstance(obj, h5py.Dataset):
                _check_storage(obj, full, filepath)
                n = _size(obj.shape)
                largest, total = max(largest, n), total + n
            elif isinstance(obj, h5py.Group):
                stack.append((full, obj))
    return H5Sizes(largest, total)


def _object_key(obj):
    import h5py
    info = h5py.h5o.get_info(obj.id)
    token = getattr(info, "token", None)
    return token if token is not None else info.addr


def _size(shape):
    return math.prod(int(d) for d in shape) if shape is not None else 0


def _check_storage(ds, path, filepath):
    if ds.is_virtual:
        raise UnsafeFileError(
            f"{filepath!r}: dataset {path!r} is an HDF5 virtual dataset (its data lives in "
            "other files); ckeras refuses to load it.")
    plist = ds.id.get_create_plist()
    for i in range(plist.get_nfilters()):
        code = plist.get_filter(i)[0]
        if code not in _BUILTIN_FILTERS:
            raise UnsafeFileError(
                f"{filepath!r}: dataset {path!r} is compressed with HDF5 filter {code}, "
                "which HDF5 would load as a plugin library from disk; ckeras refuses "
                "to load it (Keras files use no filter or the built-in ones).")
    if plist.get_external_count() > 0:
        raise UnsafeFileError(
            f"{filepath!r}: dataset {path!r} keeps its data in external files; a model file "
            "must hold its own data, so ckeras refuses to load it.")
    nbytes = _size(ds.shape) * ds.dtype.itemsize
    if nbytes > physical_memory():
        raise UnsafeFileError(
            f"{filepath!r}: dataset {path!r} declares shape {tuple(ds.shape)} "
            f"({_fmt(nbytes)} bytes), more than this machine's memory; the file is "
            "corrupted or crafted.")


def open_h5(source, filepath):
    """An ``h5py.File`` opened read-only and checked by ``check_h5``; returns
    (file, its H5Sizes). The caller closes the file."""
    import h5py
    f = h5py.File(source, "r")
    try:
        sizes = check_h5(f, filepath)
    except BaseException:
        f.close()
        raise
    return f, sizes


_REAL_KINDS = "fiub"
# Filters built into HDF5 / h5py (deflate, shuffle, fletcher32, szip, nbit,
# scaleoffset, LZF); any other id makes HDF5 search its plugin folders.
_BUILTIN_FILTERS = {1, 2, 3, 4, 5, 6, 32000}


def read_weight(ds, expected_shape, what, filepath):
    """The dataset's values once its shape equals ``expected_shape`` and its
    dtype is a real number type; else UnsafeFileError / ValueError."""
    import h5py
    if not isinstance(ds, h5py.Dataset):
        raise ValueError(f"{filepath!r}: {what} is not a dataset.")
    kind = ds.dtype.kind
    if kind not in _REAL_KINDS:
        desc = {"c": "complex numbers", "S": "fixed-length strings", "U": "strings",
                "O": "variable-length strings or objects", "V": "compound records"}.get(
                    kind, f"dtype {ds.dtype}")
        raise ValueError(f"{filepath!r}: {what} holds {desc} ({ds.dtype}); weights must be "
                         "real numbers.")
    if expected_shape is not None and tuple(ds.shape) != tuple(expected_shape):
        raise ValueError(f"{filepath!r}: {what} has shape {tuple(ds.shape)}, expected "
                         f"{tuple(expected_shape)}.")
    return np.asarray(ds[()])


def dataset_shape(ds):
    """A dataset's declared shape, without reading it (None if not a dataset)."""
    import h5py
    return tuple(ds.shape) if isinstance(ds, h5py.Dataset) and ds.shape is not None else None


# ---- .keras zip ----------------------------------------------------------------------------

def check_zip(zf, filepath):
    """Refuse member names that escape the archive, duplicates, too many
    members and declared sizes a real archive cannot have."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise UnsafeFileError(f"{filepath!r} has {_fmt(len(infos))} members (a Keras archive "
                              f"has a few): refusing to load it.")
    names = set()
    limit = physical_memory()
    total = sum(info.file_size for info in infos)
    if total > limit:
        raise UnsafeFileError(f"{filepath!r}: the archive's members declare {_fmt(total)} "
                              "bytes in all, more than this machine's memory.")
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if (name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]
                or "\x00" in name):
            raise UnsafeFileError(f"{filepath!r}: archive member {name!r} points outside "
                                  "the archive: refusing to load it.")
        if name in names:
            raise UnsafeFileError(f"{filepath!r}: archive member {name!r} appears twice: "
                                  "refusing an ambiguous archive.")
        names.add(name)
        if info.file_size > limit:
            raise UnsafeFileError(
                f"{filepath!r}: archive member {name!r} declares {_fmt(info.file_size)} "
                "bytes, more than this machine's memory.")
        if (info.compress_type != 0
                and info.file_size > MAX_ZIP_RATIO * info.compress_size + (1 << 20)):
            raise UnsafeFileError(
                f"{filepath!r}: archive member {name!r} claims to inflate "
                f"{_fmt(info.compress_size)} bytes to {_fmt(info.file_size)} (a zip bomb?): "
                "refusing to load it.")


def read_text_member(zf, name, filepath, what="a config"):
    """A UTF-8 member (config.json, a vocabulary), bounded in size."""
    info = zf.getinfo(name)
    if info.file_size > MAX_TEXT_MEMBER_BYTES:
        raise UnsafeFileError(f"{filepath!r}: {name} declares {_fmt(info.file_size)} bytes; "
                              f"{what} is at most {_fmt(MAX_TEXT_MEMBER_BYTES)}.")
    data = zf.read(name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{filepath!r}: {name} is not UTF-8 text ({e}).") from None


# ---- configs --------------------------------------------------------------------------------

def check_config(obj, what, filepath):
    """Bound nesting depth and size without recursion."""
    stack = [(obj, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_CONFIG_DEPTH:
            raise UnsafeFileError(f"{filepath!r}: {what} is nested more than "
                                  f"{MAX_CONFIG_DEPTH} levels deep: refusing to load it.")
        if nodes > MAX_CONFIG_NODES:
            raise UnsafeFileError(f"{filepath!r}: {what} has more than "
                                  f"{_fmt(MAX_CONFIG_NODES)} entries: refusing to load it.")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


# ---- weight sizes --------------------------------------------------------------------------

class _Budget:
    def __init__(self, sizes, filepath):
        self.sizes, self.filepath = sizes, filepath
        self.per_weight = max(int(sizes.largest), _SMALL_WEIGHT)
        self.left = int(sizes.total) + _SMALL_TOTAL
        self.allocated = 0


@contextlib.contextmanager
def weight_budget(sizes, filepath):
    """While active, a layer may not create a weight larger than the file's
    largest dataset, nor all layers together more than the file holds (each
    plus some slack for variables files do not store)."""
    token = _budget.set(_Budget(sizes, filepath))
    try:
        yield
    finally:
        _budget.reset(token)


def check_weight_shape(layer, name, shape):
    """Called by Layer.add_weight before allocating ``shape``."""
    for d in shape:
        if d < 0:
            raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}): weight {name!r} "
                             f"would have a negative dimension, shape {tuple(shape)}.")
    n = math.prod(shape)
    nbytes = 4 * n
    if nbytes > physical_memory():
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}): weight {name!r} of shape "
            f"{tuple(shape)} needs {_fmt(nbytes)} bytes, more than this machine's memory "
            f"({_fmt(physical_memory())} bytes). Check the layer's size arguments.")
    budget = _budget.get()
    if budget is None:
        return
    where = (f"{budget.filepath!r}: layer {layer.name!r} ({type(layer).__name__}) declares "
             f"weight {name!r} of shape {tuple(shape)} ({_fmt(n)} elements), but ")
    if n > budget.per_weight:
        raise UnsafeFileError(
            where + f"the largest dataset in the file holds {_fmt(budget.sizes.largest)} "
            "elements: the config does not match the weights (corrupted or crafted file).")
    budget.allocated += n
    if budget.allocated > budget.left:
        raise UnsafeFileError(
            where + f"the layers so far already declare {_fmt(budget.allocated)} elements "
            f"and the file holds {_fmt(budget.sizes.total)} in all: the config does not "
            "match the weights (corrupted or crafted file).")
