"""Download fixtures shared with the other data tests."""
from download_fixtures import keras_home, offline, origin  # noqa: F401
