"""Each process's share of every global batch.

The rules (the same program runs on every rank, so every rank derives the
same steps and stops at the same step; a collective never waits forever):

* Arrays: ``batch_size`` is the *global* batch and must be a multiple of the
  number of processes. Global batch ``b`` (of the one order that rank 0 draws
  when shuffling and broadcasts) is cut into ``size`` contiguous shards; rank
  ``r`` takes shard ``r``. The last, partial batch is cut as evenly as
  possible (the first ``rows % size`` ranks get one row more); a rank whose
  shard is empty still takes part in the step and contributes nothing.
* Streams (PyDataset, generators): stream batch ``i`` goes to rank
  ``i % size``; one step takes ``size`` consecutive stream batches, so a
  step's global batch is their union. A PyDataset rank reads only its own
  indices (the index order is rank 0's shuffle, broadcast); a generator is
  run on every rank (it must yield the same sequence everywhere) and each
  rank keeps its items. At the end of a pass the last step may miss batches:
  those ranks take an empty shard.
* ``steps_per_epoch`` / ``validation_steps`` / ``steps`` count global steps.

Gradients are weighted by each rank's row count (see strategy.py), so any
split gives the gradient of the whole global batch.
"""
import itertools
import math

import numpy as np

from ckeras import random as ck_random
from ckeras.models.data import ArrayData, PyDatasetData, _EpochSource


def shard_bounds(rows, size, rank):
    """[lo, hi) of rank's contiguous shard of ``rows`` rows."""
    base, extra = divmod(rows, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (rank < extra)


class ShardedData(_EpochSource):
    """A data source (ArrayData, PyDatasetData, GeneratorData) seen by one rank."""

    def __init__(self, inner, comm):
        self.inner = inner
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.steps_limit = inner.steps_limit
        self.one_shot = inner.one_shot
        self.n = inner.n
        if isinstance(inner, ArrayData) and inner.n < self.size:
            raise ValueError(f"ckeras.distribute: the data has {inner.n} samples but "
                             f"there are {self.size} processes; every process needs at "
                             "least one sample.")

    # ---- what the training loop reads ---------------------------------------
    @property
    def has_targets(self):
        return self.inner.has_targets

    def first_inputs(self):
        return self.inner.first_inputs()

    def _check_batch_size(self, batch_size):
        if isinstance(self.inner, ArrayData) and batch_size % self.size:
            lower = batch_size - batch_size % self.size
            raise ValueError(
                f"ckeras.distribute: batch_size={batch_size} is the global batch and "
                f"must be a multiple of the {self.size} processes (each takes "
                f"batch_size / {self.size} rows); use e.g. "
                f"{lower or self.size} or {lower + self.size}.")

    def steps(self, batch_size):
        self._check_batch_size(batch_size)
        return super().steps(batch_size)

    def _num_batches(self, batch_size):
        if isinstance(self.inner, ArrayData):
            return math.ceil(self.n / batch_size)
        if isinstance(self.inner, PyDatasetData):
            total = self.inner.dataset.num_batches
            return None if total is None else math.ceil(total / self.size)
        return self._known_batches          # a generator: known after its first pass

    def _epoch_begin(self):
        self.inner._epoch_begin()

    def _epoch_end(self):
        self.inner._epoch_end()

    # ---- one pass ---------------------------------------------------------------
    def _open(self, batch_size, shuffle):
        self._check_batch_size(batch_size)
        if isinstance(self.inner, ArrayData):
            return self._array_pass(batch_size, shuffle)
        if isinstance(self.inner, PyDatasetData):
            return self._pydataset_pass(shuffle)
        return self._generator_pass(batch_size, shuffle)

    def _order(self, n):
        """Rank 0's permutation of range(n) (drawn from its global generator, as
        one process would draw it), the same on every rank."""
        order = np.empty(n, dtype=np.int64)
        if self.rank == 0:
            order[...] = ck_random.global_generator().permutation(n)
        self.comm.Bcast(order, root=0)
        return order

    def _array_pass(self, batch_size, shuffle):
        d = self.inner
        order = self._order(d.n) if shuffle else None
        for start in range(0, d.n, batch_size):
            stop = min(start + batch_size, d.n)
            lo, hi = shard_bounds(stop - start, self.size, self.rank)
            if order is None:
                sl = slice(start + lo, start + hi)
            else:
                sl = order[start + lo:start + hi]
            xs = [a[sl] for a in d.xs]
            ys = None if d.ys is None else [a[sl] for a in d.ys]
            sw = None if d.sample_weight is None else d.sample_weight[sl]
            yield xs, ys, sw

    def _empty(self):
        """A zero-row batch of the stream's structure (the trainer skips it)."""
        xs, ys, _ = self.inner._first
        return [a[:0] for a in xs], None if ys is None else [a[:0] for a in ys], None

    def _pydataset_pass(self, shuffle):
        ds = self.inner.dataset
        total = ds.num_batches
        if total is None:                       # endless: a step limit ends the epoch
            mine = itertools.count(self.rank, self.size)
            steps = None
        else:
            if total < self.size:
                raise ValueError(
                    f"ckeras.distribute: {type(ds).__name__} has {total} batches but "
                    f"there are {self.size} processes; each process needs at least one "
                    "batch per pass.")
            indices = self._order(total) if shuffle else np.arange(total)
            mine = [int(i) for i in indices[self.rank::self.size]]
            steps = math.ceil(total / self.size)
        if ds.workers > 1 or (ds.workers > 0 and ds.use_multiprocessing):
            from ckeras.utils.py_dataset import parallel_batches
            raw = parallel_batches(ds, mine)
        else:
            raw = (ds[i] for i in mine)
        count = 0
        for batch in raw:
            count += 1
            yield self.inner._unpack(batch)
        if steps is not None and count < steps:
            yield self._empty()

    def _generator_pass(self, batch_size, shuffle):
        mine, count = None, 0
        for batch in self.inner._open(batch_size, shuffle):
            if count % self.size == self.rank:
                mine = batch
            count += 1
            if count % self.size == 0:
                yield mine
                mine = None
        if count % self.size:                   # a partial last step
            if count < self.size:
                raise ValueError(
                    f"ckeras.distribute: the generator yielded {count} batches but "
                    f"there are {self.size} processes; each process needs at least "
                    "one batch per pass.")
            yield mine if mine is not None else self._empty()
