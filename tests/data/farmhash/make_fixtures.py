"""Reference FarmHash Fingerprint64 values for the Hashing layer's tests.

Keras 3's Hashing needs TensorFlow, so the reference is the pyfarmhash
package (Google's C++ FarmHash), whose fingerprint64 is the function behind
tf.strings.to_hash_bucket_fast:
    pip install pyfarmhash && python make_fixtures.py
Writes fingerprint64.json: [[input as hex, fingerprint64], ...] for random
byte strings of every length 0..300 and a few longer ones, plus some text.
"""
import json
import random

import farmhash

rng = random.Random(0)
cases = []
for n in list(range(0, 301)) + [511, 512, 513, 1000, 4097]:
    s = bytes(rng.randrange(256) for _ in range(n))
    cases.append([s.hex(), farmhash.fingerprint64(s)])
for text in ["hello", "A", "B", "", "The quick brown fox jumps over the lazy dog", "ünïcödé"]:
    s = text.encode("utf-8")
    cases.append([s.hex(), farmhash.fingerprint64(s)])
with open("fingerprint64.json", "w") as f:
    json.dump(cases, f)
print(len(cases))
