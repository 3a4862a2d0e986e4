"""The caching allocator behind ops.memory.pooled_buffers (csrc/buffer_pool.c).

Its numpy twin is numpy's own allocator: arrays made under the pool must hold
the same values, and training under it must give the same bits.
"""
import threading

import numpy as np
import pytest

from ckeras.ops import memory

BIG = 1 << 20            # elements: 4 MiB of float32, well above the pooling size


@pytest.fixture
def alloc(kernels):
    from ckeras._kernels import _alloc
    assert _alloc.stats()["active"] == 0
    yield _alloc
    assert _alloc.stats()["active"] == 0
    assert _alloc.stats()["cached_bytes"] == 0


def _handler_name():
    return np._core.multiarray.get_handler_name()


def test_handler_is_scoped_to_the_block(alloc):
    outside = _handler_name()
    with memory.pooled_buffers():
        assert _handler_name() == alloc.HANDLER_NAME
        with memory.pooled_buffers():              # nesting is fine
            assert _handler_name() == alloc.HANDLER_NAME
        assert _handler_name() == alloc.HANDLER_NAME
        assert alloc.stats()["active"] == 1
    assert _handler_name() == outside


def test_handler_restored_after_an_exception(alloc):
    outside = _handler_name()
    with pytest.raises(KeyError):
        with memory.pooled_buffers():
            raise KeyError("boom")
    assert _handler_name() == outside


def test_a_freed_block_is_reused_and_zeros_are_zero(alloc):
    with memory.pooled_buffers():
        start = alloc.stats()
        a = np.full(BIG, 7.0, np.float32)
        address = a.ctypes.data
        del a
        assert alloc.stats()["cached_blocks"] == start["cached_blocks"] + 1
        b = np.empty(BIG, np.float32)              # same size: the cached block
        assert b.ctypes.data == address
        assert alloc.stats()["hits"] == start["hits"] + 1
        del b
        z = np.zeros(BIG, np.float32)              # calloc on a used block
        assert z.ctypes.data == address
        assert not z.any()
        assert z.ctypes.data % 64 == 0


def test_a_smaller_request_reuses_a_larger_block(alloc):
    with memory.pooled_buffers():
        a = np.ones(BIG, np.float32)
        address = a.ctypes.data
        del a
        b = np.ones(2 * BIG, np.float32)           # larger: never the small block
        assert b.ctypes.data != address and b.sum() == 2 * BIG
        c = np.ones(BIG // 2 + 3, np.float32)      # at least half: the cached block
        assert c.ctypes.data == address and c.sum() == BIG // 2 + 3
        d = np.ones(BIG // 4, np.float32)          # less than half: a block of its own
        assert d.ctypes.data != address
        del c
        e = np.ones(BIG, np.float32)               # the block keeps its whole size
        assert e.ctypes.data == address and e.sum() == BIG


def test_small_arrays_and_outliving_arrays(alloc):
    with memory.pooled_buffers():
        small = [np.arange(n, dtype=np.float32) for n in (0, 1, 17, 1000)]
        kept = np.arange(BIG, dtype=np.float32)
    assert [s.size for s in small] == [0, 1, 17, 1000]
    assert kept[-1] == BIG - 1
    del kept, small                                # freed after the block: to the system
    assert alloc.stats()["cached_blocks"] == 0


def test_realloc_keeps_the_values(alloc):
    with memory.pooled_buffers():
        for n in (10, BIG):
            a = np.arange(n, dtype=np.float32)
            a.resize(3 * n, refcheck=False)        # grows through realloc
            np.testing.assert_array_equal(a[:n], np.arange(n, dtype=np.float32))
            a.resize(n // 2, refcheck=False)       # shrinks through realloc
            np.testing.assert_array_equal(a, np.arange(n // 2, dtype=np.float32))


def test_limit_bounds_the_cache(alloc):
    before = alloc.stats()["limit_bytes"]
    try:
        memory.set_pool_limit(0)
        with memory.pooled_buffers():
            a = np.ones(BIG, np.float32)
            del a
            assert alloc.stats()["cached_bytes"] == 0
        with pytest.raises(ValueError, match=">= 0"):
            alloc.set_limit(-1)
    finally:
        memory.set_pool_limit(before)


def test_threads_share_the_pool_safely(alloc):
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            with memory.pooled_buffers():
                for _ in range(200):
                    n = int(rng.integers(1, 4)) * BIG // 4
                    a = np.full(n, float(seed), np.float32)
                    b = a * 2
                    if not (b == 2 * seed).all():
                        errors.append(seed)
        except Exception as exc:                   # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _train(seed):
    import ckeras as keras
    rng = np.random.default_rng(seed)
    x = rng.random((96, 12, 12, 1), dtype=np.float32)
    y = rng.integers(0, 3, 96)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((12, 12, 1)),
                              keras.layers.Conv2D(8, 3, activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return [w.copy() for w in model.get_weights()], model.predict(x, verbose=0)


def test_training_under_the_pool_gives_the_same_bits(alloc, monkeypatch):
    pooled_weights, pooled_pred = _train(3)
    assert alloc.stats()["hits"] > 0
    monkeypatch.setattr(memory, "_ENABLED", False)
    plain_weights, plain_pred = _train(3)
    for a, b in zip(pooled_weights, plain_weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(pooled_pred, plain_pred)
