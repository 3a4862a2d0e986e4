"""Lamb, Adafactor, Muon, ScheduleFreeAdamW, LossScaleOptimizer and MultiOptimizer against Keras 3 on JAX
(tests/data/keras_optimizers_more): the weights after each of five steps on
fixed gradients, the optimizer variables (Keras's layout), .keras files made by
Keras loaded with their optimizer state and trained on, configs, errors."""
import os

import numpy as np
import pytest

import ckeras
from ckeras import optimizers
from ckeras.variables import Variable

HERE = os.path.join(os.path.dirname(__file__), "..", "data", "keras_optimizers_more")
GOLDEN = np.load(os.path.join(HERE, "golden.npz"))
N_VARS, STEPS = 4, 5

CASES = {
    "lamb": lambda: optimizers.Lamb(learning_rate=0.01),
    "lamb_args": lambda: optimizers.Lamb(learning_rate=0.05, beta_1=0.8, beta_2=0.99,
                                         epsilon=1e-6, weight_decay=0.01),
    "adafactor": lambda: optimizers.Adafactor(),
    "adafactor_args": lambda: optimizers.Adafactor(learning_rate=0.05, relative_step=False,
                                                   clip_threshold=0.5, beta_2_decay=-0.5,
                                                   epsilon_2=1e-2),
    "adafactor_relative": lambda: optimizers.Adafactor(learning_rate=2.0),
    "muon": lambda: optimizers.Muon(learning_rate=0.02),
    "muon_args": lambda: optimizers.Muon(learning_rate=0.01, adam_lr_ratio=0.5, nesterov=False,
                                         momentum=0.9, ns_steps=3, rms_rate=None,
                                         weight_decay=0.1, adam_weight_decay=0.0,
                                         exclude_layers=["w3"]),
    "schedule_free": lambda: optimizers.ScheduleFreeAdamW(),
    "schedule_free_args": lambda: optimizers.ScheduleFreeAdamW(
        learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, warmup_steps=3,
        weight_decay=0.05),
    "multi": lambda: optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.1, momentum=0.9),
        {"w0": optimizers.Adam(0.01), "w[2-9]": optimizers.Lamb(0.02)})),
}


def _variables():
    return [Variable(GOLDEN[f"init{i}"].copy(), name=f"w{i}") for i in range(N_VARS)]


def _grads(step):
    return [GOLDEN[f"grads{i}"][step] for i in range(N_VARS)]


def _check_variables(opt, key):
    ours = opt.variables()
    keras_vars = sorted((k for k in GOLDEN.files if k.startswith(key + "/var")),
                        key=lambda k: int(k.rsplit("var", 1)[1]))
    assert len(ours) == len(keras_vars)
    for (name, value), k in zip(ours, keras_vars):
        assert np.shape(value) == GOLDEN[k].shape, name
        np.testing.assert_allclose(value, GOLDEN[k], rtol=2e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("key", sorted(CASES))
def test_steps_match_keras(key):
    opt = CASES[key]()
    variables = _variables()
    for step in range(STEPS):
        opt.apply(variables, grads=_grads(step))
        for i, v in enumerate(variables):
            np.testing.assert_allclose(v.value, GOLDEN[f"{key}/w{i}"][step], rtol=1e-5,
                                       atol=1e-6, err_msg=f"step {step}, variable {i}")
    _check_variables(opt, key)


def test_loss_scale_optimizer_steps_match_keras():
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.1, momentum=0.5), initial_scale=8.0,
                                        dynamic_growth_steps=2)
    variables = _variables()
    for step in range(STEPS):
        scale = np.float32(opt.scale_loss(1.0))
        factor = np.float32(np.inf) if step == 2 else scale   # step 2 overflows
        opt.apply(variables, grads=[g * factor for g in _grads(step)])
        assert [float(opt.dynamic_scale), int(opt.step_counter)] == \
            list(GOLDEN["lso/scale"][step])
        for i, v in enumerate(variables):
            np.testing.assert_allclose(v.value, GOLDEN[f"lso/w{i}"][step], rtol=1e-6,
                                       atol=1e-7, err_msg=f"step {step}, variable {i}")
    assert opt.iterations == 4                     # the overflowing step was skipped
    _check_variables(opt, "lso")


@pytest.mark.parametrize("name", ["lamb", "adafactor", "lso", "multi"])
def test_keras_file_with_optimizer_state_loads_and_resumes(name):
    model = ckeras.saving.load_model(os.path.join(HERE, f"{name}.keras"))
    _check_variables(model.optimizer, f"fit_{name}")
    model.fit(GOLDEN["fit/x"], GOLDEN["fit/y"], batch_size=4, epochs=1, verbose=0,
              shuffle=False)
    for j, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, GOLDEN[f"fit_{name}/after{j}"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["lamb", "adafactor", "lso", "multi"])
def test_save_load_round_trip_keeps_state(tmp_path, name):
    model = ckeras.saving.load_model(os.path.join(HERE, f"{name}.keras"))
    x, y = GOLDEN["fit/x"], GOLDEN["fit/y"]
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = ckeras.saving.load_model(path)
    assert type(again.optimizer) is type(model.optimizer)
    for (n1, a), (n2, b) in zip(model.optimizer.variables(), again.optimizer.variables()):
        np.testing.assert_array_equal(a, b, err_msg=n1)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    again.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_adafactor_layout_names_and_placeholders():
    opt = optimizers.Adafactor()
    variables = _variables()
    opt.build(variables)
    layout = [(n, np.shape(a), np.asarray(a).dtype.name) for n, a in opt.variables()]
    assert layout[2:5] == [("adafactor/w0_r", (3,), "float32"),
                           ("adafactor/w0_c", (4,), "float32"),
                           ("adafactor/w0_velocity", (3, 4), "float32")]
    assert layout[5:8] == [("adafactor/w1_r", (), "int32"), ("adafactor/w1_c", (), "int32"),
                           ("adafactor/w1_velocity", (4,), "float32")]
    assert layout[8:10] == [("adafactor/w2_r", (2, 3), "float32"),
                            ("adafactor/w2_c", (2, 5), "float32")]


@pytest.mark.parametrize("opt", [
    optimizers.Lamb(0.02, beta_1=0.7, epsilon=1e-5, clipnorm=1.0),
    optimizers.Muon(0.01, exclude_layers=["head"], rms_rate=None, ns_steps=4),
    optimizers.ScheduleFreeAdamW(0.1, warmup_steps=10),
    optimizers.Adafactor(0.3, beta_2_decay=-0.6, epsilon_1=1e-20, relative_step=False),
    optimizers.LossScaleOptimizer(optimizers.Adam(0.002), initial_scale=64.0,
                                  dynamic_growth_steps=10, name="lso"),
    optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD(0.3), {
        "a/.*": optimizers.Adam(0.1, name="adam_a"), "b": optimizers.Lion(name="lion_b")}),
        loss_scale_factor=2.0)], ids=lambda o: type(o).__name__)
def test_config_round_trip(opt):
    config = opt.get_config()
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == config


def test_keras_configs():
    assert optimizers.LossScaleOptimizer(optimizers.SGD()).get_config() == {
        "name": "loss_scale_optimizer",
        "inner_optimizer": optimizers.serialize(optimizers.SGD()),
        "initial_scale": 32768.0, "dynamic_growth_steps": 2000}
    config = optimizers.Adafactor().get_config()
    assert {k: config[k] for k in ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold",
                                   "relative_step")} == \
        {"beta_2_decay": -0.8, "epsilon_1": 1e-30, "epsilon_2": 1e-3, "clip_threshold": 1.0,
         "relative_step": True}
    assert isinstance(optimizers.get("lamb"), optimizers.Lamb)
    assert isinstance(optimizers.get("Adafactor"), optimizers.Adafactor)


def test_loss_scale_optimizer_api_and_errors():
    inner = optimizers.SGD(0.1, loss_scale_factor=3.0)
    opt = optimizers.LossScaleOptimizer(inner, initial_scale=4.0)
    assert inner.loss_scale_factor is None           # no second unscaling
    assert opt.scale_loss(2.0) == 8.0
    opt.learning_rate = 0.5
    assert inner.learning_rate == 0.5 and opt.learning_rate == 0.5
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="does not support arguments: `foo`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), foo=1)
    with pytest.raises(TypeError, match="must be an Optimizer"):
        optimizers.LossScaleOptimizer("sgd")


def test_fit_with_loss_scale_matches_plain_optimizer():
    """float32 scaling by a power of two is exact: the same weights as without."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)

    def trained(opt):
        ckeras.utils.set_random_seed(3)
        model = ckeras.Sequential([ckeras.Input((3,)), ckeras.layers.Dense(1)])
        model.compile(optimizer=opt, loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        return model.get_weights()
    plain = trained(optimizers.Adam(0.01))
    for opt in (optimizers.LossScaleOptimizer(optimizers.Adam(0.01)),
                optimizers.Adam(0.01, loss_scale_factor=8.0)):   # Keras: fit scales the loss
        for a, b in zip(plain, trained(opt)):
            np.testing.assert_array_equal(a, b)


def test_multi_optimizer_routing_and_errors():
    sgd, adam = optimizers.SGD(0.1), optimizers.Adam(0.01)
    mapping = optimizers.OptimizerMap(sgd, {"x/.*": adam, "x/k.*": adam})
    with pytest.raises(ValueError, match="Multiple optimizers assigned to variable x/kernel"):
        mapping["x/kernel"]
    assert optimizers.OptimizerMap(sgd, {"x/.*": adam})["y/kernel"] is sgd
    with pytest.raises(ValueError, match="already exists in the OptimizerMap"):
        optimizers.OptimizerMap(sgd, {"a": adam})["a"] = sgd
    with pytest.raises(ValueError, match="LossScaleOptimizer cannot be used inside"):
        optimizers.OptimizerMap(sgd, {"a": optimizers.LossScaleOptimizer(optimizers.SGD())})
    with pytest.raises(TypeError, match="default_optimizer must be"):
        optimizers.OptimizerMap("sgd")
    multi = optimizers.MultiOptimizer(lambda v: adam if v.path == "b" else sgd,
                                      loss_scale_factor=4.0)
    a = Variable(np.ones(2, np.float32), name="a")
    b = Variable(np.ones(2, np.float32), name="b")
    multi.apply([a, b], grads=[np.full(2, 4.0, np.float32)] * 2)
    np.testing.assert_allclose(a.value, 1 - 0.1)           # SGD on grad / 4
    assert multi.optimizers == [sgd, adam] and adam.iterations == 1 and multi.iterations == 1
    assert sgd.loss_scale_factor == 4.0 == adam.loss_scale_factor
    with pytest.raises(AttributeError, match="cannot be accessed on a MultiOptimizer"):
        multi.learning_rate
    with pytest.raises(ValueError, match="a callable optimizer_map has no config"):
        multi.get_config()


def test_muon_slot_layout():
    opt = optimizers.Muon()
    opt.build(_variables())
    names = [n for n, _ in opt.variables()][2:]
    assert names == ["muon/w0_momentum", "muon/w1_momentum", "muon/w1_velocity",
                     "muon/w2_momentum", "muon/w2_velocity", "muon/w3_momentum"]
