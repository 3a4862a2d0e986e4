"""keras.layers.Wrapper: the base of layers that hold one other layer
(``self.layer``) and change how it runs. Its config holds the wrapped layer's
serialization under "layer"; its weights are its own, then the wrapped
layer's (Keras 3's order); in files the wrapped layer's variables sit under
``<wrapper>/layer/vars``.

TimeDistributed and Bidirectional predate this class and keep their own code
(Bidirectional holds two layers; TimeDistributed shares the inner layer's
weight list), as Keras's behave the same either way."""
from ckeras.layers.layer import Layer, deserialize_layer, serialize_layer, trainable_passed_to


class Wrapper(Layer):
    """Abstract base: subclass it and write ``call`` (or ``forward``)."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer!r} supplied to {type(self).__name__} isn't a "
                             "supported layer type. Please ensure the wrapped layer is a "
                             "valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer
        # A built-in subclass tracks the wrapped layer like a custom layer's
        # attribute (custom subclasses do so already in __setattr__).
        self.__dict__.setdefault("_sublayers", {})["layer"] = [layer]
        if self._batch_input_shape is None:
            self._batch_input_shape = layer._batch_input_shape

    trainable = trainable_passed_to("layer")

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    @property
    def weights(self):
        own = [w for w in self._weights if w.trainable] + \
              [w for w in self._weights if not w.trainable]
        seen = {id(w) for w in own}
        return own + [w for w in self.layer.weights if id(w) not in seen]

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
