"""``text_dataset_from_directory``: a folder of class subfolders of .txt
files -> batches of (texts, labels)."""
import numpy as np

from ckeras.utils.dataset_utils import files_dataset


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, verbose=True):
    """Keras's arguments and file order; texts are numpy string arrays (each
    file decoded as UTF-8, cut to ``max_length`` characters if given)."""

    def load(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        return np.str_(text[:max_length] if max_length is not None else text)
    return files_dataset(directory, (".txt",), load, labels, label_mode, class_names,
                         batch_size, shuffle, seed, validation_split, subset, follow_links,
                         verbose)
