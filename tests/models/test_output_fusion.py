"""The fused output rule (ckeras/models/output_fusion.py): which (output layer,
loss) pairs hand the loss the logits, and that ``loss="crossentropy"`` (resolved
from the shapes) trains exactly as the loss it resolves to, from the first batch."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers, losses


def _data(kind, n=48, dim=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    if kind == "binary":
        return x, (labels > 0).astype(np.float32)[:, None]
    if kind == "sparse":
        return x, labels
    return x, np.eye(3, dtype=np.float32)[labels]


def _model(kind, functional=False):
    units, act = (1, "sigmoid") if kind == "binary" else (3, "softmax")
    if functional:
        inp = keras.Input(shape=(5,))
        h = layers.Dense(8, activation="tanh")(inp)
        return keras.Model(inp, layers.Dense(units, activation=act)(h))
    return keras.Sequential([keras.Input(shape=(5,)), layers.Dense(8, activation="tanh"),
                             layers.Dense(units, activation=act)])


_EXPLICIT = {"binary": "binary_crossentropy", "sparse": "sparse_categorical_crossentropy",
             "categorical": "categorical_crossentropy"}


def _fit(kind, loss, functional):
    keras.utils.set_random_seed(11)
    model = _model(kind, functional)
    model.compile(keras.optimizers.SGD(0.1), loss)
    x, y = _data(kind)
    fused_calls = []
    spec = model._outputs_spec[0]
    real = type(spec.loss).logits_forward_backward

    def counting(self, *args, **kwargs):
        fused_calls.append(1)
        return real(self, *args, **kwargs)
    type(spec.loss).logits_forward_backward = counting
    try:
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    finally:
        type(spec.loss).logits_forward_backward = real
    return history.history["loss"], [w.value.copy() for w in model.weights], len(fused_calls)


@pytest.mark.parametrize("functional", [False, True], ids=["sequential", "functional"])
@pytest.mark.parametrize("kind", ["binary", "sparse", "categorical"])
@pytest.mark.parametrize("alias", ["crossentropy", "ce"])
def test_shape_resolved_crossentropy_fuses_from_the_first_batch(kind, alias, functional):
    explicit_loss, explicit_w, explicit_fused = _fit(kind, _EXPLICIT[kind], functional)
    assert explicit_fused == 6                     # 3 batches x 2 epochs, all fused
    auto_loss, auto_w, auto_fused = _fit(kind, alias, functional)
    assert auto_fused == explicit_fused
    assert auto_loss == explicit_loss              # bit for bit, the first epoch too
    for a, b in zip(auto_w, explicit_w):
        np.testing.assert_array_equal(a, b)


def test_sequential_without_input_resolves_from_the_first_batch_too():
    """No Input: the model is built by fit from the data, then planned."""
    def run(loss):
        keras.utils.set_random_seed(5)
        model = keras.Sequential([layers.Dense(6, activation="relu"),
                                  layers.Dense(3, activation="softmax")])
        model.compile(keras.optimizers.SGD(0.1), loss)
        x, y = _data("sparse")
        history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        return history.history["loss"], model._outputs_spec[0].fuse
    assert run("crossentropy") == run("sparse_categorical_crossentropy")
    assert run("crossentropy")[1] is True


def test_evaluate_and_train_on_batch_resolve_before_the_first_forward():
    x, y = _data("categorical")
    for call in ("evaluate", "train_on_batch", "test_on_batch"):
        results = []
        for loss in ("crossentropy", "categorical_crossentropy"):
            keras.utils.set_random_seed(2)
            model = _model("categorical")
            model.compile("sgd", loss)
            args = {"verbose": 0} if call == "evaluate" else {}
            results.append(getattr(model, call)(x, y, **args))
            assert model._outputs_spec[0].fuse is True
        assert results[0] == results[1], call


def _dense(act, **kwargs):
    layer = layers.Dense(3, activation=act, **kwargs)
    layer.build((None, 4))
    return layer


@pytest.mark.parametrize("layer,loss,fused", [
    (_dense("softmax"), losses.CategoricalCrossentropy(), True),
    (_dense("softmax"), losses.SparseCategoricalCrossentropy(), True),
    (_dense("sigmoid"), losses.BinaryCrossentropy(), True),
    (layers.Activation("softmax"), losses.CategoricalCrossentropy(), True),
    (layers.Conv2D(2, 3, activation="sigmoid"), losses.BinaryCrossentropy(), True),
    (_dense("sigmoid"), losses.CategoricalCrossentropy(), False),     # wrong pairing
    (_dense("softmax"), losses.BinaryCrossentropy(), False),
    (_dense("softmax"), losses.CategoricalCrossentropy(from_logits=True), False),
    (_dense("softmax"), losses.CategoricalFocalCrossentropy(), False),
    (_dense("sigmoid"), losses.BinaryFocalCrossentropy(), False),
    (_dense("relu"), losses.CategoricalCrossentropy(), False),
    (_dense("softmax"), losses.MeanSquaredError(), False),
    (_dense("softmax", activity_regularizer="l2"), losses.CategoricalCrossentropy(), False),
    (layers.Softmax(), losses.CategoricalCrossentropy(), False),      # no forward_logits
    (None, losses.CategoricalCrossentropy(), False),
    (_dense("softmax"), None, False),
])
def test_which_layer_and_loss_pairs_fuse(layer, loss, fused):
    from ckeras.models import output_fusion
    assert output_fusion.fuses(layer, loss) is fused


def test_shape_resolved_loss_fuses_as_what_it_resolves_to():
    from ckeras.models import output_fusion
    auto = losses.get("crossentropy")
    assert output_fusion.unresolved(auto) and output_fusion.loss_activation(auto) is None
    auto.resolve(np.zeros((4, 1)), np.zeros((4, 1)))
    assert not output_fusion.unresolved(auto)
    assert output_fusion.loss_activation(auto) == "sigmoid"
    assert output_fusion.fuses(_dense("sigmoid"), auto)
