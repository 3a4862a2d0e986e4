"""Tiny files in the exact formats of Keras's dataset downloads."""
import gzip
import io
import pickle
import tarfile

import numpy as np


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def object_array(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


def idx_gz(array):
    """gzipped IDX: magic (0, 0, dtype 0x08 = uint8, ndim), big-endian dims, data."""
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes())


def cifar_batch(data, labels, label_key=b"labels"):
    """A batch pickled as the CIFAR python files are (bytes keys, protocol 2)."""
    d = {b"batch_label": b"batch", label_key: list(labels),
         b"data": np.asarray(data, np.uint8).reshape(len(data), 3072)}
    return pickle.dumps(d, protocol=2)


def tar_gz(members):
    """A .tar.gz of {path: bytes}."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
