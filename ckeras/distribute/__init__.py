"""Training on several processes: synchronous data parallelism over MPI.

    strategy = ckeras.distribute.MPIDataParallel()
    with strategy.scope():
        model = ...
        model.compile(...)
    model.fit(x, y, batch_size=256)     # the global batch, split over the ranks

launched with ``mpiexec -n N python train.py``. Importing this package never
imports mpi4py; creating the strategy does (and says what to install when it
is missing). See the README section "Training on several processes (MPI)".
"""
from ckeras.distribute import context as _context
from ckeras.distribute.strategy import MPIDataParallel, import_mpi


def _world():
    """The strategy's communicator, else COMM_WORLD when mpi4py is installed
    (initialising MPI), else None (a plain single process)."""
    strategy = _context.process_strategy()
    if strategy is not None:
        return strategy.comm
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_WORLD


def rank():
    """This process's rank (0 without MPI)."""
    comm = _world()
    return 0 if comm is None else comm.Get_rank()


def size():
    """The number of processes (1 without MPI)."""
    comm = _world()
    return 1 if comm is None else comm.Get_size()


def is_chief():
    """True on rank 0, the process that prints and writes files."""
    return rank() == 0


__all__ = ["MPIDataParallel", "rank", "size", "is_chief", "import_mpi"]
