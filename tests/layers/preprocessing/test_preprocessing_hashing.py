"""Hashing: FarmHash Fingerprint64 against Google's implementation
(tests/data/farmhash, made with pyfarmhash) and Keras's documented examples."""
import json
import os

import numpy as np
import pytest

from ckeras import layers as L
from ckeras.layers import deserialize, serialize
from ckeras.layers.preprocessing.hashing import fingerprint64

with open(os.path.join(os.path.dirname(__file__), "..", "..", "data", "farmhash",
                       "fingerprint64.json")) as f:
    CASES = json.load(f)


def test_fingerprint64_matches_farmhash_for_every_length_path():
    for hex_input, want in CASES:
        assert fingerprint64(bytes.fromhex(hex_input)) == want, len(hex_input) // 2


def test_documented_keras_examples():
    np.testing.assert_array_equal(L.Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]),
                                  [[1], [0], [1], [1], [2]])
    np.testing.assert_array_equal(
        L.Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]),
        [[1], [1], [0], [2], [2]])


def test_integers_hash_as_decimal_strings_and_output_modes():
    ints = np.array([[5, 17, -3]])
    strs = np.array([["5", "17", "-3"]])
    layer = L.Hashing(num_bins=7)
    np.testing.assert_array_equal(layer(ints), layer(strs))
    hot = L.Hashing(num_bins=7, output_mode="multi_hot")(strs)
    assert hot.shape == (1, 7) and hot.sum() == len(set(layer(strs).ravel()))
    one = L.Hashing(num_bins=7, output_mode="one_hot")(np.array([["a"], ["b"]]))
    assert one.shape == (2, 7)
    back = deserialize(serialize(L.Hashing(num_bins=7, mask_value="", output_mode="count")))
    assert back.get_config()["mask_value"] == "" and back.num_bins == 7


def test_unsupported_options_raise():
    with pytest.raises(NotImplementedError, match="SipHash"):
        L.Hashing(3, salt=133)
    with pytest.raises(ValueError, match="num_bins"):
        L.Hashing(0)
