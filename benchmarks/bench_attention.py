"""Attention workloads.

W6: Embedding(20000, 128) on length-128 ids -> one Transformer encoder block
    (MultiHeadAttention 4 heads x key_dim 32, Dropout 0.1, residual +
    LayerNormalization, Dense(256, relu) -> Dense(128), Dropout 0.1, residual +
    LayerNormalization) -> GlobalAveragePooling1D -> Dense(2, softmax); batch
    32, Adam, sparse categorical cross-entropy. PyTorch eager uses
    nn.MultiheadAttention (batch_first) with the same shapes.
TV: TextVectorization.adapt on 100k short texts, then the call on 10k
    (ckeras vs Keras 3; Keras's layer needs TensorFlow and is skipped without it).

Train samples/s (one fit() epoch per timing) for ckeras, PyTorch eager and
Keras 3 (JAX), each framework in its own child process pinned to as many
CPUs as threads, children interleaved over rounds; medians over rounds of
each child's median.

    python benchmarks/bench_attention.py                    # 1 and 2 threads
    python benchmarks/bench_attention.py --threads 1 --rounds 3 --only W6
    python benchmarks/bench_attention.py --smoke            # tiny sizes, checks it runs

Peers are optional: a missing torch or keras is reported and skipped.
"""
import argparse
import json
import os
import sys
import time

from harness import interleaved_children

W6 = dict(vocab=20000, dim=128, length=128, heads=4, key_dim=32, ff=256, classes=2,
          batch=32, steps=20, dropout=0.1)
TV = dict(adapt_texts=100_000, call_texts=10_000, words=12, vocab=20_000, max_tokens=20_000,
          sequence_length=32)
SMOKE = {"W6": dict(W6, vocab=200, length=16, steps=2),
         "TV": dict(TV, adapt_texts=500, call_texts=100, vocab=300, max_tokens=200)}


def w6_data(w, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    n = w["batch"] * w["steps"]
    x = rng.integers(1, w["vocab"], (n, w["length"]), dtype=np.int64)
    y = rng.integers(0, w["classes"], n).astype(np.int64)
    return x, y


def tv_data(w, seed=0):
    """Short "reviews": words drawn Zipf-like from a synthetic vocabulary,
    with capitals and punctuation for the standardization to strip."""
    import numpy as np
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(w["vocab"])], dtype=object)
    n = w["adapt_texts"] + w["call_texts"]
    ids = np.minimum(rng.zipf(1.2, (n, w["words"])), w["vocab"]) - 1
    texts = [" ".join(row) for row in words[ids]]
    texts = [t.capitalize() + "!" if i % 3 == 0 else t + "." for i, t in enumerate(texts)]
    return np.array(texts[:w["adapt_texts"]]), np.array(texts[w["adapt_texts"]:])


# ---- W6, one framework each: returns train_epoch() ---------------------------------

def setup_ckeras(w, x, y):
    import ckeras as keras
    from ckeras import layers
    return _keras_like(keras, layers, w, x, y)


def setup_keras(w, x, y):
    import keras
    from keras import layers
    return _keras_like(keras, layers, w, x, y)


def _keras_like(keras, layers, w, x, y):
    inputs = keras.Input((w["length"],), dtype="int32")
    h = layers.Embedding(w["vocab"], w["dim"])(inputs)
    att = layers.MultiHeadAttention(w["heads"], w["key_dim"])(h, h)
    h = layers.LayerNormalization(epsilon=1e-6)(
        layers.Add()([h, layers.Dropout(w["dropout"])(att)]))
    ff = layers.Dense(w["dim"])(layers.Dense(w["ff"], activation="relu")(h))
    h = layers.LayerNormalization(epsilon=1e-6)(
        layers.Add()([h, layers.Dropout(w["dropout"])(ff)]))
    h = layers.GlobalAveragePooling1D()(h)
    model = keras.Model(inputs, layers.Dense(w["classes"], activation="softmax")(h))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return lambda: model.fit(x, y, batch_size=w["batch"], epochs=1, verbose=0, shuffle=True)


def setup_torch(w, x, y):
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    d = w["dim"]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(w["vocab"], d)
            self.att = torch.nn.MultiheadAttention(d, w["heads"], batch_first=True)
            self.ln1 = torch.nn.LayerNorm(d, eps=1e-6)
            self.ln2 = torch.nn.LayerNorm(d, eps=1e-6)
            self.ff1 = torch.nn.Linear(d, w["ff"])
            self.ff2 = torch.nn.Linear(w["ff"], d)
            self.drop = torch.nn.Dropout(w["dropout"])
            self.out = torch.nn.Linear(d, w["classes"])

        def forward(self, ids):
            h = self.emb(ids)
            a, _ = self.att(h, h, h, need_weights=False)
            h = self.ln1(h + self.drop(a))
            h = self.ln2(h + self.drop(self.ff2(torch.relu(self.ff1(h)))))
            return self.out(h.mean(dim=1))

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    bs = w["batch"]

    def train_epoch():
        model.train()
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss_fn(model(tx[idx]), ty[idx]).backward()
            opt.step()
    return train_epoch


# ---- TV ---------------------------------------------------------------------------------

def tv_fns(framework, w):
    """(adapt(), call()) for one framework's TextVectorization."""
    adapt_texts, call_texts = tv_data(w)
    if framework == "ckeras":
        from ckeras.layers import TextVectorization
    elif framework == "keras-jax":
        from keras.layers import TextVectorization   # ImportError without TensorFlow
    else:
        return None
    state = {}

    def adapt():
        layer = TextVectorization(max_tokens=w["max_tokens"],
                                  output_sequence_length=w["sequence_length"])
        layer.adapt(adapt_texts)
        state["layer"] = layer

    def call():
        return state["layer"](call_texts)
    return adapt, call


# ---- measuring ----------------------------------------------------------------------------

FRAMEWORKS = {"ckeras": setup_ckeras, "pytorch": setup_torch, "keras-jax": setup_keras}


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(sections, repeats, framework, sizes):
    """Runs in a child (thread env and CPU pinning set): {section: {...}}."""
    results = {}
    if "W6" in sections:
        w = sizes["W6"]
        x, y = w6_data(w)
        try:
            fn = FRAMEWORKS[framework](w, x, y)
            fn()                                   # warm up: build, JIT, allocate
            t = median([timed(fn) for _ in range(repeats)])
            results["W6"] = {"samples_per_s": w["steps"] * w["batch"] / t,
                             "step_ms": 1e3 * t / w["steps"]}
        except ImportError as err:
            print(f"  (W6 {framework} skipped: {err})", file=sys.stderr)
    if "TV" in sections:
        try:
            fns = tv_fns(framework, sizes["TV"])
            if fns is not None:
                adapt, call = fns
                adapt()
                call()                             # warm up
                results["TV"] = {"adapt_s": median([timed(adapt) for _ in range(repeats)]),
                                 "call_s": median([timed(call) for _ in range(repeats)])}
        except ImportError as err:               # Keras's layer needs TensorFlow
            print(f"  (TV {framework} skipped: {err})", file=sys.stderr)
    return results


def measure_all(threads, sections, rounds, repeats, smoke):
    runs = interleaved_children(
        threads, list(FRAMEWORKS), rounds,
        lambda name, r: [__file__, "--child", name, "--repeats", str(repeats), "--only",
                         *sections] + (["--smoke"] if smoke else []))
    out = {}
    for section in sections:
        rows = {}
        for name, results in runs.items():
            got = [r[section] for r in results if section in r]
            if got:
                rows[name] = {k: median([g[k] for g in got]) for k in got[0]}
        out[section] = rows
    return out


def report(threads, results, sizes):
    for section, rows in results.items():
        if section == "W6":
            w = sizes["W6"]
            print(f"\n== W6: Embedding({w['vocab']}, {w['dim']}) x {w['length']} -> Transformer "
                  f"block ({w['heads']} heads x {w['key_dim']}, ff {w['ff']}) -> GAP1D -> "
                  f"Dense({w['classes']}), batch {w['batch']}, adam; {threads} thread(s) ==")
            print(f"{'framework':<12}{'samples/s':>11}{'ms/step':>9}")
            for name, r in rows.items():
                print(f"{name:<12}{r['samples_per_s']:>11.0f}{r['step_ms']:>9.2f}")
        else:
            w = sizes["TV"]
            print(f"\n== TV: TextVectorization.adapt on {w['adapt_texts']} texts, call on "
                  f"{w['call_texts']}; {threads} thread(s) ==")
            print(f"{'framework':<12}{'adapt s':>9}{'call s':>9}")
            for name, r in rows.items():
                print(f"{name:<12}{r['adapt_s']:>9.3f}{r['call_s']:>9.3f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5,
                        help="child processes per framework and thread count")
    parser.add_argument("--repeats", type=int, default=3, help="timings per child")
    parser.add_argument("--only", nargs="*", default=["W6", "TV"], choices=["W6", "TV"])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check it runs")
    parser.add_argument("--child", choices=list(FRAMEWORKS), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else {"W6": W6, "TV": TV}
    if args.child:
        print(json.dumps(measure(args.only, args.repeats, args.child, sizes)))
        return
    results = {}
    for n in args.threads:
        results[n] = measure_all(n, args.only, args.rounds, args.repeats, args.smoke)
        report(n, results[n], sizes)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
