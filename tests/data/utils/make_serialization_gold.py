# Golden values: KERAS_BACKEND=jax /work/venvs/peers/bin/python make_serialization_gold.py
import json, numpy as np, keras
from keras import saving
S = saving.serialize_keras_object
out = {
 "dense": S(keras.layers.Dense(3, name="d")),
 "adam": S(keras.optimizers.Adam()),
 "relu": S(keras.activations.relu),
 "glorot": S(keras.initializers.GlorotUniform(seed=1)),
 "l2": S(keras.regularizers.L2(0.01)),
 "mse": S(keras.losses.MeanSquaredError()),
 "mse_fn": S(keras.losses.mean_squared_error),
 "acc": S(keras.metrics.Accuracy()),
 "nonneg": S(keras.constraints.NonNeg()),
 "sched": S(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
 "tuple": S((1, 2.5, "a")),
 "nparr": S(np.array([[1, 2], [3, 4]], "float32")),
 "npscalar": S(np.float32(2.5)),
 "bytes": S(b"ab"),
 "slice": S(slice(1, 5, None)),
 "nested": S({"a": [1, {"b": None}], "c": keras.activations.tanh}),
}
@saving.register_keras_serializable(package="pk")
class Foo:
    def __init__(self, x=1): self.x = x
    def get_config(self): return {"x": self.x}
@saving.register_keras_serializable(package="pk")
def myfn(x): return x
out["foo"] = S(Foo(3))
out["myfn"] = S(myfn)
d = keras.layers.Dense(2); d.build((None, 4))
out["dense_built"] = S(d)
out["get_registered_name_dense"] = saving.get_registered_name(keras.layers.Dense)
out["get_registered_name_foo"] = saving.get_registered_name(Foo)
out["legacy_dense"] = keras.utils.legacy.serialize_keras_object(keras.layers.Dense(3, name="d"))
out["legacy_relu"] = keras.utils.legacy.serialize_keras_object(keras.activations.relu)
json.dump(out, open("serialization_gold.json", "w"), indent=1, default=repr)
