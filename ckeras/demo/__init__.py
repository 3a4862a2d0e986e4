"""Runnable demos: ``python -m ckeras.demo`` (digits MLP) and
``python -m ckeras.demo text`` (review sentiment from raw text)."""
