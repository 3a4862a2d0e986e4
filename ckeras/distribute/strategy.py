"""MPIDataParallel: synchronous data-parallel training over MPI (mpi4py).

Every process holds a full replica of the model. Per training step each
process runs forward/backward on its shard of the global batch, then ONE
in-place ``Allreduce`` over a preallocated flat float32 buffer sums

    [rows, rows * loss, rows * loss_k ..., rows * grad_1, rows * grad_2, ...]

and each rank divides by the summed row count: every rank gets the gradient
of the whole global batch (exactly one process's formula Σ_i w_i ∇l_i / N,
whatever the split) and the global batch loss. The optimizer then takes the
same step on the same bits everywhere, so the replicas stay identical.
"""
import contextlib
import hashlib
import sys
import time

import numpy as np

from ckeras.distribute import context
from ckeras.distribute import reduction
from ckeras.distribute.sharding import ShardedData

_INSTALL_HINT = (
    "ckeras.distribute.MPIDataParallel needs mpi4py and an MPI library: "
    "pip install 'ckeras[mpi]' (mpi4py and the mpich wheel), or "
    "pip install mpi4py against a system MPI (Open MPI, MPICH, Intel MPI).")


def import_mpi():
    """mpi4py's MPI module, or an ImportError saying what to install."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{_INSTALL_HINT} ({e})") from None
    return MPI


class MPIDataParallel:
    """Synchronous data parallelism over the processes of ``comm``
    (``MPI.COMM_WORLD`` by default). Launch with ``mpiexec -n N python train.py``
    (or ``srun`` under SLURM)::

        strategy = ckeras.distribute.MPIDataParallel()
        with strategy.scope():
            model = ...
            model.compile(...)
        model.fit(x, y, batch_size=256)   # 256 = the global batch

    With ``abort_on_exception`` (the default), an exception that ends one
    process aborts every process (``MPI_Abort``, non-zero exit) instead of
    leaving the others waiting in a collective.
    """

    def __init__(self, comm=None, abort_on_exception=True):
        MPI = import_mpi()
        self._MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self._buffer = None
        self._buffer_key = None
        self.allreduce_seconds = 0.0      # time spent in the gradient Allreduce
        self.allreduce_calls = 0
        context.set_process_strategy(self)
        if abort_on_exception and self.size > 1:
            _install_abort_hook(self.comm)

    # ---- Keras-style surface ---------------------------------------------------
    @property
    def num_replicas_in_sync(self):
        return self.size

    @property
    def is_chief(self):
        return self.rank == 0

    @contextlib.contextmanager
    def scope(self):
        """Models compiled inside train data-parallel with this strategy."""
        context.push(self)
        try:
            yield self
        finally:
            context.pop(self)

    def __repr__(self):
        return f"<MPIDataParallel rank={self.rank} size={self.size}>"

    # ---- start of fit / evaluate ---------------------------------------------
    def prepare(self, model, *sources):
        """Rank 0's weights and optimizer state to every rank; each source
        (None passes through) wrapped into this rank's shard of it."""
        self.broadcast_model(model)
        return [None if s is None else ShardedData(s, self.comm) for s in sources]

    def broadcast_model(self, model):
        weights = [w.value for w in model.weights]
        opt = getattr(model, "optimizer", None)
        names = [str(w.path) for w in model.weights]
        if opt is not None and self.comm.bcast(opt.built, root=0):
            # Resuming (rank 0 loaded a file or trained before): rank 0's state.
            if not opt.built:
                opt.build(model.trainable_weights)
            slots = [np.ascontiguousarray(v) for _, v in opt.variables()]
            weights += slots
            names += [name for name, _ in opt.variables()]
        else:
            slots = None
        # Shapes and dtypes must agree (names may not: auto-numbering such as
        # "dense_3" depends on how many layers each process made before).
        layout = [(a.shape, a.dtype.str) for a in weights]
        layouts = self.comm.allgather(layout)
        for r, other in enumerate(layouts):
            if other != layouts[0]:
                diff = next((i for i, (p, q) in enumerate(zip(other, layouts[0])) if p != q),
                            min(len(other), len(layouts[0])))
                where = names[diff] if diff < len(names) else "the end"
                raise ValueError(
                    f"ckeras.distribute: rank {r} has a different model or optimizer "
                    f"than rank 0 ({len(other)} vs {len(layouts[0])} variables; the "
                    f"first difference at {where!r}); every process must build the "
                    "same model.")
        for a in weights:
            self.comm.Bcast(a, root=0)
        if slots is not None and self.rank != 0:
            opt.set_variables(slots)          # the iteration count (a copy) included

    # ---- one training step ----------------------------------------------------
    def _buffer_for(self, weights, n_losses):
        key = (n_losses,) + tuple((id(w), w.value.size) for w in weights)
        if key != self._buffer_key:
            spans, offset = [], 2 + n_losses
            for w in weights:
                spans.append((offset, offset + w.value.size))
                offset += w.value.size
            self._buffer = np.zeros(offset, dtype=np.float32)
            self._spans = spans
            self._buffer_key = key
        return self._buffer, self._spans

    def reduce_gradients(self, weights, rows, loss, per_output):
        """Replace each weight's gradient (of this rank's ``rows`` rows) by the
        gradient of the global batch; return its loss and per-output losses."""
        buf, spans = self._buffer_for(weights, len(per_output))
        k = len(per_output)
        buf[0] = rows
        buf[1] = rows * loss
        buf[2:2 + k] = [rows * v for v in per_output]
        for w, (a, b) in zip(weights, spans):
            np.multiply(w.grad.reshape(-1), rows, out=buf[a:b])
        start = time.perf_counter()
        self.comm.Allreduce(self._MPI.IN_PLACE, buf, op=self._MPI.SUM)
        self.allreduce_seconds += time.perf_counter() - start
        self.allreduce_calls += 1
        total = float(buf[0])
        inv = 1.0 / total
        for w, (a, b) in zip(weights, spans):
            g = w.grad
            np.multiply(buf[a:b], inv, out=g.reshape(-1))
            w.grad = g      # also ends row-sparse tracking: other ranks touched other rows
        return float(buf[1]) * inv, [float(v) * inv for v in buf[2:2 + k]]

    def empty_step(self, model, training):
        """This rank's shard of the step is empty: take part in the collective
        with zero rows, so the optimizer still steps with everyone."""
        k = len(model._outputs_spec)
        if not training:
            return 0.0, [0.0] * k
        weights = model.trainable_weights
        for w in weights:
            w.zero_grad()
        loss, per_output = self.reduce_gradients(weights, 0, 0.0, [0.0] * k)
        model.optimizer.apply(weights)
        return loss, per_output

    # ---- end of an epoch / evaluation -----------------------------------------
    def end_epoch(self, model):
        """Logs over every process's samples (identical on every rank), and
        rank 0's non-trainable state (e.g. BatchNormalization's moving
        statistics, which each rank updates from its own shard) everywhere."""
        states = self.comm.allgather(reduction.local_state(model))
        reduction.assign_state(model, reduction.combine(states))
        trainable = {id(w) for w in model.trainable_weights}
        for w in model.weights:
            if id(w) not in trainable:
                self.comm.Bcast(w.value, root=0)

    # ---- checks ---------------------------------------------------------------
    def replicas_identical(self, model):
        """True when every rank holds bitwise the same weights (a collective)."""
        h = hashlib.blake2b(digest_size=16)
        for w in model.weights:
            h.update(np.ascontiguousarray(w.value).tobytes())
        digests = self.comm.allgather(h.hexdigest())
        return all(d == digests[0] for d in digests)


def _install_abort_hook(comm):
    """An uncaught exception prints its traceback, then aborts every rank."""
    previous = sys.excepthook
    if getattr(previous, "_ckeras_abort", False):
        return

    def hook(exc_type, exc, tb):
        try:
            previous(exc_type, exc, tb)
            sys.stderr.write(f"ckeras.distribute: rank {comm.Get_rank()} failed; "
                             "aborting all processes.\n")
            sys.stderr.flush()
            sys.stdout.flush()
        finally:
            comm.Abort(1)

    hook._ckeras_abort = True
    sys.excepthook = hook
