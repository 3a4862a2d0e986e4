"""Keras's data sets (downloaded once into Keras's cache, ``~/.keras/datasets``
or ``$KERAS_HOME/datasets``, with Keras's file names and hashes) and small
ones that ship with ckeras (digits) or with a pip package."""
from ckeras.datasets import digits  # noqa: F401
from ckeras.datasets import (boston_housing, california_housing, cifar10, cifar100,  # noqa: F401
                             fashion_mnist, imdb, mnist, reuters)
