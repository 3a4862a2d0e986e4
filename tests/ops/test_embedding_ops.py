"""Embedding gather / scatter-add kernels vs the reference (np.take / np.add.at)."""
import numpy as np
import pytest

from ckeras.ops import OutOfRangeError
from ckeras.ops import reference as ref


@pytest.mark.parametrize("id_dtype", [np.int64, np.int32, np.uint16])
@pytest.mark.parametrize("ids_shape", [(), (1,), (7,), (3, 4), (2, 3, 5), (0, 4)])
@pytest.mark.parametrize("dim", [1, 3, 17, 129])
def test_gather(kernels, rng, id_dtype, ids_shape, dim):
    table = rng.standard_normal((50, dim)).astype(np.float32)
    ids = rng.integers(0, 50, ids_shape).astype(id_dtype)
    if ids.size:
        ids.reshape(-1)[0] = 0                      # id 0 (the mask_zero id) is valid
    got = kernels.embedding_lookup(ids, table)
    assert got.shape == ids_shape + (dim,) and got.dtype == np.float32
    np.testing.assert_array_equal(got, ref.embedding_lookup(ids, table))


@pytest.mark.parametrize("id_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("dim", [1, 3, 17, 64, 129])
def test_scatter_add_repeated_ids(kernels, rng, id_dtype, dim):
    vocab = 40
    ids = rng.integers(0, 8, (6, 11)).astype(id_dtype)  # many repeats
    ids[0, :3] = 0
    dout = rng.standard_normal(ids.shape + (dim,)).astype(np.float32)
    start = rng.standard_normal((vocab, dim)).astype(np.float32)
    got, want = start.copy(), start.copy()
    kernels.embedding_lookup_backward(ids, dout, got)
    ref.embedding_lookup_backward(ids, dout, want)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    untouched = np.setdiff1d(np.arange(vocab), ids)
    np.testing.assert_array_equal(got[untouched], start[untouched])


@pytest.mark.parametrize("dim", [3, 64, 129])      # row-owner and column-block splits
def test_embedding_across_threads(across_threads, rng, dim):
    from ckeras import ops
    ids = rng.integers(0, 30, (9, 23))
    dout = rng.standard_normal(ids.shape + (dim,)).astype(np.float32)
    table = rng.standard_normal((30, dim)).astype(np.float32)

    def run():
        dtable = np.ones((30, dim), np.float32)
        ops.embedding_lookup_backward(ids, dout, dtable)
        return ops.embedding_lookup(ids, table), dtable
    across_threads(run)


@pytest.mark.parametrize("id_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("bad", [-1, 20, 2**31 - 1])
def test_bad_ids_raise_before_writing(kernels, rng, id_dtype, bad):
    table = rng.standard_normal((20, 4)).astype(np.float32)
    ids = np.array([[1, 2, 3], [0, bad, 5]], id_dtype)
    dtable = np.zeros((20, 4), np.float32)
    for fn in (lambda: kernels.embedding_lookup(ids, table),
               lambda: kernels.embedding_lookup_backward(ids, np.ones((2, 3, 4), np.float32), dtable),
               lambda: ref.embedding_lookup(ids, table)):
        with pytest.raises(IndexError) as info:
            fn()
        err = info.value
        assert isinstance(err, OutOfRangeError) and isinstance(err, ValueError)
        assert (err.index, err.position, err.limit) == (bad, 4, 20)
        assert str(bad) in str(err) and "position 4" in str(err) and "input_dim 20" in str(err)
    assert not dtable.any()


def test_non_float32_tables_use_reference(kernels, rng):
    ids = np.array([1, 1, 2])
    table = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(kernels.embedding_lookup(ids, table), table[ids])
    dtable = np.zeros((4, 3))
    kernels.embedding_lookup_backward(ids, np.ones((3, 3)), dtable)
    np.testing.assert_array_equal(dtable[:, 0], [0, 2, 1, 0])
    with pytest.raises(TypeError):
        kernels.embedding_lookup(np.array([0.5]), table.astype(np.float32))
