"""keras.utils / keras.saving registration names: one registry, Keras's rules."""
import pytest

import ckeras as keras
from ckeras import registry


def test_utils_and_saving_expose_the_same_objects():
    for name in ("register_keras_serializable", "get_custom_objects", "custom_object_scope",
                 "CustomObjectScope", "get_registered_name", "get_registered_object",
                 "serialize_keras_object", "deserialize_keras_object"):
        assert getattr(keras.utils, name) is getattr(keras.saving, name), name
    assert keras.utils.custom_object_scope is keras.utils.CustomObjectScope


def test_register_and_look_up():
    @keras.utils.register_keras_serializable(package="reg_t")
    class Thing:
        def get_config(self):
            return {}

    @keras.utils.register_keras_serializable("reg_t", name="double")
    def twice(x):
        return 2 * x

    assert keras.utils.get_registered_name(Thing) == "reg_t>Thing"
    assert keras.utils.get_registered_name(twice) == "reg_t>double"
    assert keras.utils.get_registered_object("reg_t>Thing") is Thing
    assert keras.utils.get_custom_objects()["reg_t>double"] is twice
    # Unregistered: Keras answers the object's own name.
    assert keras.utils.get_registered_name(keras.layers.Dense) == "Dense"
    assert keras.utils.get_registered_object("reg_t>Nothing") is None


def test_subclass_of_registered_class_is_not_registered():
    @keras.saving.register_keras_serializable(package="reg_t")
    class Base(keras.layers.Layer):
        pass

    class Child(Base):
        pass

    assert keras.saving.get_registered_name(Base) == "reg_t>Base"
    assert keras.saving.get_registered_name(Child) == "Child"
    assert registry.registered_name(Child()) is None


def test_registering_again_replaces_as_keras_does():
    def make():
        @keras.saving.register_keras_serializable(package="reg_t")
        class Again:
            def get_config(self):
                return {}
        return Again
    first, second = make(), make()
    assert first is not second
    assert keras.saving.get_registered_object("reg_t>Again") is second


def test_class_without_get_config_is_refused():
    with pytest.raises(ValueError, match="get_config"):
        @keras.saving.register_keras_serializable(package="reg_t")
        class NoConfig:
            pass


def test_scope_order_and_nesting():
    a, b = object(), object()
    with keras.utils.CustomObjectScope({"x": a}) as scope:
        assert isinstance(scope, keras.utils.CustomObjectScope)
        assert keras.utils.get_registered_object("x") is a
        with keras.utils.custom_object_scope({"x": b}):
            assert keras.utils.get_registered_object("x") is b
        assert keras.utils.get_registered_object("x") is a
    assert keras.utils.get_registered_object("x") is None
    # Scope before the global dict before custom_objects before module_objects.
    assert keras.utils.get_registered_object("y", {"y": a}, {"y": b}) is a
    assert keras.utils.get_registered_object("y", None, {"y": b}) is b


def test_get_custom_objects_is_live_and_used_when_loading():
    class Shift(keras.layers.Layer):
        def call(self, x):
            return x + 1.0

    objects = keras.utils.get_custom_objects()
    objects["Shift"] = Shift
    try:
        config = keras.layers.serialize(Shift(name="s")) if hasattr(keras.layers, "serialize") \
            else {"module": None, "class_name": "Shift", "config": {"name": "s"},
                  "registered_name": None}
        layer = keras.saving.deserialize_keras_object(config)
        assert type(layer) is Shift and layer.name == "s"
    finally:
        del objects["Shift"]
    with pytest.raises(TypeError, match="Shift"):
        keras.saving.deserialize_keras_object(
            {"module": None, "class_name": "Shift", "config": {}, "registered_name": None})
