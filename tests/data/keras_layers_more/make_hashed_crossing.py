"""Golden outputs of Keras 3's HashedCrossing (it runs on TensorFlow's
sparse.cross_hashed, so this needs TensorFlow):
    KERAS_BACKEND=tensorflow /work/venvs/tf/bin/python make_hashed_crossing.py
Writes hashed_crossing.json: per case the features, num_bins, output_mode,
Keras's output and config."""
import json

import numpy as np
import keras

rng = np.random.default_rng(0)
words = ["", "a", "b", "cat", "dog", "héllo", "日本", "a much longer string of text " * 3]
cases = {
    "int_str": ([rng.integers(-5, 1000, 20).tolist(), rng.choice(words, 20).tolist()], 7),
    "three": ([rng.integers(0, 10, 12).tolist(), rng.choice(words, 12).tolist(),
               rng.integers(-2**62, 2**62, 12).tolist()], 1000003),
    "column": ([[[int(v)] for v in rng.integers(0, 50, 6)],
                [[str(w)] for w in rng.choice(words, 6)]], 16),
    "scalar": ([3, "x"], 11),
    "one_bin": ([[1, 2], [3, 4]], 1),
}
out = {}
for name, (features, bins) in cases.items():
    for mode in ("int", "one_hot"):
        layer = keras.layers.HashedCrossing(num_bins=bins, output_mode=mode)
        arrays = tuple(np.array(f, dtype=object if isinstance(np.ravel(f)[0], str) else None)
                       for f in features)
        arrays = tuple(a.astype(str) if a.dtype == object else a for a in arrays)
        if mode == "one_hot" and bins > 100:
            continue
        y = np.asarray(layer(arrays))
        out[f"{name}/{mode}"] = {"features": features, "num_bins": bins, "output_mode": mode,
                                 "y": y.tolist(), "dtype": str(y.dtype),
                                 "config": layer.get_config()}
with open("hashed_crossing.json", "w") as f:
    json.dump(out, f, ensure_ascii=False)
print(sorted(out))
