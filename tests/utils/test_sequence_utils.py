"""pad_sequences and to_categorical against golden data measured on Keras 3."""
import builtins
import json
import math
import pathlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckeras.preprocessing import sequence
from ckeras.utils.sequence_utils import pad_sequences, to_categorical

GOLDEN = json.loads(
    (pathlib.Path(__file__).parent.parent / "data" / "preprocessing_golden.json")
    .read_text(encoding="utf-8"))


def decode(value):
    """Undo the golden file's JSON conventions ("NaN", the Python type object)."""
    if value == "NaN":
        return math.nan
    if value == "<python type object>":
        return object
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


def check_error(call, expected):
    with pytest.raises(Exception) as info:
        call()
    assert type(info.value).__name__ == expected["type"]
    assert str(info.value) == expected["message"]


@pytest.mark.parametrize("case", GOLDEN["pad_sequences_cases"], ids=lambda c: c["id"])
def test_pad_sequences_golden(case):
    assert case["tf_keras_agrees"]
    sequences = decode(case["sequences"])
    if case["id"] == "tuple_members":  # JSON cannot say so: the members were tuples
        sequences = [tuple(s) for s in sequences]
    kwargs = decode(case["kwargs"])
    if "error" in case:
        check_error(lambda: pad_sequences(sequences, **kwargs), case["error"])
        return
    got = pad_sequences(sequences, **kwargs)
    assert got.dtype == np.dtype(case["dtype"])
    assert list(got.shape) == case["shape"]
    expected = np.array(decode(case["result"]), dtype=got.dtype).reshape(got.shape)
    np.testing.assert_array_equal(got, expected)


# Keras 3 silently truncates fractional labels and wraps negative ones;
# ckeras refuses both (issue 16). Out-of-range labels raise an IndexError in
# both, with ckeras's own message.
REFUSED = {"float_labels_truncated": "whole numbers", "negative_index_wraps": ">= 0",
           "error_index_out_of_range": "out of range for num_classes=3"}


@pytest.mark.parametrize("case", GOLDEN["to_categorical_cases"], ids=lambda c: c["id"])
def test_to_categorical_golden(case):
    if case["id"] in REFUSED:
        with pytest.raises(ValueError, match=re.escape(REFUSED[case["id"]])):
            to_categorical(case["y"], **case["kwargs"])
        if "error" in case:
            with pytest.raises(getattr(builtins, case["error"]["type"])):
                to_categorical(case["y"], **case["kwargs"])
        return
    if "error" in case:
        check_error(lambda: to_categorical(case["y"], **case["kwargs"]), case["error"])
        return
    got = to_categorical(case["y"], **case["kwargs"])
    assert got.dtype == np.dtype(case["dtype"])
    assert list(got.shape) == case["shape"]
    np.testing.assert_array_equal(got, np.array(case["result"]))


# --- pad_sequences beyond the golden cases ----------------------------------------------

def reference_pad(sequences, maxlen, padding, truncating, value):
    """Row-by-row padding, the obvious (slow) way."""
    out = np.full((len(sequences), maxlen), value, dtype="int32")
    for i, s in enumerate(sequences):
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if kept:
            if padding == "pre":
                out[i, maxlen - len(kept):] = kept
            else:
                out[i, :len(kept)] = kept
    return out


@settings(max_examples=200, deadline=None)
@given(
    sequences=st.lists(st.lists(st.integers(-1000, 1000), max_size=8), min_size=1, max_size=8),
    maxlen=st.one_of(st.none(), st.integers(1, 10)),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
    value=st.integers(-5, 5),
)
def test_pad_sequences_matches_row_by_row(sequences, maxlen, padding, truncating, value):
    got = pad_sequences(sequences, maxlen=maxlen, padding=padding,
                        truncating=truncating, value=value)
    width = max(map(len, sequences)) if maxlen is None else maxlen
    np.testing.assert_array_equal(
        got, reference_pad(sequences, width, padding, truncating, value))


def test_pad_sequences_numpy_inputs():
    outer = np.empty(2, dtype=object)
    outer[0], outer[1] = [1, 2, 3], [4]
    np.testing.assert_array_equal(pad_sequences(outer, maxlen=2), [[2, 3], [0, 4]])
    members = [np.array([1.5, 2.5]), np.array([3.5])]
    np.testing.assert_array_equal(pad_sequences(members, dtype="float32", padding="post"),
                                  [[1.5, 2.5], [3.5, 0.0]])


def test_pad_sequences_errors():
    check_error(lambda: pad_sequences(iter([[1]])),
                {"type": "ValueError", "message": "`sequences` must be iterable."})
    # Keras fails here with NumPy's broadcast error; ckeras says what is wrong.
    with pytest.raises(ValueError, match="`maxlen` must be a positive integer, got 0"):
        pad_sequences([[1, 2], [3]], maxlen=0)
    with pytest.raises(TypeError, match="`maxlen` must be a positive integer or None"):
        pad_sequences([[1, 2], [3]], maxlen=2.5)
    with pytest.raises(OverflowError):
        pad_sequences([[-1]], dtype="uint8")
    with pytest.raises(OverflowError):
        pad_sequences([[2**40]])
    # Keras tests `dtype is object`: even np.dtype(object) is refused
    with pytest.raises(ValueError, match="You should set `dtype=object`"):
        pad_sequences([["a"]], dtype=np.dtype(object), value="PAD")
    # type checks happen only when a non-empty member is placed
    assert pad_sequences([[], []], maxlen=2, padding="middle", truncating="x").shape == (2, 2)
    assert pad_sequences([[1]], dtype="S5", value="ab").tolist() == [[b"1"]]


def test_pad_sequences_many_ragged_rows():
    # Speed is measured in benchmarks/, never asserted here.
    rng = np.random.default_rng(0)
    sequences = [rng.integers(1, 20000, size=n).tolist()
                 for n in rng.integers(0, 600, size=2_000)]
    got = pad_sequences(sequences, maxlen=200)
    assert got.shape == (2_000, 200)
    for row, seq in zip(got[::97], sequences[::97]):
        tail = seq[-200:]
        assert row[200 - len(tail):].tolist() == tail
        assert not row[:200 - len(tail)].any()


def test_preprocessing_sequence_reexport():
    assert sequence.pad_sequences is pad_sequences


# --- to_categorical beyond the golden cases ----------------------------------------------

def test_to_categorical_shapes():
    assert to_categorical(np.zeros((2, 3, 1), dtype=int), 4).shape == (2, 3, 4)
    assert to_categorical(np.zeros((2, 3), dtype=int), 4).shape == (2, 3, 4)
    assert to_categorical(np.array([1, 0], dtype=np.uint8), num_classes=0).shape == (2, 2)
    np.testing.assert_array_equal(to_categorical(2, 3), [0.0, 0.0, 1.0])
