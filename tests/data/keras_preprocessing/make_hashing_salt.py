"""Writes hashing_salt.json: Keras 3.15.1 on TensorFlow 2.21 Hashing with a salt
(run with keras and tensorflow installed; prints the JSON to stdout)."""
import os; os.environ["KERAS_BACKEND"]="tensorflow"
import numpy as np, keras, json
vals = ["", "a", "hello", "the quick brown fox", "x"*7, "y"*8, "z"*15, "w"*16, "unicodé ✓", "0123456789abcdefghij"]
out = {}
for salt in (133, [133, 137], [2**40+7, 99]):
    for mask in (None, ""):
        layer = keras.layers.Hashing(num_bins=1000003, salt=salt, mask_value=mask)
        out[json.dumps([salt, mask])] = np.asarray(layer(np.array(vals))).tolist()
        cfg = layer.get_config()
ints = np.array([[0, 1, 42, -5, 2**40]])
out["ints"] = np.asarray(keras.layers.Hashing(num_bins=997, salt=[7, 9])(ints)).tolist()
out["config_salt"] = keras.layers.Hashing(num_bins=5, salt=133).get_config()["salt"]
out["vals"] = vals
print(json.dumps(out))
