"""The pure parts of benchmarks/run.py: floor arithmetic, FLOP counting from a
model's layers, aggregation, ratios, table formatting, the report, the
resume cache and the child scheduling (with a fake child: no timing, no peers)."""
import json
import sys
from types import SimpleNamespace

import numpy as np
import pytest


@pytest.fixture(scope="module")
def run():
    from benchmarks import run as module   # the package beside ckeras/ (tests/conftest.py)
    return module


# ---- floor arithmetic --------------------------------------------------------------

def test_floor_adds_gemm_time_and_optimizer_bytes_at_bandwidth(run):
    floor = {"flops": 2e9, "gemm_s": 0.010, "optimizer_bytes": 28e6}
    machine = {"copy_gbps": 10.0, "sgemm_gflops": 100.0}
    out = run.floor_of(floor, machine, batch=100)
    assert out["optimizer_s"] == pytest.approx(0.0028)
    assert out["step_s"] == pytest.approx(0.0128)
    assert out["samples_per_s"] == pytest.approx(100 / 0.0128)
    assert out["gemm_gflops"] == pytest.approx(200.0)
    assert out["peak_samples_per_s"] == pytest.approx(100 / (0.02 + 0.0028))


def test_floor_share_is_measured_over_floor(run):
    res = {"ckeras": {"train_samples_per_s": 3906.25, "batch": 100,
                      "floor": {"flops": 2e9, "gemm_s": 0.010, "optimizer_bytes": 28e6}}}
    row = run.floor_row(res, {"copy_gbps": 10.0, "sgemm_gflops": 100.0})
    assert row["share"] == pytest.approx(0.5)
    assert run.floor_row({"ckeras": {"train_samples_per_s": 1.0}}, {"copy_gbps": 1}) is None


def test_train_flops_counts_forward_dw_and_dx_unless_first_layer(run):
    gemms = [(128, 784, 512, 1, True, False), (128, 512, 10, 1, True, True),
             (64, 64, 256, 100, False, True)]
    want = 2 * 128 * 784 * 512 * 2 + 2 * 128 * 512 * 10 * 3 + 2 * 64 * 64 * 256 * 100 * 3
    assert run.train_flops(gemms) == want


def test_optimizer_bytes_per_parameter(run):
    assert run.OPTIMIZER_BYTES["adam"] == 28          # read p, g, m, v; write p, m, v
    assert run.OPTIMIZER_BYTES["sgd"] == 12           # read p, g; write p
    import ckeras as keras
    assert run.optimizer_key(keras.optimizers.SGD(0.1, momentum=0.9)) == "sgd+momentum"
    assert run.optimizer_key(keras.optimizers.SGD(0.1)) == "sgd"
    assert run.optimizer_key(keras.optimizers.Adam()) == "adam"


# ---- GEMM shapes from a ckeras model -----------------------------------------------

def _mlp(keras):
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_record_gemms_of_the_w1_mlp(run):
    import ckeras as keras
    model = _mlp(keras)
    gemms = run.record_gemms(model, np.zeros((128, 784), np.float32))
    assert gemms == [(128, 784, 512, 1, True, False), (128, 512, 512, 1, True, True),
                     (128, 512, 10, 1, True, True)]
    # 2*128*(784*512*2 + (512*512 + 512*10)*3): the W1 step's eight GEMMs
    assert run.train_flops(gemms) == 410_779_648
    # the hooks are gone afterwards
    assert all("forward" not in vars(layer) for layer in model.layers)


def test_record_gemms_skips_embedding_and_keeps_dx_after_it(run):
    import ckeras as keras
    model = keras.Sequential([keras.Input(shape=(20,), dtype="int32"),
                              keras.layers.Embedding(100, 8),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    gemms = run.record_gemms(model, np.ones((4, 20), np.int64))
    assert gemms == [(4, 8, 16, 1, True, True), (4, 16, 3, 1, True, True)]


def test_layer_gemms_rules(run):
    conv = type("Conv2D", (SimpleNamespace,), {})(
        weights=[SimpleNamespace(name="kernel", shape=(3, 3, 4, 8))], groups=1)
    assert run.layer_gemms(conv, (2, 10, 10, 4), (2, 8, 8, 8)) == [(2 * 64, 36, 8, 1, True)]
    lstm = type("LSTM", (SimpleNamespace,), {})(weights=[
        SimpleNamespace(name="kernel", shape=(64, 256)),
        SimpleNamespace(name="recurrent_kernel", shape=(64, 256)),
        SimpleNamespace(name="bias", shape=(256,))])
    assert run.layer_gemms(lstm, (32, 100, 64), (32, 64)) == [
        (3200, 64, 256, 1, True), (32, 64, 256, 100, False)]
    mha = type("MultiHeadAttention", (SimpleNamespace,), {})(
        weights=[SimpleNamespace(name="query/kernel", shape=(128, 4, 32))],
        num_heads=4, key_dim=32, value_dim=None)
    assert run.layer_gemms(mha, (2, 16, 128), (2, 16, 128)) == [
        (32, 128, 128, 1, True), (32, 128, 128, 1, True), (32, 128, 128, 1, True),
        (32, 128, 128, 1, True), (16, 32, 16, 8, True), (16, 16, 32, 8, True)]
    # cross-attention: 10 value steps of width 64, output back to 128
    assert run.layer_gemms(mha, (2, 16, 128), (2, 16, 128), [(2, 10, 64)]) == [
        (32, 128, 128, 1, True), (20, 64, 128, 1, True), (20, 64, 128, 1, True),
        (32, 128, 128, 1, True), (16, 32, 10, 8, True), (16, 10, 32, 8, True)]
    norm = type("LayerNormalization", (SimpleNamespace,), {})(
        weights=[SimpleNamespace(name="gamma", shape=(8,))])
    assert run.layer_gemms(norm, (2, 8), (2, 8)) is None
    custom = type("OpsDense", (SimpleNamespace,), {})(weights=[
        SimpleNamespace(name="variable", shape=(16, 8)), SimpleNamespace(name="v2", shape=(8,))])
    assert run.layer_gemms(custom, (4, 16), (4, 8)) == [(4, 16, 8, 1, True)]
    assert run.layer_gemms(custom, (4, 10), (4, 8)) is None       # no weight fits the input
    emb = type("Embedding", (SimpleNamespace,), {})(weights=[])
    assert run.layer_gemms(emb, (2, 8), (2, 8, 4)) == []


def test_time_gemms_is_positive_and_scales_with_count(run):
    one = run.time_gemms([(8, 8, 8, 1, False, True)], repeats=1, min_time=1e-4)
    assert one > 0


def test_closure_vars_reaches_the_model(run):
    model = object()
    fn = (lambda: model)
    assert run.closure_vars(fn) == {"model": model}
    assert run.closure_vars(len) == {}


def test_quick_size_shrinks_steps_only(run):
    w = {"vocab": 10, "batch": 32, "steps": 40}
    assert run.quick_size(w) == {"vocab": 10, "batch": 32, "steps": 2}
    assert w["steps"] == 40


# ---- aggregation, ratios, formatting -----------------------------------------------

def test_aggregate_medians_over_rounds_and_keeps_skips_and_errors(run):
    runs = {"ckeras": [{"train_samples_per_s": v, "train_spread": [v - 1, v + 1],
                        "versions": {"ckeras": "0.1"}} for v in (30.0, 10.0, 20.0)],
            "pytorch": [{"skipped": "torch is not installed"}],
            "keras-jax": [{"train_samples_per_s": 5.0}, {"error": "boom"}]}
    out = run.aggregate(runs)
    assert out["ckeras"]["train_samples_per_s"] == 20.0
    assert out["ckeras"]["train_rounds"] == [30.0, 10.0, 20.0]
    assert out["ckeras"]["train_spread"] == [9.0, 31.0]
    assert out["ckeras"]["versions"] == {"ckeras": "0.1"}
    assert out["pytorch"] == {"skipped": "torch is not installed"}
    assert out["keras-jax"] == {"error": "boom"}


def test_ratios_against_best_peer_and_pytorch(run):
    res = {"ckeras": {"train_samples_per_s": 300.0}, "pytorch": {"train_samples_per_s": 100.0},
           "keras-jax": {"train_samples_per_s": 200.0}}
    q = run.ratios(res)
    assert q == {"vs_best": 1.5, "best_peer": "keras-jax", "vs_pytorch": 3.0}
    res["pytorch"] = {"skipped": "no torch"}
    assert run.ratios(res) == {"vs_best": 1.5, "best_peer": "keras-jax", "vs_pytorch": None}
    assert run.ratios({"ckeras": {"train_samples_per_s": 1.0}})["vs_best"] is None


def test_fmt_and_table(run):
    assert run.fmt(None) == "-"
    assert run.fmt(38132.4) == "38,132"
    assert run.fmt(12.345) == "12.3"
    assert run.fmt(1.164, "ratio") == "1.16x"
    assert run.fmt(0.0904, "ms") == "0.090"
    assert run.fmt(0.853, "pct") == "85 %"
    assert run.table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"
    assert run.cell({"pytorch": {"skipped": "x"}}, "pytorch", "k") == "skipped"
    assert run.cell({"pytorch": {"error": "x"}}, "pytorch", "k") == "failed"
    assert run.cell({}, "pytorch", "k") == "-"


def _fake_results():
    machine = {"machine": {"sgemm_gflops": 100.0, "copy_gbps": 10.0, "sgemm_n": 1024,
                           "cpu": {"model": "Test CPU", "isa": ["avx2", "fma"], "cpus": 2,
                                   "machine": "x86_64"}, "versions": {"numpy": "2.0"}}}
    w1 = {"ckeras": {"train_samples_per_s": 300.0, "train_spread": [290.0, 310.0],
                     "first_fit_overhead_s": 0.04, "batch": 100, "rss_peak_mb": 100.0,
                     "definition": "`bench_mlp.py`: 5120 samples an epoch, batch 128",
                     "rss_import_mb": 40.0, "evaluate_samples_per_s": 900.0,
                     "floor": {"flops": 2e9, "gemm_s": 0.01, "optimizer_bytes": 28e6,
                               "gemms": [[1, 1, 1, 1, True, True]], "params": 1_000_000,
                               "optimizer": "adam"}},
          "pytorch": {"train_samples_per_s": 200.0, "rss_peak_mb": 400.0, "rss_import_mb": 200.0,
                      "versions": {"torch": "2.13.0"}},
          "keras-jax": {"skipped": "keras is not installed"}}
    fixed = {"ckeras": {"tiny_step_ms": 0.2, "predict_1_ms": 0.25,
                        "predict_on_batch_1_ms": 0.09, "predict_1024_ms": 10.0},
             "pytorch": {"tiny_step_ms": 0.4, "predict_1_ms": 0.1,
                         "predict_on_batch_1_ms": 0.1, "predict_1024_ms": 12.0},
             "keras-jax": {"skipped": "keras is not installed"}}
    return {"machine": {1: machine}, "W1": {1: w1}, "fixed": {1: fixed},
            "onnx": {1: {"onnxruntime": {"skipped": "onnxruntime/onnx not installed"}}},
            "import": {"ckeras": {"over_numpy_s": 0.18}, "pytorch": {"over_numpy_s": 1.2},
                       "keras-jax": {"skipped": "no keras"}}}


META = {"threads": [1], "workloads": ["W1"], "quick": False, "rounds": 3, "repeats": 2,
        "budget_min": 15.0, "rounds_done": {"W1-t1": 3, "fixed-t1": 3},
        "commit": "abc1234", "date": "2026-12-02 01:00", "duration_min": 12.5,
        "command": "python benchmarks/run.py"}


def test_render_has_every_section_and_the_numbers(run):
    text = run.render(_fake_results(), META)
    for heading in ("# Benchmark results", "## Machine and versions", "## Protocol",
                    "## Summary: train samples/s", "## W1:", "## Fixed costs", "## Peak RSS"):
        assert heading in text
    assert "Test CPU" in text and "avx2, fma; no AVX-512" in text
    assert "torch 2.13.0" in text
    assert "pip install \".[bench]\"" in text
    assert "within 15 minutes (rounds done: 3 for every section)" in text
    # summary: ckeras 300 vs pytorch 200 (keras skipped); floor 100/0.0128 = 7,812/s, 4 %
    assert "| W1 | 1 | 300 | 200 | skipped | 1.50x | 1.50x | 7,812 | 4 % |" in text
    assert "Keras 3 (JAX): skipped — keras is not installed" in text
    assert "| W1 | 1 | 100 (40) | 400 (200) | skipped | 0.25x |" in text
    assert "| `import` over `import numpy` (s), fresh interpreter | 1 | 0.180 | 1.200 |" in text
    assert "ONNX Runtime: not measured — onnxruntime/onnx not installed." in text
    assert "| W1 first-fit overhead (ms) | 1 | 40.0 | - | - |" in text
    assert "- Definition: `bench_mlp.py`: 5120 samples an epoch, batch 128" in text
    assert "W4" not in text                     # only the workloads asked for


def test_chart_writes_a_png(run, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "RESULTS.png"
    assert run.chart(_fake_results(), META, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- resume: the cache and the child schedule --------------------------------------

def test_cache_reuses_only_matching_settings(run, tmp_path):
    folder = tmp_path / ".cache" / "run"
    cache = run.Cache(folder, {"quick": False, "commit": "a"})
    assert cache.get("W1-t1") is None
    cache.put("W1-t1", {"ckeras": {"train_samples_per_s": 1.0}})
    assert cache.get("W1-t1") == {"ckeras": {"train_samples_per_s": 1.0}}
    assert (tmp_path / ".cache" / ".gitignore").read_text() == "*\n"
    assert run.Cache(folder, {"quick": True, "commit": "a"}).get("W1-t1") is None
    assert run.Cache(folder, {"quick": False, "commit": "a"}, force=True).get("W1-t1") is None
    (folder / "W2-t1.json").write_text("{not json")
    assert cache.get("W2-t1") is None
    assert json.loads((folder / "W1-t1.json").read_text())["config"]["commit"] == "a"


def _fake_runner(run, tmp_path, monkeypatch, calls, argv=(), force=False):
    def fake_child(threads, argv, python=None, timeout=None):
        section, name = argv[argv.index("--child") + 1:argv.index("--child") + 3]
        calls.append((section, name, threads, python))
        if name == "keras-jax":
            return {"skipped": "keras is not installed"}
        return {"train_samples_per_s": float(len(calls))}
    monkeypatch.setattr(run.harness, "try_child_at", fake_child)
    args = run.parse(["--python-peers", "/peers/python", *argv])
    return run.Runner(args, run.Cache(tmp_path, {"k": 1}, force))


def test_schedule_is_round_major_rotated_and_resumes(run, tmp_path, monkeypatch):
    calls = []
    runner = _fake_runner(run, tmp_path, monkeypatch, calls)
    plan = [("W1", run.FRAMEWORKS, 1, 3), ("W2", ["ckeras", "pytorch"], 1, 2)]
    states = run.schedule(runner, plan)
    order = [(section, name) for section, name, _, _ in calls]
    assert order == [("W1", "ckeras"), ("W1", "pytorch"), ("W1", "keras-jax"),
                     ("W2", "ckeras"), ("W2", "pytorch"),
                     ("W1", "pytorch"), ("W1", "ckeras"),        # rotated; keras stays skipped
                     ("W2", "pytorch"), ("W2", "ckeras"),
                     ("W1", "ckeras"), ("W1", "pytorch")]         # W2 wanted 2 rounds only
    assert {py for _, name, _, py in calls if name == "pytorch"} == {"/peers/python"}
    assert {py for _, name, _, py in calls if name == "ckeras"} == {sys.executable}
    assert len(states["W1", 1]["seconds"]) == 3 and len(states["W2", 1]["seconds"]) == 2
    w1 = run.aggregate(states["W1", 1]["runs"])
    assert w1["ckeras"]["train_rounds"] == [1.0, 7.0, 10.0]
    assert w1["ckeras"]["train_samples_per_s"] == 7.0
    assert w1["keras-jax"] == {"skipped": "keras is not installed"}
    # a new run with the same settings finds every round cached
    calls.clear()
    again = run.schedule(_fake_runner(run, tmp_path, monkeypatch, calls), plan)
    assert calls == [] and again == states
    # one more round wanted: only that round runs
    run.schedule(_fake_runner(run, tmp_path, monkeypatch, calls),
                 [("W1", run.FRAMEWORKS, 1, 4)])
    assert [name for _, name, _, _ in calls] == ["ckeras", "pytorch"]     # round 4: 4 % 3
    calls.clear()
    run.schedule(_fake_runner(run, tmp_path, monkeypatch, calls, force=True), plan)
    assert len(calls) == 11


def test_schedule_budget_keeps_round_one_only(run, tmp_path, monkeypatch):
    calls = []
    runner = _fake_runner(run, tmp_path, monkeypatch, calls)
    states = run.schedule(runner, [("W1", ["ckeras", "pytorch"], 1, 3),
                                   ("W2", ["ckeras"], 2, 3)], budget_s=0.0)
    assert [(s, n) for s, n, _, _ in calls] == [("W1", "ckeras"), ("W1", "pytorch"),
                                                 ("W2", "ckeras")]
    assert len(states["W2", 2]["seconds"]) == 1


def test_parse_defaults_and_quick(run):
    args = run.parse([])
    assert (args.rounds, args.repeats, args.threads, args.budget) == (3, 2, [1, 2], 15.0)
    assert args.python_peers == sys.executable
    quick = run.parse(["--quick"])
    assert (quick.rounds, quick.repeats) == (1, 1)


# ---- a workload script that follows the convention ---------------------------------

FAKE_SCRIPT = '''
WORKLOADS = {"W9": dict(batch=4, steps=5)}
CALLS = []


def data(w):
    n = w["batch"] * w["steps"]
    return list(range(n)), [0] * n


class Model:
    def evaluate(self, x, y, batch_size, verbose):
        CALLS.append(("evaluate", len(x), batch_size))


def setup_fake(w, x, y):
    model = Model()
    return (lambda: CALLS.append(("fit", len(x), model is not None)),
            lambda: CALLS.append(("predict", len(x))))


FRAMEWORKS = {"pytorch": "setup_fake"}
'''


@pytest.fixture
def fake_script(run, tmp_path, monkeypatch):
    (tmp_path / "bench_fake9.py").write_text(FAKE_SCRIPT)
    monkeypatch.setattr(run, "HERE", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(run, "WORKLOADS", {"W9": ("bench_fake9", "W9"),
                                           "W8": ("bench_fake9", "W8"),
                                           "W7": ("bench_absent7", "W7")})
    yield __import__("bench_fake9")
    sys.modules.pop("bench_fake9", None)


def test_defined_reads_the_script_without_importing_it(run, fake_script):
    assert run.defined("W9") is None
    assert run.defined("W9", "pytorch") is None
    assert run.defined("W9", "keras-jax") == "bench_fake9.py has no keras-jax setup"
    assert run.defined("W8") == "bench_fake9.py defines no W8 yet (no WORKLOADS['W8'])"
    assert run.defined("W7") == "benchmarks/bench_absent7.py does not exist yet"


def test_load_and_measure_a_conventional_script(run, fake_script):
    work = run.load_work("W9", "pytorch", quick=True)
    assert (work.n_train, work.batch) == (8, 4)            # quick: 2 steps of 4
    assert work.definition == "`bench_fake9.WORKLOADS['W9']`: batch=4, steps=5"
    assert run.load_work("W9", "keras-jax", quick=True) == "bench_fake9.py has no keras-jax setup"
    fake_script.CALLS.clear()
    out = run.measure_workload("W9", "pytorch", repeats=3, quick=False, details=True)
    assert fake_script.CALLS.count(("fit", 20, True)) == 4          # warm-up + 3 timed
    assert ("evaluate", 20, 4) in fake_script.CALLS
    assert ("predict", 20) in fake_script.CALLS
    assert set(out) >= {"train_samples_per_s", "train_spread", "first_fit_overhead_s",
                        "predict_samples_per_s", "evaluate_samples_per_s"}
    assert out["train_spread"][0] <= out["train_samples_per_s"] <= out["train_spread"][1]
    fake_script.CALLS.clear()
    out = run.measure_workload("W9", "pytorch", repeats=1, quick=True)   # no details
    assert "evaluate_samples_per_s" not in out and "predict_samples_per_s" not in out


def test_record_gemms_of_real_conv_and_lstm_layers(run):
    import ckeras as keras
    cnn = keras.Sequential([keras.Input((12, 12, 1)),
                            keras.layers.Conv2D(4, 3, activation="relu"),
                            keras.layers.MaxPooling2D(),
                            keras.layers.Flatten(),
                            keras.layers.Dense(3, activation="softmax")])
    cnn.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    gemms = run.record_gemms(cnn, np.zeros((2, 12, 12, 1), np.float32))
    assert gemms == [(2 * 10 * 10, 9, 4, 1, True, False), (2, 100, 3, 1, True, True)]
    rnn = keras.Sequential([keras.Input((7,), dtype="int32"), keras.layers.Embedding(50, 6),
                            keras.layers.LSTM(5), keras.layers.Dense(1, activation="sigmoid")])
    rnn.compile(optimizer="adam", loss="binary_crossentropy")
    gemms = run.record_gemms(rnn, np.ones((3, 7), np.int64))
    assert gemms == [(21, 6, 20, 1, True, True), (3, 5, 20, 7, False, True),
                     (3, 5, 1, 1, True, True)]


def test_tiny_step_runs_for_ckeras(run):
    step = run.tiny_step("ckeras")
    step()
    step()


def test_onnx_anchor_matches_ckeras_predict(run):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    out = run.measure_onnx(repeats=1, quick=True)
    assert "error" not in out and "skipped" not in out, out
    assert out["predict_1_ms"] > 0 and out["predict_1024_ms"] > 0


def test_record_gemms_of_a_functional_model(run):
    import ckeras as keras
    layers = keras.layers
    inputs = keras.Input((6,))
    h = layers.Dense(8, activation="relu")(inputs)
    out = layers.Dense(3, activation="softmax")(layers.Add()([h, layers.Dense(8)(h)]))
    model = keras.Model(inputs, out)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert run.record_gemms(model, np.zeros((4, 6), np.float32)) == [
        (4, 6, 8, 1, True, False), (4, 8, 8, 1, True, True), (4, 8, 3, 1, True, True)]
