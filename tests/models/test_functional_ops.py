"""ckeras.ops and Python operators on KerasTensors build functional-graph nodes."""
import numpy as np

import ckeras as keras
from ckeras import layers, ops
from ckeras.testing import check_layer_gradients


def build():
    inp = keras.Input((4, 3))
    pooled = ops.mean(inp, axis=1)
    last = inp[:, -1] + 1
    both = ops.concatenate([pooled, -last], axis=-1) * 2
    out = layers.Dense(2)(ops.nn.relu(both) @ np.ones((6, 6), "float32"))
    return keras.Model(inp, outputs=out)


def test_graph_nodes_shapes_and_training(tmp_path):
    model = build()
    names = [type(l).__name__ for l in model.layers]
    assert names.count("TensorOp") >= 6
    assert model.layers[-1].output.shape == (None, 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4, 3)).astype("float32")
    y = rng.standard_normal((32, 2)).astype("float32")
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, verbose=0)
    expected = model.predict(x, verbose=0)
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"ops.{ext}")
        model.save(path)
        np.testing.assert_allclose(keras.models.load_model(path).predict(x, verbose=0),
                                   expected, rtol=1e-6)


def test_op_outputs_of_a_model_and_gradients():
    inp = keras.Input((5,))
    model = keras.Model(inp, outputs=ops.mean(inp * inp, axis=1))
    x = np.arange(10, dtype="float32").reshape(2, 5)
    np.testing.assert_allclose(model.predict(x, verbose=0), (x * x).mean(1))
    check_layer_gradients(build(), np.random.default_rng(1).standard_normal((3, 4, 3)))


def test_multi_output_op_and_symbolic_dtype():
    inp = keras.Input((6,))
    values, idx = ops.top_k(inp, 2)
    assert values.shape == (None, 2) and idx.dtype.startswith("int")
    model = keras.Model(inp, values)
    x = np.random.default_rng(2).standard_normal((3, 6)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), -np.sort(-x, axis=1)[:, :2])
