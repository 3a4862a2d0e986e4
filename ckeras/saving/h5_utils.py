"""Small HDF5 helpers: tolerant attribute decoding and Keras's chunked name
lists (docs/spec/hdf5_format.md §1.1-1.2). h5py is imported by the callers."""
import numpy as np

# Keras refuses single names longer than this and splits longer lists.
HDF5_OBJECT_HEADER_LIMIT = 64512


def decode(value):
    """str for any scalar string attribute (str, bytes, numpy bytes/str)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return decode(value[()])
    if isinstance(value, (np.bytes_, np.str_)):
        return decode(value.item())
    return value


def decode_attr(attrs, name, filepath):
    """A scalar text attribute as str, or a ValueError naming it (numbers,
    complex values, arrays and non-UTF-8 bytes are refused)."""
    try:
        value = attrs[name]
    except (OSError, TypeError, ValueError) as e:
        raise ValueError(f"{filepath!r}: attribute {name!r} cannot be read ({e}).") from None
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (np.bytes_, np.str_)):
        value = value.item()
    if not isinstance(value, (str, bytes)):
        kind = getattr(value, "dtype", type(value).__name__)
        raise ValueError(f"{filepath!r}: attribute {name!r} must be a text string, got "
                         f"{kind} {str(value)[:60]!r}.")
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{filepath!r}: attribute {name!r} is not UTF-8 text "
                             f"({e}).") from None
    return value


def decode_list(value):
    """A list of str from a 1-D string array; an empty numeric array is []."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, np.bytes_, np.str_)):
        return [decode(value)]
    arr = np.asarray(value)
    if arr.size == 0:
        return []
    if arr.dtype.kind not in ("S", "U", "O"):
        raise ValueError(f"expected an array of strings, got dtype {arr.dtype}")
    out = []
    for v in arr.reshape(-1).tolist():
        try:
            v = decode(v)
        except UnicodeDecodeError as e:
            raise ValueError(f"a name is not UTF-8 text ({e})") from None
        if not isinstance(v, str):
            raise ValueError(f"expected an array of strings, got an element {v!r}")
        out.append(v)
    return out


def read_name_list(group, name):
    """``attrs[name]``, or the concatenation of ``name0``, ``name1``, ..."""
    try:
        if name in group.attrs:
            return decode_list(group.attrs[name])
        out, i = [], 0
        while f"{name}{i}" in group.attrs:
            out.extend(decode_list(group.attrs[f"{name}{i}"]))
            i += 1
        return out
    except (ValueError, TypeError, OSError) as e:
        raise ValueError(f"HDF5 attribute {name!r} of {group.name!r}: {e}") from None


def has_name_list(group, name):
    return name in group.attrs or f"{name}0" in group.attrs


def write_name_list(group, name, names):
    """Keras's layout: empty -> float64 array of shape (0,); too large for one
    object header -> ``name0``, ``name1``, ... chunks (np.array_split)."""
    import h5py
    names = [str(n) for n in names]
    if not names:
        group.attrs[name] = np.zeros((0,), dtype=np.float64)
        return
    encoded = [n.encode("utf-8") for n in names]
    too_long = [n for n, e in zip(names, encoded) if len(e) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise ValueError(f"Cannot save a name longer than {HDF5_OBJECT_HEADER_LIMIT} "
                         f"bytes in HDF5 attribute {name!r}: {too_long[0][:80]!r}...")
    ascii_only = all(len(e) == len(n) for n, e in zip(names, encoded))
    dtype = h5py.string_dtype("ascii" if ascii_only else "utf-8")
    width = max(len(e) for e in encoded)
    # Same criterion as Keras: the fixed-width array size of each chunk.
    chunks = 1
    while width * -(-len(names) // chunks) > HDF5_OBJECT_HEADER_LIMIT:
        chunks += 1
    values = encoded if ascii_only else names
    if chunks == 1:
        group.attrs.create(name, np.array(values, dtype=object), dtype=dtype)
        return
    for i, part in enumerate(np.array_split(np.array(values, dtype=object), chunks)):
        group.attrs.create(f"{name}{i}", part, dtype=dtype)


def write_str_attr(obj, name, text, ascii=False):
    """Scalar variable-length string: UTF-8 for str, ASCII charset for bytes
    (what Keras writes for model_config / training_config)."""
    obj.attrs[name] = text.encode("utf-8") if ascii else text
