"""The sharding rules and log reduction of ckeras.distribute, in one process
(no MPI needed): a fake communicator replays rank 0's broadcasts to the others."""
import sys

import numpy as np
import pytest

import ckeras as keras
from ckeras import metrics
from ckeras.distribute import reduction
from ckeras.distribute.sharding import ShardedData, shard_bounds
from ckeras.models.data import adapt


class FakeComm:
    """Rank ``rank`` of ``size``; Bcast records on rank 0, replays elsewhere."""

    def __init__(self, rank, size, log):
        self.rank, self.size, self.log, self.pos = rank, size, log, 0

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def Bcast(self, arr, root=0):
        if self.rank == 0:
            self.log.append(arr.copy())
        else:
            arr[...] = self.log[self.pos]
            self.pos += 1


def epoch_per_rank(make_source, size, batch_size, shuffle, seed=3, epochs=1):
    """[[rank r's batches of each step] for each rank], drawn as rank 0 first."""
    log, out = [], []
    for r in range(size):
        keras.utils.set_random_seed(seed)
        data = ShardedData(make_source(), FakeComm(r, size, log))
        steps = []
        for _ in range(epochs):
            steps += list(data.batches(batch_size, shuffle))
        out.append(steps)
    return out


def test_shard_bounds_cover_rows_evenly():
    for rows in range(1, 12):
        for size in (1, 2, 3, 4):
            bounds = [shard_bounds(rows, size, r) for r in range(size)]
            assert bounds[0][0] == 0 and bounds[-1][1] == rows
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
            lengths = [hi - lo for lo, hi in bounds]
            assert max(lengths) - min(lengths) <= 1 and lengths == sorted(lengths, reverse=True)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n,batch,size", [(161, 32, 2), (30, 6, 3), (9, 4, 4), (8, 8, 2)])
def test_array_shards_make_the_global_batches(n, batch, size, shuffle):
    x = np.arange(n, dtype=np.float32)[:, None]
    y = np.arange(n)

    def source():
        return adapt(x, y)
    per_rank = epoch_per_rank(source, size, batch, shuffle)
    keras.utils.set_random_seed(3)
    single = list(adapt(x, y).batches(batch, shuffle))
    assert all(len(steps) == len(single) for steps in per_rank)
    for s, (xs, ys, _) in enumerate(single):
        joined = np.concatenate([per_rank[r][s][0][0] for r in range(size)])
        np.testing.assert_array_equal(joined, xs[0])
        np.testing.assert_array_equal(np.concatenate([per_rank[r][s][1][0]
                                                      for r in range(size)]), ys[0])


def test_global_batch_must_divide_by_processes():
    data = ShardedData(adapt(np.zeros((10, 2), np.float32), np.zeros(10)),
                       FakeComm(0, 3, []))
    with pytest.raises(ValueError, match=r"batch_size=8 is the global batch.*multiple "
                                         r"of the 3 processes.*6 or 9"):
        data.steps(8)
    with pytest.raises(ValueError, match="multiple of the 3"):
        list(data.batches(8))


def test_fewer_samples_than_processes_is_refused():
    with pytest.raises(ValueError, match="2 samples but there are 3 processes"):
        ShardedData(adapt(np.zeros((2, 2), np.float32), np.zeros(2)), FakeComm(0, 3, []))


class Batches(keras.utils.PyDataset):
    def __init__(self, sizes):
        super().__init__()
        self.sizes = sizes
        self.read = []

    def __len__(self):
        return len(self.sizes)

    def __getitem__(self, i):
        self.read.append(i)
        return np.full((self.sizes[i], 1), i, np.float32), np.full(self.sizes[i], i)


@pytest.mark.parametrize("shuffle", [False, True])
def test_pydataset_batch_i_goes_to_rank_i_mod_size(shuffle):
    sizes = [3, 4, 2, 5, 1]
    datasets = []

    def source():
        datasets.append(Batches(sizes))
        return adapt(datasets[-1])
    per_rank = epoch_per_rank(source, 2, None, shuffle)
    assert [len(s) for s in per_rank] == [3, 3]
    seen = [int(b[1][0][0]) for steps in per_rank for b in steps if len(b[0][0])]
    assert sorted(seen) == list(range(5))          # every batch once, none twice
    assert len(per_rank[1][2][0][0]) == 0          # the last step: rank 1 has none
    assert per_rank[1][2][1][0].shape == (0,)
    if not shuffle:
        assert [int(b[1][0][0]) for b in per_rank[0]] == [0, 2, 4]
        assert [int(b[1][0][0]) for b in per_rank[1][:2]] == [1, 3]
    # Rank 1 read only its own batches (and batch 0, which builds the model).
    assert set(datasets[1].read) - {0} == set(seen) - {int(b[1][0][0]) for b in per_rank[0]}


def test_generator_items_alternate_between_ranks():
    def source():
        return adapt(iter([(np.full((2, 1), i, np.float32), np.full(2, i)) for i in range(5)]))
    per_rank = epoch_per_rank(source, 2, None, False)
    assert [[int(b[1][0][0]) for b in steps if len(b[0][0])] for steps in per_rank] == \
        [[0, 2, 4], [1, 3]]
    assert len(per_rank[1]) == 3 and len(per_rank[1][2][0][0]) == 0


def test_reiterable_generator_steps_are_known_after_one_pass():
    class Source:
        def __iter__(self):
            return iter([(np.full((2, 1), i, np.float32), np.full(2, i)) for i in range(5)])
    data = ShardedData(adapt(Source()), FakeComm(0, 2, []))
    assert data.steps(None) is None
    assert len(list(data.batches(None))) == 3
    assert data.steps(None) == 3 and len(list(data.batches(None))) == 3


def test_too_few_stream_batches_is_refused():
    with pytest.raises(ValueError, match="1 batches but there are 2 processes"):
        epoch_per_rank(lambda: adapt(Batches([3])), 2, None, False)


def test_metric_states_add_up_to_the_whole_data():
    rng = np.random.default_rng(0)
    y = (rng.random(40) > 0.5).astype(np.float32)
    p = rng.random(40).astype(np.float32)
    for make in (metrics.BinaryAccuracy, metrics.AUC, metrics.Precision,
                 lambda: metrics.get("accuracy"), metrics.MeanSquaredError):
        whole, parts = make(), [make(), make()]
        whole.update_state(y, p)
        parts[0].update_state(y[:25], p[:25])
        parts[1].update_state(y[25:], p[25:])
        states = [[reduction._state(m)] for m in parts]
        total = states[0][0]
        for s in states[1:]:
            total = reduction._add(total, s[0])
        reduction._set_state(parts[1], total)
        np.testing.assert_allclose(parts[1].result(), whole.result(), rtol=1e-6)


def test_a_metric_without_known_state_is_refused():
    class Odd(metrics.Metric):
        def update_state(self, *a, **k):
            pass
    with pytest.raises(TypeError, match="distributed_state"):
        reduction.state_names(Odd())

    class Declared(Odd):
        distributed_state = ("hits",)
    assert reduction.state_names(Declared()) == ("hits",)


def test_strategy_without_mpi4py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install 'ckeras\[mpi\]'"):
        keras.distribute.MPIDataParallel()
    assert keras.distribute.rank() == 0 and keras.distribute.size() == 1
    assert keras.distribute.is_chief()
