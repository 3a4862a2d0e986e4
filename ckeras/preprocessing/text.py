"""Legacy Keras text preprocessing: `Tokenizer` and hashing helpers.

Keras 3 dropped the `Tokenizer`; this module reproduces the legacy one
(keras_preprocessing 1.1.2 / tf.keras) exactly, including its quirks, so that
vocabularies, sequences and saved JSON configs match real Keras.
"""

import functools
import hashlib
import json
import warnings
from collections import Counter, OrderedDict, defaultdict

import numpy as np
from ckeras._typing import Any, ArrayLike, Callable, Data, Dict, List, Logs, Optional, PathLike, Sequence, Shape, Union  # noqa: F401

# ASCII punctuation except the apostrophe, plus tab and newline.
DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

MATRIX_MODES = ("binary", "count", "tfidf", "freq")


@functools.lru_cache(maxsize=64)
def _translation_table(filters, split):
    # Cached: fit/convert call this once per document with the same arguments.
    return str.maketrans({c: split for c in filters})


def text_to_word_sequence(text: str, filters: str = DEFAULT_FILTERS, lower: bool = True,
                          split: str = " ") -> List[str]:
    """Split `text` into tokens.

    Lower-cases with `str.lower` (full Unicode mapping), replaces every
    character of `filters` with `split`, splits on the exact `split` string
    and drops empty tokens. Other whitespace (e.g. U+3000) does not separate.
    """
    if lower:
        text = text.lower()
    text = text.translate(_translation_table(filters, split))
    return [token for token in text.split(split) if token]


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS,
                  lower=True, split=" "):
    """Map each word of `text` to `hash(word) % (n - 1) + 1` (0 stays free).

    `hash_function` is None (Python's `hash`, randomised per process for
    str), `'md5'` (stable across runs) or a callable `str -> int`.
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5_int
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [hash_function(w) % (n - 1) + 1 for w in words]


def _md5_int(word):
    return int(hashlib.md5(word.encode("utf-8")).hexdigest(), 16)


def one_hot(text, n, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """`hashing_trick` with Python's `hash`: not reproducible across processes."""
    return hashing_trick(text, n, hash_function=hash, filters=filters,
                         lower=lower, split=split)


def _warn_bare_string(texts, method):
    if isinstance(texts, str):
        warnings.warn(f"Tokenizer.{method}() got a single string, which is iterated "
                      f"character by character (each character a document). Pass a "
                      f"list of texts, e.g. [{texts[:20]!r}].", UserWarning, stacklevel=3)


class Tokenizer:
    """Text tokenization utility (legacy Keras API).

    Args:
        num_words: keep only indices `1 .. num_words - 1` when converting
            texts (applied at conversion time only; `word_index` always holds
            every word). `None` or `0` means no limit. With an `oov_token`
            the OOV token takes index 1, so only `num_words - 2` real words
            survive. Hence `vocab_size` (the `Embedding` input_dim) is
            `num_words` when set; see `vocab_size` for the unlimited case.
        filters: characters replaced by `split` before splitting.
        lower: lower-case the texts.
        split: the separator string.
        char_level: every character is a token (no filtering or splitting).
        oov_token: if given, gets index 1 and replaces unknown words (and
            words beyond `num_words`) in conversions.
        document_count: initial value of the document counter.
        analyzer: tf.keras extension; a callable `str -> list of tokens`
            used instead of `text_to_word_sequence` for plain-string
            documents. Not saved by `to_json`.

    Index 0 is never assigned to a word (it is reserved for padding).
    """

    def __init__(self, num_words: Optional[int] = None, filters: str = DEFAULT_FILTERS,
                 lower: bool = True, split: str = " ", char_level: bool = False,
                 oov_token: Optional[str] = None, document_count: int = 0,
                 analyzer: Optional[Callable[[str], List[str]]] = None,
                 **kwargs: Any) -> None:
        if "nb_words" in kwargs:
            warnings.warn("The `nb_words` argument in `Tokenizer` has been "
                          "renamed `num_words`.")
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
        if num_words is not None:
            from ckeras.utils.arg_checks import check_int
            num_words = check_int(num_words, "num_words", 0)

        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.document_count = document_count
        self.analyzer = analyzer
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    @property
    def vocab_size(self):
        """The `input_dim` an `Embedding` needs for this tokenizer's sequences.

        Conversions only produce indices `1 .. num_words - 1` when `num_words`
        is set, so `num_words` is enough (and matches the `texts_to_matrix`
        width). Otherwise it is the largest index + 1, which is
        `len(word_index) + 1` except when the `oov_token` string also occurs
        as a real word: it is then listed twice, the later position wins,
        and the largest index is `len(word_index) + 1`, one past the usual.
        An unfitted tokenizer gives 1 (padding only).
        """
        if self.num_words:
            return self.num_words
        return max(self.index_word, default=0) + 1

    def _tokenize(self, text):
        # Lists are pre-tokenised documents: lower-cased but never filtered.
        if self.char_level or isinstance(text, list):
            if self.lower:
                if isinstance(text, list):
                    return [token.lower() for token in text]
                return text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Any) -> None:
        """Update counts from `texts` and rebuild `word_index` from scratch.

        `texts` is an iterable of strings or of token lists. A bare string is
        iterated character by character, each character being a document
        (as in Keras), with a warning: it is almost always a slip for [text].
        """
        _warn_bare_string(texts, "fit_on_texts")
        for i, text in enumerate(texts):
            if not isinstance(text, (str, list, tuple)):
                raise TypeError(f"Tokenizer.fit_on_texts: `texts` must hold strings or token "
                                f"lists, got {type(text).__name__} {text!r} at index {i}.")
            self.document_count += 1
            seq = self._tokenize(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            # dict.fromkeys: distinct tokens in a reproducible order.
            for w in dict.fromkeys(seq):
                self.word_docs[w] = self.word_docs.get(w, 0) + 1

        # Stable sort: equal counts keep first-seen order.
        ranked = sorted(self.word_counts.items(), key=lambda wc: wc[1],
                        reverse=True)
        vocab = [] if self.oov_token is None else [self.oov_token]
        vocab.extend(w for w, _ in ranked)
        # If oov_token is also a real word it appears twice; the later index
        # wins (and index 1 disappears), as in Keras.
        self.word_index = dict(zip(vocab, range(1, len(vocab) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, n_docs in self.word_docs.items():
            self.index_docs[self.word_index[w]] = n_docs

    def fit_on_sequences(self, sequences: Any) -> None:
        """Update document frequencies from index sequences (for tfidf)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] = self.index_docs.get(i, 0) + 1

    def texts_to_sequences(self, texts: Any) -> List[List[int]]:
        """Convert texts to lists of word indices (see `num_words`)."""
        _warn_bare_string(texts, "texts_to_sequences")
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """Yield one list of word indices per text."""
        num_words = self.num_words
        # None when oov_token is set but the tokenizer is unfitted: Keras then
        # emits None for every unknown word; kept for fidelity.
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            seq = []
            for w in self._tokenize(text):
                i = self.word_index.get(w)
                if i is None:
                    if self.oov_token is not None:
                        seq.append(oov_index)
                elif num_words and i >= num_words:
                    if oov_index is not None:
                        seq.append(oov_index)
                else:
                    seq.append(i)
            yield seq

    def sequences_to_texts(self, sequences: Any) -> List[str]:
        """Convert index sequences back to space-joined texts."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        """Yield one text per sequence; words are joined by single spaces,
        also for char-level tokenizers."""
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for i in seq:
                word = self.index_word.get(i)
                if word is None:
                    if self.oov_token is not None:
                        words.append(self.index_word[oov_index])
                elif num_words and i >= num_words:
                    if oov_index is not None:
                        words.append(self.index_word[oov_index])
                else:
                    words.append(word)
            yield " ".join(words)

    def texts_to_matrix(self, texts: Any, mode: str = "binary") -> Any:
        """`sequences_to_matrix(texts_to_sequences(texts), mode)`."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences: Any, mode: str = "binary") -> Any:
        """Vectorize index sequences into a float64 `(len(sequences), width)` matrix.

        `width` is `num_words`, or `len(word_index) + 1`. Indices >= width are
        ignored. `mode` is one of 'binary', 'count', 'tfidf', 'freq'.
        """
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError("Specify a dimension (`num_words` argument), "
                             "or fit on some text data first.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using "
                             "tfidf mode.")

        x = np.zeros((len(sequences), width))
        for row, seq in enumerate(sequences):
            counts = Counter(j for j in seq if j < width)
            # Keras validates the mode lazily: rows with nothing to count
            # never raise.
            if not counts:
                continue
            if mode not in MATRIX_MODES:
                err = ValueError("Unknown vectorization mode:", mode)
                note = f"Accepted modes: {', '.join(MATRIX_MODES)}."
                if hasattr(err, "add_note"):
                    err.add_note(note)
                else:   # Python 3.10 has no add_note; PEP 678's attribute
                    err.__notes__ = [note]
                raise err
            cols = list(counts)
            c = np.array(list(counts.values()), dtype=np.float64)
            if mode == "binary":
                values = 1.0
            elif mode == "count":
                values = c
            elif mode == "freq":
                values = c / len(seq)
            else:
                docs = np.array([self.index_docs.get(j, 0) for j in cols],
                                dtype=np.float64)
                idf = np.log(1 + self.document_count / (1 + docs))
                values = (1 + np.log(c)) * idf
            x[row, cols] = values
        return x

    def get_config(self):
        """Config dict; the five dictionaries are JSON-encoded strings."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs: Any) -> str:
        """JSON string of the config; `kwargs` go to `json.dumps`."""
        return json.dumps({"class_name": type(self).__name__,
                           "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string: str) -> "Tokenizer":
    """Rebuild a `Tokenizer` from `Tokenizer.to_json()` output."""
    config = dict(json.loads(json_string)["config"])
    word_counts = json.loads(config.pop("word_counts"))
    word_docs = json.loads(config.pop("word_docs"))
    index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
    index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))

    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = word_counts
    tokenizer.word_docs = word_docs
    tokenizer.index_docs = index_docs
    tokenizer.index_word = index_word
    tokenizer.word_index = word_index
    return tokenizer
