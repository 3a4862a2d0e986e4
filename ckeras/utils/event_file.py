"""TensorBoard event files without TensorFlow: the TFRecord framing, the few
protobuf fields of ``Event``/``Summary`` a scalar needs, and a reader.

A record is ``uint64 length | uint32 masked_crc32c(length) | data |
uint32 masked_crc32c(data)`` (little-endian). ``data`` is an ``Event``:
wall_time (field 1, double), step (2, varint), file_version (3, string) or
summary (5, message); a ``Summary`` holds repeated ``Value`` (1) with tag
(1, string) and simple_value (2, float).
"""
import os
import socket
import struct
import time

# ---- CRC-32C (Castagnoli), the checksum TFRecord uses ------------------------------

def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """TFRecord's masked checksum: rotate right by 15, add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---- protobuf, by hand -------------------------------------------------------------

def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1          # negative int64 as protobuf writes it
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _key(field, wire_type):
    return _varint(field << 3 | wire_type)


def _bytes_field(field, payload):
    return _key(field, 2) + _varint(len(payload)) + payload


def encode_event(wall_time, step=0, file_version=None, scalars=None):
    """An ``Event``: the file header (``file_version``) or a summary of
    ``{tag: value}`` scalars at ``step``."""
    out = _key(1, 1) + struct.pack("<d", wall_time)
    if step:
        out += _key(2, 0) + _varint(int(step))
    if file_version is not None:
        out += _bytes_field(3, file_version.encode("utf-8"))
    if scalars:
        summary = b"".join(
            _bytes_field(1, _bytes_field(1, tag.encode("utf-8")) +
                         _key(2, 5) + struct.pack("<f", float(value)))
            for tag, value in scalars.items())
        out += _bytes_field(5, summary)
    return out


def frame_record(data):
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data +
            struct.pack("<I", masked_crc32c(data)))


class EventFileWriter:
    """Appends events to ``logdir/events.out.tfevents.<time>.<host>.<pid>.v2``
    (the name TensorBoard looks for), created on first use."""

    _count = 0

    def __init__(self, logdir):
        self.logdir = logdir
        self.path = None
        self._file = None

    def _open(self):
        os.makedirs(self.logdir, exist_ok=True)
        EventFileWriter._count += 1
        name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{EventFileWriter._count}.v2")
        self.path = os.path.join(self.logdir, name)
        self._file = open(self.path, "wb")
        self._file.write(frame_record(encode_event(time.time(), file_version="brain.Event:2")))

    def scalars(self, values, step):
        if not values:
            return
        if self._file is None:
            self._open()
        self._file.write(frame_record(encode_event(time.time(), step=step, scalars=values)))
        self._file.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


# ---- reading -----------------------------------------------------------------------

def _read_varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def _fields(buf):
    """(field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        elif wire == 2:
            n, i = _read_varint(buf, i)
            value, i = buf[i:i + n], i + n
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def decode_event(data):
    """{"wall_time", "step", "file_version" or "scalars": {tag: value}}."""
    event = {"step": 0}
    for field, _, value in _fields(data):
        if field == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif field == 2:
            event["step"] = value - (1 << 64) if value >> 63 else value
        elif field == 3:
            event["file_version"] = value.decode("utf-8")
        elif field == 5:
            scalars = event.setdefault("scalars", {})
            for f, _, item in _fields(value):
                if f != 1:
                    continue
                parts = {k: v for k, _, v in _fields(item)}
                if 2 in parts:
                    scalars[parts[1].decode("utf-8")] = struct.unpack("<f", parts[2])[0]
    return event


def read_events(path):
    """Every event of a file, checking both checksums of each record."""
    with open(path, "rb") as f:
        blob = f.read()
    events, i = [], 0
    while i < len(blob):
        header = blob[i:i + 8]
        if len(header) < 8 or struct.unpack("<I", blob[i + 8:i + 12])[0] != masked_crc32c(header):
            raise ValueError(f"{path}: corrupted record length at byte {i}")
        n = struct.unpack("<Q", header)[0]
        data = blob[i + 12:i + 12 + n]
        crc = blob[i + 12 + n:i + 16 + n]
        if len(data) < n or struct.unpack("<I", crc)[0] != masked_crc32c(data):
            raise ValueError(f"{path}: corrupted record data at byte {i}")
        events.append(decode_event(data))
        i += 16 + n
    return events
