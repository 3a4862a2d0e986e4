"""keras.utils: Config, get_source_inputs, is_keras_tensor, clear_session."""
import json

import numpy as np
import pytest

import ckeras as keras


def test_config_container():
    c = keras.utils.Config(learning_rate=0.1, momentum=0.9)
    c.seed = 3
    c["use_ema"] = True
    assert c.learning_rate == 0.1 and c["seed"] == 3 and "use_ema" in c
    assert list(c) == ["learning_rate", "momentum", "seed", "use_ema"]
    assert json.loads(c.to_json())["seed"] == 3 and len(c) == 4
    assert c.as_dict() == {"learning_rate": 0.1, "momentum": 0.9, "seed": 3, "use_ema": True}
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        c.momentun
    c.freeze()
    assert c.frozen
    for mutate in (lambda: setattr(c, "x", 1), lambda: c.update(a=1),
                   lambda: c.__setitem__("a", 1), lambda: c.pop("seed")):
        with pytest.raises(ValueError, match="frozen"):
            mutate()
    c.unfreeze()
    c.x = 1
    assert c.x == 1


def test_get_source_inputs_and_is_keras_tensor():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    h = keras.layers.Dense(2)(a)
    out = keras.layers.Concatenate()([h, b, keras.layers.Dense(1)(a)])
    sources = keras.utils.get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert keras.utils.get_source_inputs(a) == [a]
    assert keras.utils.is_keras_tensor(out) and keras.backend.is_keras_tensor(a)
    assert not keras.utils.is_keras_tensor(np.ones(3))


def test_clear_session_resets_names_and_uids():
    keras.utils.clear_session()
    assert keras.layers.Dense(1).name == "dense"
    assert keras.backend.get_uid("dense") == 2       # the layer counted as 1
    assert keras.backend.get_uid("other") == 1
    keras.backend.clear_session(free_memory=False)
    assert keras.backend.get_uid("dense") == 1
    assert keras.utils.clear_session is keras.backend.clear_session
