"""Augmentations that replace or blend parts of images (training only):
RandomErasing (a box of noise or a fill value), CutMix (a box from another
image of the batch) and MixUp (a blend with another image). CutMix and MixUp
also mix the labels when called on ``{"images": ..., "labels": ...}``, as
Keras's. ``_sample`` / ``_transform`` as in color.py."""
import numpy as np

from ckeras.layers.preprocessing.color import _ColorAugmentation
from ckeras.layers.preprocessing.image import _factor_range


def _crop_bounds(rng, n, length, ratio):
    """A window of ``ratio * length`` at a uniform position: (start, end)."""
    crop = (ratio * length).astype(np.float32)
    start = rng.uniform(0, 1, n).astype(np.float32) * (length - crop)
    return start, start + crop


def _box_masks(shape, x0, x1, y0, y1):
    """(B, H, W, C) booleans: inside [x0, x1) x [y0, y1) of each image."""
    B, H, W, C = shape
    gy, gx = np.meshgrid(np.arange(H, dtype=np.float32), np.arange(W, dtype=np.float32),
                         indexing="ij")
    col = (lambda v: np.asarray(v, np.float32).reshape(-1, 1, 1))
    inside = (gx >= col(x0)) & (gx < col(x1)) & (gy >= col(y0)) & (gy < col(y1))
    return np.repeat(inside[..., None], C, axis=-1)


class _LabelMixing(_ColorAugmentation):
    """Accepts an image batch or {"images", "labels"} (labels mixed too)."""

    def forward(self, x, training=False, mask=None):
        if not isinstance(x, dict):
            return super().forward(x, training, mask)
        images = np.asarray(x["images"])
        if not training or images.ndim == 3:
            return dict(x), None
        b, single = self._to_nhwc(self._float(images))
        params = self._sample(b.shape[0], b)
        out = dict(x)
        out["images"] = self._from_nhwc(self._transform(b, params), single)
        if "labels" in x:
            out["labels"] = self._mix_labels(np.asarray(x["labels"], np.float32), params)
        return out, None

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, dict):
            return self.forward(inputs, kwargs.get("training", True))[0]
        return super().__call__(inputs, *args, **kwargs)

    def _augment(self, b):
        params = self._sample(b.shape[0], b)
        return self._transform(b, params), params

    def _mix_labels(self, labels, params):
        w = np.asarray(params["mix_weight"], np.float32).reshape(-1, 1)
        return w * labels + (1.0 - w) * labels[np.asarray(params["permutation_order"])]


class MixUp(_LabelMixing):
    """w·x + (1 - w)·x[perm], w ~ Beta(alpha, alpha) per image."""

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if not alpha > 0:
            raise ValueError(f"MixUp: `alpha` must be positive, got {alpha!r}.")
        self.alpha = alpha

    def _sample(self, n, b=None):
        rng = self._generator()
        return {"permutation_order": rng.permutation(n),
                "mix_weight": rng.beta(self.alpha, self.alpha, n)}

    def _transform(self, b, params):
        w = np.asarray(params["mix_weight"], b.dtype).reshape(-1, 1, 1, 1)
        return w * b + (1.0 - w) * b[np.asarray(params["permutation_order"])]

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "seed": self.seed})
        return config


class CutMix(_LabelMixing):
    """Paste a box of another image of the batch into each image; the box
    covers 1 - w of the image, w ~ Beta(a, a), a drawn from ``factor``. A
    single (unbatched) image is returned as it is, as Keras."""

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _factor_range("CutMix", "factor", factor, (0, 1))

    def forward(self, x, training=False, mask=None):
        if not isinstance(x, dict) and np.ndim(x) == 3:
            return super().forward(x, False, mask)
        return super().forward(x, training, mask)

    def _sample(self, n, b):
        rng = self._generator()
        H, W = b.shape[1:3]
        alpha = rng.uniform(self.factor[0], self.factor[1]) + 1e-6
        ratio = np.sqrt(1.0 - rng.beta(alpha, alpha, n))
        x0, x1 = _crop_bounds(rng, n, W, ratio)
        y0, y1 = _crop_bounds(rng, n, H, ratio)
        return {"permutation_order": rng.permutation(n),
                "batch_masks": _box_masks(b.shape, x0, x1, y0, y1),
                "mix_weight": 1.0 - (x1 - x0) * (y1 - y0) / (W * H)}

    def _transform(self, b, params):
        masks = np.asarray(params["batch_masks"]).astype(bool)
        return np.where(masks, b[np.asarray(params["permutation_order"])], b)

    def _augment_backward(self, db, params):
        # each image passes its gradient outside its box, and inside the box
        # it was pasted into (at perm[j] == i)
        masks = np.asarray(params["batch_masks"]).astype(bool)
        dx = np.where(masks, 0, db)
        np.add.at(dx, np.asarray(params["permutation_order"]), np.where(masks, db, 0))
        return dx

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self.factor), "seed": self.seed})
        return config


class RandomErasing(_ColorAugmentation):
    """Replace a random box (area fraction drawn from ``scale``) of each image,
    with probability drawn from ``factor``, by ``fill_value`` (a number or
    one per channel) or, when None, by Gaussian noise times value_range[1];
    clipped to value_range."""

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _factor_range("RandomErasing", "factor", factor, (0, 1))
        self.scale = _factor_range("RandomErasing", "scale", scale, (0, 1))
        if fill_value is not None and not (
                isinstance(fill_value, (int, float)) and not isinstance(fill_value, bool)
                or isinstance(fill_value, (tuple, list)) and len(fill_value) == 3):
            raise ValueError("RandomErasing: the `fill_value` argument should be a number "
                             f"(or a list of three numbers). Received: {fill_value!r}")
        self.fill_value = fill_value
        self.value_range = value_range

    def _sample(self, n, b):
        rng = self._generator()
        H, W = b.shape[1:3]
        weight = np.sqrt(rng.uniform(self.scale[0], self.scale[1], (n, 2)))
        x0, x1 = _crop_bounds(rng, n, W, weight[:, 0])
        y0, y1 = _crop_bounds(rng, n, H, weight[:, 1])
        probability = rng.uniform(self.factor[0], self.factor[1], n)
        apply = rng.uniform(0, 1, n) < probability
        if self.fill_value is None:
            fill = rng.standard_normal(b.shape) * self.value_range[1]
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value, np.float32), b.shape)
        return {"apply_erasing": apply, "batch_masks": _box_masks(b.shape, x0, x1, y0, y1),
                "fill_value": np.clip(fill, *self.value_range).astype(b.dtype)}

    def _augment(self, b):
        params = self._sample(b.shape[0], b)
        return self._transform(b, params), params

    def _erased(self, params, n):
        masks = np.asarray(params["batch_masks"]).astype(bool)
        return masks & np.asarray(params["apply_erasing"]).reshape(n, 1, 1, 1)

    def _transform(self, b, params):
        return np.where(self._erased(params, b.shape[0]), params["fill_value"], b)

    def _augment_backward(self, db, params):
        return np.where(self._erased(params, db.shape[0]), 0, db)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self.factor), "scale": list(self.scale),
                       "fill_value": self.fill_value, "value_range": list(self.value_range),
                       "seed": self.seed})
        return config
