"""keras.config's debugging caps, dtype policy and other backends' switches."""
import numpy as np
import pytest

import ckeras as keras


@pytest.fixture
def model():
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    return m


class Count(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs, self.batches, self.test_batches = 0, 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test_batches += 1


def test_max_epochs_and_steps_cap_fit_and_evaluate(model):
    # 48 rows: 24 train and 24 validation rows, 6 batches of 4 each, so two
    # capped epochs of 3 steps use them exactly.
    x, y = np.ones((48, 2), "float32"), np.ones((48, 1), "float32")
    keras.config.set_max_epochs(2)
    keras.config.set_max_steps_per_epoch(3)
    try:
        assert keras.config.max_epochs() == 2 and keras.config.max_steps_per_epoch() == 3
        count = Count()
        with pytest.warns(UserWarning, match="Limiting"):
            history = model.fit(x, y, batch_size=4, epochs=5, verbose=0,
                                validation_split=0.5, callbacks=[count])
        assert count.epochs == 2 and len(history.history["loss"]) == 2
        assert count.batches == 6 and count.test_batches == 6
        eval_count = Count()
        model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[eval_count])
        assert eval_count.test_batches == 3
    finally:
        keras.config.set_max_epochs(None)
        keras.config.set_max_steps_per_epoch(None)
    count = Count()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[count])
    assert count.epochs == 2 and count.batches == 24


def test_dtype_policy_float32_only():
    policy = keras.config.dtype_policy()
    assert policy.name == "float32" and policy.compute_dtype == "float32"
    keras.config.set_dtype_policy("float32")
    keras.config.set_dtype_policy(policy)
    with pytest.raises(ValueError, match="mixed_float16"):
        keras.config.set_dtype_policy("mixed_float16")
    with pytest.raises(ValueError, match="Invalid `policy`"):
        keras.config.set_dtype_policy(3)


def test_backend_and_other_switches():
    keras.config.set_backend("ckeras")
    with pytest.raises(ValueError, match="jax"):
        keras.config.set_backend("jax")
    assert keras.config.is_flash_attention_enabled() is None
    keras.config.disable_flash_attention()
    assert keras.config.is_flash_attention_enabled() is False
    keras.config.enable_flash_attention()
    assert keras.config.is_flash_attention_enabled() is None
    assert keras.config.is_traceback_filtering_enabled() is False
    assert keras.config.is_nnx_enabled() is False
    keras.config.set_image_data_format("channels_last")
    assert keras.backend.set_image_data_format is keras.config.set_image_data_format
    with pytest.raises(ValueError, match="channels_last"):
        keras.config.set_image_data_format("channels_first")
