"""The version, on its own so modules can read it without importing all of ckeras."""
__version__ = "0.1.0"
