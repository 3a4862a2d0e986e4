"""Learning-rate schedules: Keras 3 values at chosen steps, configs."""
import json
import math

import pytest

from ckeras import optimizers
from ckeras.optimizers import schedules


def test_reachable_from_optimizers_package():
    assert optimizers.schedules is schedules
    assert issubclass(schedules.CosineDecay, optimizers.LearningRateSchedule)


@pytest.mark.parametrize("step,expected", [
    (0, 0.1), (5, 0.1 * 0.96 ** 0.5), (10, 0.096), (25, 0.1 * 0.96 ** 2.5)])
def test_exponential_decay(step, expected):
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.96)
    assert s(step) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("step,expected", [(0, 0.1), (9, 0.1), (10, 0.05), (25, 0.025)])
def test_exponential_decay_staircase(step, expected):
    s = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert s(step) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("step,expected", [
    (0, 1.0), (100000, 1.0), (100001, 0.5), (110000, 0.5), (110001, 0.1), (10 ** 7, 0.1)])
def test_piecewise_constant_boundaries_inclusive(step, expected):
    s = schedules.PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])
    assert s(step) == expected


def test_piecewise_constant_validates_lengths():
    with pytest.raises(ValueError, match="1 less"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


@pytest.mark.parametrize("step,expected", [
    (0, 0.1),
    (250, 0.1 * 0.5 * (1 + math.cos(math.pi * 0.25))),
    (500, 0.05),
    (1000, 0.0),
    (5000, 0.0)])
def test_cosine_decay(step, expected):
    s = schedules.CosineDecay(0.1, decay_steps=1000)
    assert s(step) == pytest.approx(expected, abs=1e-12)


def test_cosine_decay_alpha():
    s = schedules.CosineDecay(1.0, decay_steps=100, alpha=0.2)
    assert s(0) == pytest.approx(1.0)
    assert s(50) == pytest.approx(0.8 * 0.5 + 0.2)
    assert s(100) == pytest.approx(0.2)
    assert s(1000) == pytest.approx(0.2)


@pytest.mark.parametrize("step,expected", [
    (0, 0.0), (50, 0.05), (99, 0.099),                 # linear warmup 0 -> 0.1
    (100, 0.1),                                          # decay starts from the target
    (150, 0.1 * 0.5 * (1 + math.cos(math.pi * 0.5))),
    (200, 0.0), (1000, 0.0)])
def test_cosine_decay_with_warmup(step, expected):
    s = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=100)
    assert s(step) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("step,expected", [(0, 0.1), (2, 0.1 / 2), (5, 0.1 / 3.5)])
def test_inverse_time_decay(step, expected):
    s = schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=1.0)
    assert s(step) == pytest.approx(expected, rel=1e-12)


def test_inverse_time_decay_staircase():
    s = schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=1.0, staircase=True)
    assert s(3) == pytest.approx(0.1 / 2)
    assert s(4) == pytest.approx(0.1 / 3)


def test_polynomial_decay():
    s = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, power=2.0)
    assert s(0) == pytest.approx(0.1)
    assert s(5) == pytest.approx(0.09 * 0.25 + 0.01)
    assert s(10) == pytest.approx(0.01)
    assert s(50) == pytest.approx(0.01)
    cyc = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert cyc(0) == pytest.approx(0.1)
    assert cyc(15) == pytest.approx(0.1 * (1 - 15 / 20))


def test_cosine_decay_restarts():
    s = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    assert s(0) == pytest.approx(1.0)
    assert s(5) == pytest.approx(0.5)
    # second period: steps 10..30 at half the amplitude
    assert s(10) == pytest.approx(0.5)
    assert s(20) == pytest.approx(0.25)
    flat = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=1.0)
    assert flat(15) == pytest.approx(0.5)


@pytest.mark.parametrize("cls,kwargs", [
    (schedules.ExponentialDecay, {"decay_rate": 0.5}),
    (schedules.InverseTimeDecay, {"decay_rate": 0.5}),
    (schedules.CosineDecay, {}),
    (schedules.PolynomialDecay, {}),
])
def test_decay_steps_must_be_positive(cls, kwargs):
    with pytest.raises(ValueError, match="decay_steps"):
        cls(0.1, 0, **kwargs)


SCHEDULES = [
    schedules.ExponentialDecay(0.1, 100, 0.9, staircase=True),
    schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
    schedules.PolynomialDecay(0.1, 100, 0.001, power=0.5, cycle=True),
    schedules.InverseTimeDecay(0.1, 10, 0.5),
    schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2, warmup_steps=5),
    schedules.CosineDecayRestarts(0.1, 20, t_mul=1.5, m_mul=0.9, alpha=0.05),
]


@pytest.mark.parametrize("sched", SCHEDULES, ids=lambda s: type(s).__name__)
def test_config_round_trip(sched):
    config = sched.get_config()
    clone = type(sched).from_config(config)
    assert clone.get_config() == config
    for step in (0, 3, 17, 60, 250):
        assert clone(step) == sched(step)
    ser = schedules.serialize(sched)
    assert ser["module"] == "keras.optimizers.schedules"
    assert ser["class_name"] == type(sched).__name__
    again = schedules.deserialize(json.loads(json.dumps(ser)))
    assert type(again) is type(sched) and again.get_config() == config


def test_keras_config_keys():
    assert schedules.ExponentialDecay(0.1, 10, 0.9).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9,
        "staircase": False, "name": "ExponentialDecay"}
    assert schedules.CosineDecay(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.0,
        "name": "CosineDecay", "warmup_target": None, "warmup_steps": 0}
    assert schedules.PiecewiseConstantDecay([1], [0.1, 0.2]).get_config()["name"] == \
        "PiecewiseConstant"


def test_deserialize_keras2_form_and_unknown():
    s = schedules.deserialize({"class_name": "PolynomialDecay",
                               "config": {"initial_learning_rate": 0.1, "decay_steps": 10,
                                          "end_learning_rate": 0.01, "power": 0.5,
                                          "cycle": False, "name": None}})
    assert isinstance(s, schedules.PolynomialDecay) and s(10) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="ExponentialDecay|exponential_decay"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


def test_custom_schedule_in_optimizer_config():
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, lr):
            self.lr = lr

        def __call__(self, step):
            return self.lr / (step + 1)

        def get_config(self):
            return {"lr": self.lr}

    opt = optimizers.SGD(Halving(0.4))
    assert opt.learning_rate == pytest.approx(0.4)
    opt.iterations = 3
    assert opt.learning_rate == pytest.approx(0.1)
    config = opt.get_config()
    clone = optimizers.SGD.from_config(config, custom_objects={"Halving": Halving})
    assert clone.learning_rate == pytest.approx(0.4)
