"""Which strategy is in force, without importing mpi4py.

Two notions, kept apart on purpose:

* the *scope* stack: ``with strategy.scope():`` makes ``compile()`` attach the
  model to that strategy;
* the *process* strategy: the last MPIDataParallel created in this process.
  MPI is process-wide, so "am I rank 0?" (who prints progress and writes
  checkpoint/CSV files) is a property of the process, not of one model.
"""
_scopes = []
_process = None


def current():
    """The strategy of the innermost ``scope()``, or None."""
    return _scopes[-1] if _scopes else None


def push(strategy):
    _scopes.append(strategy)


def pop(strategy):
    if not _scopes or _scopes[-1] is not strategy:
        raise RuntimeError("ckeras.distribute: scopes must be exited in the order "
                           "they were entered.")
    _scopes.pop()


def set_process_strategy(strategy):
    global _process
    _process = strategy


def process_strategy():
    return _process


def is_secondary():
    """True in a process that is not rank 0 of a data-parallel run: it trains
    but stays silent and writes no files (progress, checkpoints, CSV logs)."""
    return _process is not None and _process.rank != 0
