"""Image preprocessing: Resizing, CenterCrop, and the augmentation layers
that act only in training (RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomContrast, RandomBrightness, RandomCrop).

Images are (batch, height, width, channels), or one (height, width,
channels) image; ``data_format="channels_first"`` moves channels first.
At inference the augmentation layers are the identity (RandomCrop: a
center crop). Geometric warps sample with scipy.ndimage (bilinear or
nearest) and Keras's fill modes reflect / wrap / nearest / constant.
"""
import math

import numpy as np

from ckeras import ops
from ckeras import random as ck_random
from ckeras.layers.preprocessing.base import PreprocessingLayer

_FILL_MODES = ("reflect", "wrap", "nearest", "constant", "mirror")
_INTERPOLATION_ORDER = {"bilinear": 1, "nearest": 0}


def _check_choice(cls_name, arg, value, choices):
    if value not in choices:
        raise ValueError(f"{cls_name}: `{arg}` must be one of {sorted(choices)}, got {value!r}.")
    return value


def _factor_range(cls_name, arg, factor, bounds):
    """Keras's factor rule: a number f -> (max(-|f|, lower bound), |f|); a pair -> sorted."""
    msg = (f"{cls_name}: `{arg}` must be a number or a pair of numbers in "
           f"[{bounds[0]}, {bounds[1]}], got {factor!r}.")
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(msg)
        lo, hi = sorted(float(f) for f in factor)
        return lo, hi
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or \
            not bounds[0] <= factor <= bounds[1]:
        raise ValueError(msg)
    f = abs(float(factor))
    return max(-f, bounds[0]), f


class _ImageLayer(PreprocessingLayer):
    """Channels-last batch view of the input, and the layer's random generator."""

    def __init__(self, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        _check_choice(type(self).__name__, "data_format", self.data_format,
                      {"channels_last", "channels_first"})
        self.seed = seed
        self._rng = ck_random.generator(seed) if seed is not None else None

    def _generator(self):
        return self._rng or ck_random.global_generator()

    def _to_nhwc(self, x):
        x = np.asarray(x)
        if x.ndim not in (3, 4):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) expects images of "
                             f"rank 3 or 4, got shape {x.shape}.")
        single = x.ndim == 3
        b = x[None] if single else x
        if self.data_format == "channels_first":
            b = np.moveaxis(b, 1, -1)
        return b, single

    def _from_nhwc(self, b, single):
        if self.data_format == "channels_first":
            b = np.moveaxis(b, -1, 1)
        b = np.ascontiguousarray(b)
        return b[0] if single else b

    def _hw_axes(self, ndim):
        return (-2, -1) if self.data_format == "channels_first" else (-3, -2)

    def _float(self, x):
        x = np.asarray(x)
        return x if x.dtype.kind == "f" else x.astype(np.float32)


# ---- resizing and cropping ---------------------------------------------------------

def _resize(b, h, w, interpolation, antialias=False):
    """Resize (B, H, W, C) with half-pixel centres (ops.image.resize's weights,
    those of jax.image.resize / TF2)."""
    b = b.astype(np.float32, copy=False) if b.dtype.kind != "f" else b
    if b.shape[1:3] == (h, w):
        return b
    return np.asarray(ops.image.resize_nhwc(b, h, w, interpolation, antialias))


def _center_crop_box(H, W, h, w):
    top, left = (H - h) // 2, (W - w) // 2
    return top, left


def _crop_to_aspect(b, h, w):
    """Largest centred window of the target aspect ratio."""
    H, W = b.shape[1:3]
    ch = min(H, int(round(W * h / w)))
    cw = min(W, int(round(H * w / h)))
    top, left = (H - ch) // 2, (W - cw) // 2
    return b[:, top:top + ch, left:left + cw]


def _pad_to_aspect(b, h, w, fill):
    H, W = b.shape[1:3]
    ph = max(H, int(round(W * h / w)))
    pw = max(W, int(round(H * w / h)))
    out = np.full((b.shape[0], ph, pw, b.shape[3]), fill, dtype=b.dtype)
    top, left = (ph - H) // 2, (pw - W) // 2
    out[:, top:top + H, left:left + W] = b
    return out


class Resizing(_ImageLayer):
    """Resize images to (height, width) (ops.image.resize's interpolations,
    half-pixel centres), optionally cropping or padding to the target aspect ratio first."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)
        self.interpolation = interpolation
        if interpolation not in ops.image.RESIZE_INTERPOLATIONS:
            raise NotImplementedError(f"Resizing: interpolation={interpolation!r} is not "
                                      "implemented in ckeras (one of "
                                      f"{ops.image.RESIZE_INTERPOLATIONS} is).")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of `crop_to_aspect_ratio` and "
                             "`pad_to_aspect_ratio` can be True.")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value = fill_mode, float(fill_value)
        self.antialias = bool(antialias)

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        hi, wi = self._hw_axes(len(s))
        s[hi], s[wi] = self.height, self.width
        return tuple(s)

    def _call(self, x, training):
        b, single = self._to_nhwc(x)
        if self.crop_to_aspect_ratio:
            b = _crop_to_aspect(b, self.height, self.width)
        elif self.pad_to_aspect_ratio:
            b = _pad_to_aspect(b, self.height, self.width, self.fill_value)
        return self._from_nhwc(_resize(b, self.height, self.width, self.interpolation,
                                       self.antialias), single)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "height": self.height,
                       "width": self.width, "interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "antialias": self.antialias})
        return config


def _center_crop_or_resize(b, h, w):
    H, W = b.shape[1:3]
    if H >= h and W >= w:
        top, left = _center_crop_box(H, W, h, w)
        return b[:, top:top + h, left:left + w]
    # smaller than the target: crop to the aspect ratio, then resize up (Keras)
    return _resize(_crop_to_aspect(b, h, w), h, w, "bilinear")


class CenterCrop(_ImageLayer):
    """The central (height, width) window (images smaller than it are
    cropped to its aspect ratio and resized up)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    compute_output_shape = Resizing.compute_output_shape

    def _call(self, x, training):
        b, single = self._to_nhwc(x)
        return self._from_nhwc(_center_crop_or_resize(b, self.height, self.width), single)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "height": self.height,
                       "width": self.width})
        return config


class RandomCrop(_ImageLayer):
    """Training: a random (height, width) window, one offset for the whole
    batch (as Keras); inference, or images smaller than the window: the
    largest centred window of the target aspect ratio, resized (Keras's
    documented behaviour)."""

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.height, self.width = int(height), int(width)

    compute_output_shape = Resizing.compute_output_shape

    def __call__(self, inputs, *args, **kwargs):
        return _training_by_default(self, inputs, kwargs)

    def _call(self, x, training):
        b, single = self._to_nhwc(x)
        H, W = b.shape[1:3]
        if not training or H <= self.height or W <= self.width:
            out = _resize(_crop_to_aspect(b, self.height, self.width), self.height,
                          self.width, "bilinear")
            return self._from_nhwc(out, single)
        rng = self._generator()
        top = int(rng.integers(0, H - self.height + 1))
        left = int(rng.integers(0, W - self.width + 1))
        return self._from_nhwc(b[:, top:top + self.height, left:left + self.width], single)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "height": self.height,
                       "width": self.width, "seed": self.seed})
        return config


# ---- augmentation (training only) ------------------------------------------------------

def _training_by_default(layer, inputs, kwargs):
    """Keras's image augmentation layers augment when called directly
    without ``training`` (their call defaults to training=True)."""
    kwargs.setdefault("training", True)
    return PreprocessingLayer.__call__(layer, inputs, **kwargs)


class _Augmentation(_ImageLayer):
    """Identity at inference; ``_augment(batch_nhwc)`` in training. The
    input gradient is the identity at inference; in training only layers
    that define ``_augment_backward`` pass one. Called directly without
    ``training``, they augment (as Keras); models pass training explicitly."""

    def __call__(self, inputs, *args, **kwargs):
        return _training_by_default(self, inputs, kwargs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False, mask=None):
        if not training:
            return x, lambda dy, need_dx=True: dy if need_dx else None
        b, single = self._to_nhwc(self._float(x))
        out, state = self._augment(b)
        y = self._from_nhwc(out.astype(b.dtype, copy=False), single)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            back = getattr(self, "_augment_backward", None)
            if back is None:
                raise NotImplementedError(
                    f"Layer {self.name!r} ({type(self).__name__}) has no input gradient in "
                    "training; put augmentation layers before the trainable layers.")
            db, dsingle = self._to_nhwc(dy)
            return self._from_nhwc(back(db, state), dsingle)
        return y, backward

    def _call(self, x, training):
        return self.forward(x, training)[0]


class RandomFlip(_Augmentation):
    """Flip each image left-right and/or up-down with probability 1/2."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.mode = _check_choice("RandomFlip", "mode", mode,
                                  {"horizontal", "vertical", "horizontal_and_vertical"})

    def _flips(self, n):
        rng = self._generator()
        h = rng.random(n) < 0.5 if "horizontal" in self.mode else np.zeros(n, bool)
        v = rng.random(n) < 0.5 if "vertical" in self.mode else np.zeros(n, bool)
        return h, v

    @staticmethod
    def _apply(b, flips):
        h, v = flips
        out = b.copy()
        out[h] = out[h][:, :, ::-1]
        out[v] = out[v][:, ::-1]
        return out

    def _augment(self, b):
        flips = self._flips(b.shape[0])
        return self._apply(b, flips), flips

    def _augment_backward(self, db, flips):
        return self._apply(db, flips)       # a flip is its own inverse (and transpose)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "seed": self.seed, "mode": self.mode})
        return config


def _sampling_plan(H, W, sy, sx, fill_mode, interpolation):
    """For each output pixel: up to 4 (flat input index, weight, valid) taps."""
    if interpolation == "nearest":
        taps = [(np.floor(sy + 0.5).astype(np.int64), np.floor(sx + 0.5).astype(np.int64),
                 np.ones_like(sy))]
    else:
        y0, x0 = np.floor(sy).astype(np.int64), np.floor(sx).astype(np.int64)
        wy, wx = sy - y0, sx - x0
        taps = [(y0, x0, (1 - wy) * (1 - wx)), (y0, x0 + 1, (1 - wy) * wx),
                (y0 + 1, x0, wy * (1 - wx)), (y0 + 1, x0 + 1, wy * wx)]
    plan = []
    for ty, tx, w in taps:
        iy, vy = ops.image.fix_index(ty, H, fill_mode)
        ix, vx = ops.image.fix_index(tx, W, fill_mode)
        valid = None if vy is None else vy & vx
        plan.append((iy * W + ix, w, valid))
    return plan


def _warp(b, inverse, fill_mode, fill_value, interpolation):
    """Sample (B, H, W, C) images at input coordinates inverse(i, y, x) of each
    output pixel; returns the images and the plan the backward scatters by."""
    B, H, W, C = b.shape
    yy, xx = np.meshgrid(np.arange(H, dtype=np.float64), np.arange(W, dtype=np.float64),
                         indexing="ij")
    out = np.zeros_like(b)
    plans = []
    for i in range(B):
        sy, sx = inverse(i, yy, xx)
        plan = _sampling_plan(H, W, sy, sx, fill_mode, interpolation)
        flat = b[i].reshape(H * W, C)
        for idx, w, valid in plan:
            vals = flat[idx]
            if valid is not None:
                vals = np.where(valid[..., None], vals, fill_value)
            out[i] += (w[..., None] * vals).astype(b.dtype, copy=False)
        plans.append(plan)
    return out, plans


def _warp_backward(db, plans):
    """Adjoint of _warp: scatter each output gradient back to its taps."""
    B, H, W, C = db.shape
    dx = np.zeros_like(db)
    for i, plan in enumerate(plans):
        g = dx[i].reshape(H * W, C)
        for idx, w, valid in plan:
            contrib = w[..., None] * db[i]
            if valid is not None:
                contrib = contrib * valid[..., None]
            np.add.at(g, idx.reshape(-1), contrib.reshape(-1, C).astype(db.dtype, copy=False))
    return dx


class _Geometric(_Augmentation):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        name = type(self).__name__
        self.fill_mode = _check_choice(name, "fill_mode", fill_mode, set(_FILL_MODES))
        self.interpolation = _check_choice(name, "interpolation", interpolation,
                                           set(_INTERPOLATION_ORDER))
        self.fill_value = float(fill_value)

    def _augment_backward(self, db, plans):
        return _warp_backward(db, plans)

    def _factor_config(self):
        """The factor arguments (RandomZoom's and RandomTranslation's here)."""
        return {"height_factor": self.height_factor, "width_factor": self.width_factor}

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        config.update(self._factor_config())
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "seed": self.seed, "fill_value": self.fill_value})
        return config


class RandomRotation(_Geometric):
    """Rotate each image about its centre by factor * 2π, factor uniform in
    the range (positive: counter-clockwise)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_range("RandomRotation", "factor", factor, (-1, 1))

    def _augment(self, b):
        angles = self._generator().uniform(*self.factor, b.shape[0]) * 2 * math.pi
        H, W = b.shape[1:3]
        cy, cx = (H - 1) / 2, (W - 1) / 2

        def inverse(i, yy, xx):
            # Keras's affine matrix: input x = cos dx - sin dy, y = sin dx + cos dy
            # about the centre (rows grow downwards: counter-clockwise on screen)
            c, s = math.cos(angles[i]), math.sin(angles[i])
            dy, dx = yy - cy, xx - cx
            return cy + s * dx + c * dy, cx + c * dx - s * dy
        return _warp(b, inverse, self.fill_mode, self.fill_value, self.interpolation)

    def _factor_config(self):
        return {"factor": list(self.factor)}


class RandomZoom(_Geometric):
    """Zoom each image about its centre: the sampled window is (1 + f) times
    the image, f uniform in height_factor (positive zooms out); width_factor
    None keeps the aspect ratio."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _factor_range("RandomZoom", "height_factor", height_factor, (-1, float("inf")))
        self._w = None if width_factor is None else _factor_range(
            "RandomZoom", "width_factor", width_factor, (-1, float("inf")))

    def _augment(self, b):
        rng = self._generator()
        n = b.shape[0]
        zh = 1.0 + rng.uniform(*self._h, n)
        zw = zh if self._w is None else 1.0 + rng.uniform(*self._w, n)
        H, W = b.shape[1:3]
        cy, cx = (H - 1) / 2, (W - 1) / 2

        def inverse(i, yy, xx):
            return cy + (yy - cy) * zh[i], cx + (xx - cx) * zw[i]
        return _warp(b, inverse, self.fill_mode, self.fill_value, self.interpolation)


class RandomTranslation(_Geometric):
    """Shift each image by (f_h * height, f_w * width) pixels, f uniform in
    height_factor / width_factor."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _factor_range("RandomTranslation", "height_factor", height_factor, (-1, 1))
        self._w = _factor_range("RandomTranslation", "width_factor", width_factor, (-1, 1))

    def _augment(self, b):
        rng = self._generator()
        n = b.shape[0]
        H, W = b.shape[1:3]
        ty = rng.uniform(*self._h, n) * H
        tx = rng.uniform(*self._w, n) * W

        def inverse(i, yy, xx):
            return yy - ty[i], xx - tx[i]
        return _warp(b, inverse, self.fill_mode, self.fill_value, self.interpolation)


def _value_range(cls_name, value_range):
    if not isinstance(value_range, (list, tuple)) or len(value_range) != 2 or \
            value_range[0] >= value_range[1]:
        raise ValueError(f"{cls_name}: `value_range` must be [low, high] with low < high, "
                         f"got {value_range!r}.")
    return tuple(float(v) for v in value_range)


class RandomContrast(_Augmentation):
    """(x - mean) * c + mean per image and channel (mean over height and
    width), c uniform in [1 - lower, 1 + upper]; clipped to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_range("RandomContrast", "factor", factor, (0, 1))
        self.value_range = _value_range("RandomContrast", value_range)

    def _augment(self, b):
        c = self._generator().uniform(1.0 - self.factor[0], 1.0 + self.factor[1],
                                      (b.shape[0], 1, 1, 1)).astype(b.dtype)
        mean = b.mean(axis=(1, 2), keepdims=True)
        return np.clip((b - mean) * c + mean, *self.value_range), None

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "factor": list(self.factor),
                       "value_range": list(self.value_range), "seed": self.seed})
        return config


class RandomBrightness(_Augmentation):
    """x + delta per image, delta uniform in factor * (high - low); clipped
    to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_range("RandomBrightness", "factor", factor, (-1, 1))
        self.value_range = _value_range("RandomBrightness", value_range)

    def _augment(self, b):
        lo, hi = self.value_range
        delta = self._generator().uniform(*self.factor, (b.shape[0], 1, 1, 1)) * (hi - lo)
        z = b + delta.astype(b.dtype)
        return np.clip(z, lo, hi), (z >= lo) & (z <= hi)

    def _augment_backward(self, db, inside):
        return db * inside

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "factor": list(self.factor),
                       "value_range": list(self.value_range), "seed": self.seed})
        return config
