"""PyDataset (alias Sequence): batches computed on demand by user code.

Keras 3's API: subclass, call ``super().__init__(**kwargs)``, implement
``__len__`` (number of batches) and ``__getitem__(idx)`` returning a batch
``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; optionally
``on_epoch_begin()`` / ``on_epoch_end()``. fit() visits every index once per
epoch (in shuffled order when ``shuffle=True``). ``workers > 1`` loads
batches on a thread pool (``use_multiprocessing=True``: forked processes;
the dataset must then be safe to copy into a child), at most
``max_queue_size`` batches ahead, always yielded in index order.
"""
import warnings


class PyDataset:
    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        missing = False
        for attr, default in (("_workers", 1), ("_use_multiprocessing", False),
                              ("_max_queue_size", 10)):
            if attr not in self.__dict__:
                setattr(self, attr, default)
                missing = True
        if missing:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` "
                          "in its constructor. `**kwargs` can include `workers`, "
                          "`use_multiprocessing`, `max_queue_size`. Do not pass these "
                          "arguments to `fit()`, as they will be ignored.", stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  "__getitem__(index) returning one batch.")

    @property
    def num_batches(self):
        """Batches per epoch (``len(self)``); None means an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ "
                                  "(the number of batches) or a `num_batches` property.")

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch (e.g. to reshuffle your files)."""


Sequence = PyDataset


# ---- parallel loading ----------------------------------------------------------

_FORKED_DATASET = None   # the dataset a forked worker process reads from


def _forked_getitem(index):
    return _FORKED_DATASET[index]


def parallel_batches(dataset, indices):
    """``dataset[i]`` for i in ``indices``, in order, computed by a pool of
    ``dataset.workers`` threads (or forked processes) at most
    ``max_queue_size`` batches ahead. The pool lives for one pass."""
    import collections
    import concurrent.futures as cf
    import itertools

    workers = max(1, int(dataset.workers))
    ahead = max(1, int(dataset.max_queue_size or 1))
    if dataset.use_multiprocessing:
        import multiprocessing
        global _FORKED_DATASET
        _FORKED_DATASET = dataset       # inherited by the children at fork
        pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        fetch = _forked_getitem
    else:
        pool = cf.ThreadPoolExecutor(workers, thread_name_prefix="PyDataset")
        fetch = dataset.__getitem__
    pending = collections.deque()
    indices = iter(indices)
    try:
        for i in itertools.islice(indices, ahead):
            pending.append(pool.submit(fetch, i))
        while pending:
            batch = pending.popleft().result()
            for i in itertools.islice(indices, 1):
                pending.append(pool.submit(fetch, i))
            yield batch
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True)
