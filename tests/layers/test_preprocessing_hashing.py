"""Hashing: FarmHash Fingerprint64 against Google's implementation
(tests/data/farmhash, made with pyfarmhash) and Keras's documented examples."""
import json
import os
import pathlib

import numpy as np
import pytest

from ckeras import layers as L
from ckeras.layers import deserialize, serialize
from ckeras.layers.preprocessing.hashing import fingerprint64

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "keras_preprocessing"

with open(os.path.join(os.path.dirname(__file__), "..", "data", "farmhash",
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
    for bad in ("salt", [1, 2, 3], [1, -2], 2 ** 64, True):
        with pytest.raises(ValueError, match="salt"):
            L.Hashing(3, salt=bad)
    with pytest.raises(ValueError, match="num_bins"):
        L.Hashing(0)


def test_siphash_reference_vectors():
    from ckeras.layers.preprocessing.hashing import siphash24
    # SipHash-2-4, key 00 01 .. 0f (Aumasson and Bernstein's paper, appendix A)
    k0, k1 = int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)),
                                                                        "little")
    assert siphash24(k0, k1, b"") == 0x726FDB47DD0E0E31
    assert siphash24(k0, k1, bytes(range(15))) == 0xA129CA6149BE45E5


def test_salted_hashing_matches_keras():
    golden = json.loads((DATA / "hashing_salt.json").read_text())
    values = np.array(golden["vals"])
    for key, expected in golden.items():
        if not key.startswith("["):
            continue
        salt, mask = json.loads(key)
        layer = L.Hashing(num_bins=1000003, salt=salt, mask_value=mask)
        np.testing.assert_array_equal(layer(values), expected, err_msg=key)
    ints = np.array([[0, 1, 42, -5, 2 ** 40]])
    np.testing.assert_array_equal(L.Hashing(num_bins=997, salt=[7, 9])(ints), golden["ints"])
    config = L.Hashing(num_bins=5, salt=133).get_config()
    assert config["salt"] == golden["config_salt"]
    assert deserialize(serialize(L.Hashing(num_bins=5, salt=133))).salt == (133, 133)
