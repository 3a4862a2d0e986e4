# Golden values: KERAS_BACKEND=jax /work/venvs/peers/bin/python make_result_type.py
import json, keras
from keras import backend as B
ds = ["bool","uint8","uint16","uint32","int8","int16","int32","int64","bfloat16","float16","float32","float64","complex64"]
py = {"int": int, "float": float, "bool": bool}
out = {}
names = ds + list(py)
for a in names:
    for b in names:
        try:
            out[f"{a},{b}"] = B.result_type(py.get(a, a), py.get(b, b))
        except Exception as e:
            out[f"{a},{b}"] = "error"
for a in names:
    out[a] = B.result_type(py.get(a, a))
out["none"] = B.result_type(None, "int8")
out["empty"] = B.result_type()
json.dump(out, open("result_type.json", "w"))
