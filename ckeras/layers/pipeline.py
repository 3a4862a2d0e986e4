"""keras.layers.Pipeline: layers applied one after the other, as one layer
(meant for preprocessing and augmentation chains). Unlike Sequential it is
no model; called directly without ``training`` it runs in training mode (the
default of Keras's ``Pipeline.call``), inside a model it follows the model."""
from ckeras.layers.layer import (Layer, _training_stack, deserialize_layer, run_layer,
                                 serialize_layer)


class Pipeline(Layer):

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(l, Layer)
                                                            for l in layers):
            raise ValueError(f"Pipeline {self.name!r}: `layers` must be a list of layers, "
                             f"got {layers!r}.")
        # A public attribute: files hold the layers under <pipeline>/layers/<key>, as Keras.
        self.layers = list(layers)
        self.__dict__.setdefault("_sublayers", {})["layers"] = self.layers
        self.supports_masking = True

    def __call__(self, inputs, *args, **kwargs):
        if kwargs.get("training") is None:
            kwargs["training"] = _training_stack[-1] if _training_stack else True
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape):
        for layer in self.layers:
            layer._maybe_build(input_shape)
            input_shape = layer.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        for layer in self.layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def compute_mask(self, inputs, mask=None):
        for i, layer in enumerate(self.layers):
            out_mask = layer.compute_mask(inputs, mask)
            # the next layers' inputs, only when one of them reads them for its mask
            if any(type(l).compute_mask is not Layer.compute_mask for l in self.layers[i + 1:]):
                inputs = layer.infer(inputs, mask)
            mask = out_mask
        return mask

    def _run(self, x, training, mask, need_backward):
        backs = []
        for layer in self.layers:
            y, back = run_layer(layer, x, training, mask, need_backward=need_backward)
            mask = layer.compute_mask(x, mask)
            backs.append(back)
            x = y
        return x, backs

    def infer(self, x, mask=None):
        return self._run(x, False, mask, need_backward=False)[0]

    def forward(self, x, training=False, mask=None):
        y, backs = self._run(x, training, mask, need_backward=True)

        def backward(dy, need_dx=True):
            for i in range(len(backs) - 1, -1, -1):
                dy = backs[i](dy, need_dx=need_dx or i > 0)
            return dy if need_dx else None
        return y, backward

    def get_config(self):
        return {"layers": [serialize_layer(l) for l in self.layers], "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a "
                             f"list of serialized layers. Received config with "
                             f"layers={layers}.")
        config = dict(config)
        config["layers"] = [deserialize_layer(l, custom_objects=custom_objects)
                            for l in layers]
        return cls(**config)
