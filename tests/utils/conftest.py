"""Download fixtures shared with the other data tests."""
from download_fixtures import keras_home, no_network, offline, origin  # noqa: F401
