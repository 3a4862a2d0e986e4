"""Reused buffers while a model trains, evaluates or predicts.

Every batch of a training loop allocates the same large arrays again. Large
blocks come from the system fresh each time (mmap), so each step pays page
faults and page zeroing for memory it has just released. ``pooled_buffers()``
makes the caching allocator of ``csrc/buffer_pool.c`` numpy's data allocator
for the calling thread while the block runs: large freed blocks are kept and
handed out again for the next request of the same size, and go back to the
system when the last pooled block of work (over all threads) ends. Only
numpy's array data goes through it; results are unchanged.

``CKERAS_BUFFER_POOL=0`` turns it off; ``set_pool_limit(bytes)`` bounds what
the cache may hold (1 GiB by default).
"""
import contextlib
import functools
import os


_ENABLED = os.environ.get("CKERAS_BUFFER_POOL", "").strip().lower() not in ("0", "false", "no")


def _module():
    from ckeras.ops import dispatch   # the kernel loader (memory sits beside it)
    return dispatch._load("_alloc")


@contextlib.contextmanager
def pooled_buffers():
    """Cache large numpy buffers between allocations inside the block."""
    mod = _module() if _ENABLED else None
    if mod is None:
        yield
        return
    previous = mod.activate()
    try:
        yield
    finally:
        mod.deactivate(previous)


def pooled(method):
    """Decorator: run ``method`` inside ``pooled_buffers()``."""
    @functools.wraps(method)
    def run_pooled(*args, **kwargs):
        with pooled_buffers():
            return method(*args, **kwargs)
    return run_pooled


def set_pool_limit(nbytes):
    """Most bytes of freed buffers the pool keeps for reuse."""
    mod = _module()
    if mod is None:
        raise RuntimeError("the buffer pool needs the compiled kernels (ckeras._kernels._alloc)")
    mod.set_limit(int(nbytes))


def pool_stats():
    """Hits, misses and cached bytes of the pool ({} without the kernels)."""
    mod = _module()
    return {} if mod is None else mod.stats()
