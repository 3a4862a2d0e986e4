"""Tokenizer and text helpers against golden data measured on real Keras."""

import json
import math
import pathlib

import numpy as np
import pytest

from ckeras.preprocessing import text
from ckeras.preprocessing.text import (
    Tokenizer,
    hashing_trick,
    one_hot,
    text_to_word_sequence,
    tokenizer_from_json,
)

GOLDEN = json.loads(
    (pathlib.Path(__file__).parent.parent / "data" / "preprocessing_golden.json")
    .read_text(encoding="utf-8"))
TEXTS = GOLDEN["texts"]
QUERY = GOLDEN["query_texts"]
CASES = {case["id"]: case for case in GOLDEN["tokenizer_cases"]}


def fitted(kwargs):
    tok = Tokenizer(**kwargs)
    tok.fit_on_texts(TEXTS)
    return tok


def as_float_array(values):
    return np.array([[math.nan if v == "NaN" else v for v in row] for row in values],
                    dtype=np.float64)


# --- text_to_word_sequence / hashing -------------------------------------------------

def test_text_to_word_sequence_default():
    assert [text_to_word_sequence(t) for t in TEXTS] == GOLDEN["text_to_word_sequence_default"]


def test_text_to_word_sequence_no_lower_split_comma():
    got = [text_to_word_sequence(t, filters="!", lower=False, split=",") for t in TEXTS]
    assert got == GOLDEN["text_to_word_sequence_no_lower_split_comma"]


def test_default_filters_keep_apostrophe():
    assert text.DEFAULT_FILTERS == '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
    assert text_to_word_sequence("don't 'x' C++ 7.5") == ["don't", "'x'", "c", "7", "5"]


def test_multichar_split_is_inserted_whole():
    assert text_to_word_sequence("a.b--c", split="--") == ["a", "b", "c"]


@pytest.mark.parametrize("case", GOLDEN["hashing_trick_md5_n20"], ids=lambda c: c["text"])
def test_hashing_trick_md5(case):
    assert hashing_trick(case["text"], case["n"], hash_function="md5") == case["result"]


def test_hashing_trick_callable_and_one_hot_range():
    assert hashing_trick("a bb ccc", 5, hash_function=len) == [2, 3, 4]
    got = one_hot("The cat sat on the mat", 7)
    assert len(got) == 6 and all(1 <= i <= 6 for i in got)
    assert got[0] == got[4]  # "The" and "the" hash alike after lower-casing


# --- Tokenizer golden configurations ---------------------------------------------------

@pytest.fixture(params=sorted(CASES), scope="module")
def case(request):
    case = CASES[request.param]
    return case, fitted(case["constructor_kwargs"])


def test_vocabulary(case):
    case, tok = case
    assert tok.document_count == case["document_count"]
    assert [list(item) for item in tok.word_counts.items()] == case["word_counts"]
    assert sorted(([w, i] for w, i in tok.word_index.items()), key=lambda p: p[1]) \
        == case["word_index"]
    assert sorted([i, w] for i, w in tok.index_word.items()) == case["index_word"]
    assert dict(tok.word_docs) == case["word_docs"]
    assert {str(i): n for i, n in tok.index_docs.items()} == case["index_docs"]


def test_texts_to_sequences(case):
    case, tok = case
    assert tok.texts_to_sequences(QUERY) == case["texts_to_sequences"]
    assert list(tok.texts_to_sequences_generator(QUERY)) == case["texts_to_sequences"]


def test_sequences_to_texts(case):
    case, tok = case
    assert tok.sequences_to_texts(case["texts_to_sequences"]) == case["sequences_to_texts"]
    raw = case["sequences_to_texts_raw_input"]
    assert list(tok.sequences_to_texts_generator(raw)) == case["sequences_to_texts_raw"]


@pytest.mark.parametrize("mode", ["binary", "count", "tfidf", "freq"])
def test_texts_to_matrix(case, mode):
    case, tok = case
    expected = case["texts_to_matrix"][mode]
    got = tok.texts_to_matrix(QUERY, mode=mode)
    assert got.dtype == np.dtype(expected["dtype"])
    assert list(got.shape) == expected["shape"]
    np.testing.assert_array_equal(got, as_float_array(expected["values"]))


def test_texts_to_matrix_bad_mode(case):
    case, tok = case
    expected = case["texts_to_matrix_bad_mode_error"]
    with pytest.raises(ValueError) as info:
        tok.texts_to_matrix(QUERY, mode="bogus")
    assert type(info.value).__name__ == expected["type"]
    assert str(info.value) == expected["message"]
    assert "binary, count, tfidf, freq" in "".join(info.value.__notes__)


def test_to_json(case):
    case, tok = case
    expected = case["to_json_parsed"]
    got = json.loads(tok.to_json())
    assert got["class_name"] == expected["class_name"] == "Tokenizer"
    assert list(got["config"]) == list(expected["config"])
    for key, value in expected["config"].items():
        if key in ("word_docs", "index_docs"):  # key order is set-order in Keras
            assert json.loads(got["config"][key]) == json.loads(value)
        else:
            assert got["config"][key] == value, key


def test_json_roundtrip(case):
    case, tok = case
    assert case["roundtrip_texts_to_sequences_equal"]
    restored = tokenizer_from_json(tok.to_json())
    assert restored.texts_to_sequences(QUERY) == case["texts_to_sequences"]
    assert restored.sequences_to_texts(case["texts_to_sequences"]) == case["sequences_to_texts"]
    np.testing.assert_array_equal(restored.texts_to_matrix(QUERY, "tfidf"),
                                  tok.texts_to_matrix(QUERY, "tfidf"))
    assert all(isinstance(i, int) for i in restored.index_word)
    assert all(isinstance(i, int) for i in restored.index_docs)
    assert restored.to_json() == tok.to_json()


def test_vocab_size_bounds_every_index(case):
    case, tok = case
    produced = [i for seq in case["texts_to_sequences"] for i in seq]
    assert max(produced) < tok.vocab_size
    if tok.num_words:
        assert tok.vocab_size == tok.num_words
    else:
        assert tok.vocab_size == len(tok.word_index) + 1


# --- other golden scenarios --------------------------------------------------------------

def test_incremental_fit():
    expected = GOLDEN["incremental_fit"]
    half = len(TEXTS) // 2
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS[:half])
    tok.fit_on_texts(TEXTS[half:] + TEXTS[:3])
    assert tok.document_count == expected["document_count"]
    assert sorted(([w, i] for w, i in tok.word_index.items()), key=lambda p: p[1]) \
        == expected["word_index"]
    assert tok.texts_to_sequences(QUERY) == expected["texts_to_sequences"]


@pytest.mark.parametrize("mode", ["binary", "count", "tfidf", "freq"])
def test_fit_on_sequences(mode):
    expected = GOLDEN["fit_on_sequences"]
    tok = Tokenizer(num_words=6)
    tok.fit_on_sequences(expected["sequences"])
    assert tok.document_count == expected["document_count"]
    assert {str(i): n for i, n in tok.index_docs.items()} == expected["index_docs"]
    assert tok.word_index == {}
    got = tok.sequences_to_matrix(expected["sequences"], mode=mode)
    np.testing.assert_array_equal(got, np.array(expected["sequences_to_matrix"][mode]))


def test_list_of_tokens_documents():
    expected = GOLDEN["list_of_tokens_documents"]
    tok = Tokenizer()
    tok.fit_on_texts(expected["documents"])
    assert sorted(([w, i] for w, i in tok.word_index.items()), key=lambda p: p[1]) \
        == expected["word_index"]
    assert tok.texts_to_sequences(expected["documents"]) == expected["texts_to_sequences"]


def test_unfitted_tokenizer():
    expected = GOLDEN["unfitted_tokenizer"]
    with pytest.raises(ValueError) as info:
        Tokenizer().texts_to_matrix(["hello world"])
    assert str(info.value) == expected["texts_to_matrix"]["message"]
    assert Tokenizer().texts_to_sequences(["hello world"]) == expected["texts_to_sequences"]
    with pytest.raises(ValueError) as info:
        Tokenizer(num_words=4).sequences_to_matrix([[1, 2]], mode="tfidf")
    assert str(info.value) == expected["tfidf_with_num_words_but_unfitted"]["message"]
    got = Tokenizer(num_words=4).sequences_to_matrix([[1, 2]])
    np.testing.assert_array_equal(got, expected["binary_with_num_words_but_unfitted"])


# --- documented quirks ------------------------------------------------------------------

def test_constructor_keywords():
    with pytest.warns(UserWarning, match="`nb_words` argument in `Tokenizer` has been renamed"):
        tok = Tokenizer(nb_words=5)
    assert tok.num_words == 5
    with pytest.raises(TypeError, match=r"^Unrecognized keyword arguments: \{'bogus': 1\}$"):
        Tokenizer(bogus=1)
    assert Tokenizer(document_count=7).document_count == 7


def test_bare_string_is_iterated_per_character():
    tok = Tokenizer()
    with pytest.warns(UserWarning, match="single string.*character by character"):
        tok.fit_on_texts("hello world")
    assert tok.document_count == 11
    assert tok.word_index["l"] == 1


def test_char_level_keeps_spaces_and_joins_with_spaces():
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["a cat!"])
    assert " " in tok.word_index and "!" in tok.word_index
    assert tok.sequences_to_texts(tok.texts_to_sequences(["cat"])) == ["c a t"]


def test_oov_token_also_a_real_word():
    tok = Tokenizer(oov_token="unk")
    tok.fit_on_texts(["unk a a"])
    # vocabulary list is [unk, a, unk]: the later position wins
    assert tok.word_index == {"unk": 3, "a": 2}
    assert 1 not in tok.index_word
    assert tok.texts_to_sequences(["a zzz"]) == [[2, 3]]
    assert tok.vocab_size == 4 == len(tok.word_index) + 2


def test_num_words_limits_and_vocab_size():
    tok = Tokenizer(num_words=3, oov_token="<OOV>")
    tok.fit_on_texts(["a a a b b c"])
    # index 1 is the OOV token, so only "a" (index 2) survives
    assert tok.texts_to_sequences(["a b c d"]) == [[2, 1, 1, 1]]
    assert tok.vocab_size == 3
    assert len(tok.word_index) == 4
    assert Tokenizer(num_words=0).vocab_size == 1


def test_restored_tokenizer_can_keep_fitting():
    tok = Tokenizer()
    tok.fit_on_texts(["a b"])
    restored = tokenizer_from_json(tok.to_json())
    restored.fit_on_texts(["c c"])
    restored.fit_on_sequences([[1, 2]])
    assert restored.word_index == {"c": 1, "a": 2, "b": 3}
    assert restored.word_docs == {"a": 1, "b": 1, "c": 1}


def test_empty_rows_skip_mode_check_and_out_of_range_ignored():
    tok = Tokenizer(num_words=3)
    np.testing.assert_array_equal(tok.sequences_to_matrix([[]], mode="bogus"), [[0, 0, 0]])
    np.testing.assert_array_equal(tok.sequences_to_matrix([[0, 9, 2]], mode="freq"),
                                  [[1 / 3, 0, 1 / 3]])


def test_analyzer_replaces_word_splitting():
    tok = Tokenizer(analyzer=lambda s: s.split("|"))
    tok.fit_on_texts(["A b|c", "c"])
    assert tok.word_index == {"c": 1, "A b": 2}
    assert "analyzer" not in tok.get_config()


# --- Unicode -----------------------------------------------------------------------------

def test_unicode_lowercasing_matches_python():
    assert text_to_word_sequence("İstanbul") == ["i\u0307stanbul"]
    assert text_to_word_sequence("ΟΔΟΣ ΣΟΦΙΑ") == ["οδος", "σοφια"]
    assert text_to_word_sequence("ẞ ＡＢＣ") == ["ß", "ａｂｃ"]


def test_only_split_string_separates():
    assert text_to_word_sequence("a\u3000b c\u00a0d") == ["a\u3000b", "c\u00a0d"]
    assert text_to_word_sequence("안녕하세요 세계。") == ["안녕하세요", "세계。"]


def test_unicode_tokenizer_roundtrip():
    docs = ["안녕하세요 세계", "Καλημέρα κόσμε ΚΟΣΜΕ", "İyi günler IĞDIR", "안녕하세요!"]
    tok = Tokenizer(oov_token="<unk>")
    tok.fit_on_texts(docs)
    assert list(tok.word_index) == ["<unk>", "안녕하세요", "세계", "καλημέρα", "κόσμε",
                                    "κοσμε", "i\u0307yi", "günler", "iğdir"]
    # "İYİ" lowers to "i̇yi̇" (dotted i twice), a different word from "i̇yi"
    assert tok.texts_to_sequences(["İyi dünya", "İYİ", "ığdır"]) == [[7, 1], [1], [1]]
    assert tok.sequences_to_texts(tok.texts_to_sequences(["세계 günler"])) == ["세계 günler"]

    raw = tok.to_json()
    assert raw.isascii() and "\\\\uc548\\\\ub155" in raw
    # json kwargs reach only the outer level; the inner strings stay escaped
    assert tok.to_json(ensure_ascii=False, indent=1) == json.dumps(
        json.loads(raw), ensure_ascii=False, indent=1)
    restored = tokenizer_from_json(raw)
    assert restored.word_index == tok.word_index
    assert restored.texts_to_sequences(docs) == tok.texts_to_sequences(docs)
