"""The benchmark scripts (run as `python benchmarks/<script>.py`); a package
only so that tests import their pure parts (`from benchmarks import run`)."""
