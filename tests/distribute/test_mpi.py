"""Two processes under mpiexec train like one process with the same global batch.

Each scenario of worker.py runs once under ``mpiexec -n 2`` (hard timeout) and
once in this process without MPI. Tolerance: weights agree to rtol 1e-4 /
atol 1e-5 — the two runs sum the same float32 gradients in a different order
(per shard, then across ranks), nothing more; a wrong shard, a missed
broadcast or an unaveraged gradient moves weights by 1e-2 or more. The two
ranks must agree bitwise (weights, History, learning rate, iterations).

Skipped when mpi4py or mpiexec is missing; .ci/mpi_tests.sh installs the
``[mpi]`` extra and runs them.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mpirun  # noqa: E402

REQUIRED = os.environ.get("CKERAS_REQUIRE_MPI", "") not in ("", "0")   # .ci/mpi_tests.sh
try:
    import mpi4py  # noqa: F401
    MISSING = None if mpirun.find_mpiexec() else \
        "no mpiexec found (pip install '.[mpi]' brings MPICH's)"
except ImportError:
    MISSING = "mpi4py is not installed: pip install '.[mpi]' (run .ci/mpi_tests.sh)"
if MISSING and REQUIRED:
    raise RuntimeError(f"CKERAS_REQUIRE_MPI is set but {MISSING}")
if MISSING:
    pytest.skip(MISSING, allow_module_level=True)
import worker  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5
TIMEOUT = 120


def _load(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("mpi")
    worker.make_resume_start(str(d))
    return d


_cache = {}


def scenario(name, workdir):
    """(rank 0, rank 1, one-process reference) records of a scenario."""
    if name not in _cache:
        dist = workdir / f"{name}_dist"
        ref = workdir / f"{name}_ref"
        dist.mkdir(exist_ok=True)
        ref.mkdir(exist_ok=True)
        proc = mpirun.run(2, [os.path.join(HERE, "worker.py"), name, str(dist)], TIMEOUT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        worker.run(name, str(ref), dist=False)
        _cache[name] = (_load(dist / "rank0.npz"), _load(dist / "rank1.npz"),
                        _load(ref / "rank0.npz"), dist)
    return _cache[name]


def _weights(rec):
    return [rec[k] for k in sorted((k for k in rec if k.startswith("w")), key=lambda k: int(k[1:]))]


def check_same_training(name, workdir):
    r0, r1, ref, _ = scenario(name, workdir)
    assert bool(r0["identical"]) and bool(r1["identical"])
    for a, b in zip(_weights(r0), _weights(r1)):
        assert np.array_equal(a, b)               # replicas bitwise identical
    assert str(r0["history"]) == str(r1["history"])
    assert r0["lr"] == r1["lr"] and r0["iterations"] == r1["iterations"]
    assert len(_weights(r0)) == len(_weights(ref))
    for a, b in zip(_weights(r0), _weights(ref)):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    assert int(r0["iterations"]) == int(ref["iterations"])
    assert np.float32(r0["lr"]) == np.float32(ref["lr"])
    h, h_ref = json.loads(str(r0["history"])), json.loads(str(ref["history"]))
    assert sorted(h) == sorted(h_ref)
    for key in h:
        np.testing.assert_allclose(h[key], h_ref[key], rtol=1e-4, atol=1e-5, err_msg=key)
    return r0, r1, ref


def test_mlp_two_processes_match_one(workdir):
    r0, r1, ref = check_same_training("mlp", workdir)
    h = json.loads(str(r0["history"]))
    # EarlyStopping (min_delta=0.5) stopped after 2 of 4 epochs and
    # ReduceLROnPlateau (min_delta=1) halved the rate after epoch 2: on
    # both ranks, as in one process (checked above).
    assert len(h["loss"]) == 2 and "val_loss" in h
    assert np.isclose(float(r0["lr"]), 3e-3 / 2)


def test_embedding_lstm_two_processes_match_one(workdir):
    r0, _, _ = check_same_training("text", workdir)
    assert {"auc", "val_auc", "val_accuracy"} <= set(json.loads(str(r0["history"])))


def test_only_rank0_prints_and_writes(workdir):
    r0, r1, _, out = scenario("mlp", workdir)
    assert int(r0["printed"]) > 0 and int(r1["printed"]) == 0
    assert (out / "ckpt_rank0.weights.h5").exists()
    assert not (out / "ckpt_rank1.weights.h5").exists()
    assert (out / "log_rank0.csv").exists() and not (out / "log_rank1.csv").exists()
    rows = (out / "log_rank0.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 2                          # header + one row per epoch


def test_pydataset_and_generator_shard_by_index(workdir):
    r0, r1, ref = check_same_training("pydataset", workdir)
    # Batch 0 is peeked by every rank (it builds the model); then rank r reads
    # batches r, r+2, ...: nothing read twice, nothing skipped.
    assert list(r0["read"]) == [0, 2, 4, 6]
    assert list(r1["read"]) == [0, 1, 3, 5]
    assert int(r0["iterations"]) == 2 * 4              # 7 batches -> 4 global steps
    ev, ev_ref = json.loads(str(r0["evaluate"])), json.loads(str(ref["evaluate"]))
    assert ev == json.loads(str(r1["evaluate"]))
    for k in ev_ref:
        np.testing.assert_allclose(ev[k], ev_ref[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_resume_broadcasts_optimizer_state(workdir):
    r0, _, _ = check_same_training("resume", workdir)
    assert int(r0["iterations"]) == 4 + 4              # the file's steps, then one epoch


def test_batchnorm_statistics_stay_identical_across_ranks(workdir):
    r0, r1, ref, _ = scenario("batchnorm", workdir)
    assert bool(r0["identical"]) and bool(r1["identical"])
    w0, w1, w_ref = _weights(r0), _weights(r1), _weights(ref)
    for a, b in zip(w0, w1):
        assert np.array_equal(a, b)      # moving mean/variance included
    # The moving statistics came from a half batch, so they are not one process's.
    assert any(not np.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(w0, w_ref))


def test_a_failing_rank_ends_every_rank(workdir):
    out = workdir / "fail"
    out.mkdir()
    start = time.monotonic()
    try:
        proc = mpirun.run(2, [os.path.join(HERE, "worker.py"), "fail", str(out)], 60)
    except subprocess.TimeoutExpired:
        pytest.fail("the run hung after rank 1 raised")
    assert proc.returncode != 0
    assert "rank 1 fails on purpose" in proc.stderr
    assert "aborting all processes" in proc.stderr
    assert time.monotonic() - start < 60
    assert not (out / "rank0.npz").exists()
