"""Colour and filter augmentation layers of Keras 3 (training only unless
noted): RandomGrayscale, RandomInvert, RandomPosterization, Solarization,
AutoContrast (also at inference, as Keras), Equalization,
ContrastLimitedAdaptiveHistogramEqualization (also at inference),
RandomColorDegeneration, RandomSaturation, RandomHue, RandomSharpness,
RandomColorJitter, RandomGaussianBlur.

Each layer draws its random parameters with ``_sample(batch)`` (a dict
holding the same keys as Keras's ``get_random_transformation``) and applies
them with ``_transform(images_nhwc, params)``, so a transformation drawn by
Keras can be replayed here. Random draws use ckeras's generators, not JAX's:
a seed gives reproducible, not Keras-identical, augmentations.
"""
import numpy as np

from ckeras.layers.preprocessing.image import (RandomBrightness, RandomContrast,
                                               _Augmentation, _factor_range)

_EPSILON = 1e-7
_GRAY = np.array([0.2989, 0.5870, 0.1140])


def value_range_of(cls_name, value_range):
    """Keras's ``_set_value_range``: any two numbers, kept sorted (as a list)."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(f"{cls_name}: the `value_range` argument should be a list of two "
                         f"numbers. Received: value_range={value_range}")
    return sorted(value_range)


def rescale(b, source, target):
    """Map values linearly from the range ``source`` to ``target``."""
    if tuple(source) == tuple(target):
        return b
    b = (b - source[0]) / (source[1] - source[0])
    return (b * (target[1] - target[0]) + target[0]).astype(np.float32, copy=False)


def rgb_to_grayscale(b):
    """(B, H, W, 3) -> (B, H, W, 1) with TensorFlow's weights; 1 channel: as is."""
    if b.shape[-1] == 1:
        return b
    if b.shape[-1] != 3:
        raise ValueError(f"Invalid channel size: expected 3 (RGB) or 1 (Grayscale). "
                         f"Received input with shape: images.shape={b.shape}")
    return np.tensordot(b, _GRAY.astype(b.dtype), axes=(-1, -1))[..., None]


def rgb_to_hsv(b):
    """dm_pix's conversion, as Keras's JAX backend: (h, s, v), h in [0, 1)."""
    eps = np.finfo(b.dtype).eps
    b = np.where(np.abs(b) < eps, 0.0, b).astype(b.dtype, copy=False)
    r, g, bl = b[..., 0], b[..., 1], b[..., 2]
    value = np.maximum(np.maximum(r, g), bl)
    range_ = value - np.minimum(np.minimum(r, g), bl)
    safe_value = np.where(value > 0, value, 1.0)
    safe_range = np.where(range_ > 0, range_, 1.0)
    saturation = np.where(value > 0, range_ / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_range)
    hue = np.where(value == g, norm * (bl - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = np.where(value == r, norm * (g - bl), hue)
    hue = np.where(range_ > 0, hue, 0.0) + (hue < 0.0)
    return np.stack([hue, saturation, value], axis=-1).astype(b.dtype, copy=False)


def hsv_to_rgb(b):
    hue, saturation, value = b[..., 0], b[..., 1], b[..., 2]
    dh = np.mod(hue, 1.0) * 6.0
    dr = np.clip(np.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = np.clip(2.0 - np.abs(dh - 2.0), 0.0, 1.0)
    db = np.clip(2.0 - np.abs(dh - 4.0), 0.0, 1.0)
    one_minus_s = 1.0 - saturation
    rgb = [value * (one_minus_s + saturation * d) for d in (dr, dg, db)]
    return np.stack(rgb, axis=-1).astype(b.dtype, copy=False)


def _column(values, n):
    return np.asarray(values).reshape((n, 1, 1, 1))


class _ColorAugmentation(_Augmentation):
    """``_sample(n)`` -> params, ``_transform(b, params)`` -> images."""

    def _augment(self, b):
        params = self._sample(b.shape[0])
        return self._transform(b, params), params

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class RandomGrayscale(_ColorAugmentation):
    """Turn each image grey (3 equal channels) with probability ``factor``."""

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if not 0 <= factor <= 1:
            raise ValueError(f"RandomGrayscale: `factor` should be between 0 and 1. "
                             f"Received: factor={factor}")
        self.factor = factor

    def _sample(self, n):
        return {"should_apply": self._generator().uniform(0, 1, n) < self.factor}

    def _transform(self, b, params):
        apply = _column(params["should_apply"], b.shape[0])
        return np.where(apply, rgb_to_grayscale(b), b)

    def _augment_backward(self, db, params):
        apply = _column(params["should_apply"], db.shape[0])
        if db.shape[-1] == 1:
            return db
        # every output channel is sum_k w_k x_k: dx_k = w_k * sum_c dy_c
        return np.where(apply, db.sum(-1, keepdims=True) * _GRAY.astype(db.dtype), db)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomInvert(_ColorAugmentation):
    """``value_range[1] - x`` for each image with a probability drawn from
    ``factor`` (a range in [0, 1])."""

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _factor_range("RandomInvert", "factor", factor, (0, 1))
        self.value_range = value_range

    def _sample(self, n):
        rng = self._generator()
        probability = rng.uniform(self.factor[0], self.factor[1], n)
        return {"apply_inversion": rng.uniform(0, 1, n) < probability}

    def _transform(self, b, params):
        apply = _column(params["apply_inversion"], b.shape[0])
        return np.where(apply, self.value_range[1] - b, b)

    def _augment_backward(self, db, params):
        return np.where(_column(params["apply_inversion"], db.shape[0]), -db, db)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range),
                       "seed": self.seed})
        return config


class RandomPosterization(_ColorAugmentation):
    """Keep the top ``bits`` bits of each 8-bit value, ``bits`` an integer
    drawn from [factor[0], factor[1]) (factor[0] when they are equal)."""

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _factor_range("RandomPosterization", "factor", factor, (1, 8))
        self.value_range = value_range_of("RandomPosterization", value_range)

    def _sample(self, n):
        lo, hi = self.factor
        bits = (self._generator().integers(int(lo), int(hi), n) if lo != hi
                else np.full(n, int(lo)))
        return {"shift_factor": (8 - bits).astype(np.uint8)}

    def _transform(self, b, params):
        shift = _column(params["shift_factor"], b.shape[0]).astype(np.uint8)
        v = rescale(b, self.value_range, (0, 255)).astype(np.uint8)
        v = (v >> shift) << shift
        return rescale(v.astype(np.float32), (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": self.value_range,
                       "seed": self.seed})
        return config


def _solarization_factor(name, factor):
    message = (f"Solarization: the `addition_factor` and `threshold_factor` arguments should "
               f"be a number (or a list of two numbers) in the range [0, 1]. Received: "
               f"{name}={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(0 <= f <= 1 for f in factor):
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
        raise ValueError(message)
    return (0, factor)


class Solarization(_ColorAugmentation):
    """Add a random amount, then invert the values above a random threshold.
    As Keras, the draws are uniform in [factor[0], factor[1] * 255)."""

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = _solarization_factor("addition_factor", addition_factor)
        self.threshold_factor = _solarization_factor("threshold_factor", threshold_factor)
        self.value_range = value_range_of("Solarization", value_range)

    def _sample(self, n):
        rng = self._generator()
        shape = (n, 1, 1, 1)
        return {"additions": rng.uniform(self.addition_factor[0],
                                         self.addition_factor[1] * 255, shape),
                "thresholds": rng.uniform(self.threshold_factor[0],
                                          self.threshold_factor[1] * 255, shape)}

    def _transform(self, b, params):
        n = b.shape[0]
        v = rescale(b, self.value_range, (0, 255))
        v = np.clip(v + _column(params["additions"], n).astype(b.dtype), 0, 255)
        v = np.where(v < _column(params["thresholds"], n), v, 255 - v)
        return rescale(v, (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range,
                       "addition_factor": list(self.addition_factor),
                       "threshold_factor": list(self.threshold_factor), "seed": self.seed})
        return config


class AutoContrast(_ColorAugmentation):
    """Stretch each image and channel to the full value range. Keras applies
    it at inference too (it is no random augmentation)."""

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range_of("AutoContrast", value_range)

    def forward(self, x, training=False, mask=None):
        return super().forward(x, True, mask)

    def _sample(self, n):
        return None

    def _transform(self, b, params):
        v = rescale(b, self.value_range, (0, 255)).astype(np.float32, copy=False)
        low = v.min(axis=(1, 2), keepdims=True)
        high = v.max(axis=(1, 2), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = 255.0 / (high - low)
            out = np.clip(v * scale - low * scale, 0.0, 255.0)
            out = rescale(out, (0, 255), self.value_range)
        return np.where(np.isnan(out), b, out)   # a flat channel stays as it is

    def get_config(self):
        config = super().get_config()
        config["value_range"] = self.value_range
        return config


class Equalization(_ColorAugmentation):
    """Histogram equalisation per channel, with ``bins`` bins. As Keras, the
    histogram of a channel is taken over the whole batch."""

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
            raise ValueError(f"Equalization: `bins` must be an integer >= 2, got {bins!r}.")
        self.bins = int(bins)
        self.value_range = value_range_of("Equalization", value_range)

    def _sample(self, n):
        return None

    def _equalize(self, channel):
        bins = self.bins
        idx = np.clip((channel.astype(np.float32) * (bins - 1) / 255.0).astype(np.int32),
                      0, bins - 1)
        hist = np.bincount(idx.reshape(-1), minlength=bins)
        if np.count_nonzero(hist) <= 1:
            return channel
        cdf = np.cumsum(hist)
        cdf_min = cdf[np.argmax(cdf > 0)]
        denominator = cdf[-1] - cdf_min
        lookup = np.clip(np.round((cdf - cdf_min) * 255 / (denominator or 1)), 0, 255)
        at = np.clip(channel / 255.0 * (bins - 1), 0, bins - 1).astype(np.int32)
        return lookup[at].astype(channel.dtype)

    def _transform(self, b, params):
        v = rescale(b, self.value_range, (0, 255))
        out = np.stack([self._equalize(v[..., c]) for c in range(v.shape[-1])], axis=-1)
        return rescale(out, (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"bins": self.bins, "value_range": self.value_range})
        return config


class _FactorColor(_ColorAugmentation):
    """A colour layer with Keras's base ``factor`` in [0, 1] and a value range."""
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        name = type(self).__name__
        self.factor = _factor_range(name, "factor", factor, self._FACTOR_BOUNDS)
        self.value_range = value_range_of(name, value_range)

    def _uniform(self, shape):
        return self._generator().uniform(self.factor[0], self.factor[1], shape)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": self.value_range,
                       "seed": self.seed})
        return config


class RandomColorDegeneration(_FactorColor):
    """Blend each image towards its greyscale version by a random factor."""

    def _sample(self, n):
        return {"factor": self._uniform((n, 1, 1, 1))}

    def _transform(self, b, params):
        f = _column(params["factor"], b.shape[0]).astype(b.dtype)
        return np.clip(b + f * (rgb_to_grayscale(b) - b), *self.value_range)


class RandomSaturation(_FactorColor):
    """Scale the HSV saturation by f / (1 - f), f drawn from ``factor``
    (0.5 keeps it, 0 removes it, 1 saturates fully)."""

    def _sample(self, n):
        f = self._uniform(n)
        return {"factor": f / (1 - f + _EPSILON)}

    def _transform(self, b, params):
        hsv = rgb_to_hsv(b)
        s = np.clip(hsv[..., 1] * np.asarray(params["factor"]).reshape(-1, 1, 1).astype(b.dtype),
                    *self.value_range)
        return hsv_to_rgb(np.stack([hsv[..., 0], s, hsv[..., 2]], axis=-1))


class RandomHue(_FactorColor):
    """Rotate the HSV hue by ±f/2 of a turn, f drawn from ``factor``."""

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        self.value_range = value_range   # Keras keeps it unsorted here

    def _sample(self, n):
        rng = self._generator()
        sign = np.where(rng.uniform(0, 1, n) > 0.5, -1.0, 1.0)
        return {"factor": sign * self._uniform(n) * 0.5}

    def _transform(self, b, params):
        v = rescale(b, self.value_range, (0, 1))
        hsv = rgb_to_hsv(v.astype(np.float32, copy=False))
        h = hsv[..., 0] + np.asarray(params["factor"]).reshape(-1, 1, 1).astype(hsv.dtype)
        h = np.where(h > 1.0, h - 1.0, h)
        h = np.where(h < 0.0, h + 1.0, h)
        rgb = np.clip(hsv_to_rgb(np.stack([h, hsv[..., 1], hsv[..., 2]], axis=-1)), 0, 1)
        return rescale(rgb, (0, 1), self.value_range)

    def get_config(self):
        config = super().get_config()
        config["value_range"] = list(self.value_range)
        return config


class RandomSharpness(_FactorColor):
    """Blend each image with a 3x3 smoothed copy: 2f = 1 keeps it, 0 blurs,
    2 sharpens (f drawn from ``factor``)."""

    def _sample(self, n):
        return {"factor": self._uniform(n)}

    def _transform(self, b, params):
        f = (np.asarray(params["factor"]) * 2).reshape(-1, 1, 1, 1).astype(b.dtype)
        a, c = 1.0 / 13.0, 5.0 / 13.0
        p = np.pad(b, ((0, 0), (1, 1), (1, 1), (0, 0)))   # 'same', zero padded
        H, W = b.shape[1:3]
        smooth = c * b
        for dy in range(3):
            for dx in range(3):
                if (dy, dx) != (1, 1):
                    smooth = smooth + a * p[:, dy:dy + H, dx:dx + W]
        return np.clip(b + (1.0 - f) * (smooth - b), *self.value_range)


class RandomColorJitter(_ColorAugmentation):
    """RandomBrightness, RandomContrast, RandomSaturation then RandomHue, each
    when its factor is given."""

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        steps = ((RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor))
        self._steps = [cls(factor=f, value_range=value_range, seed=seed)
                       for cls, f in steps if f is not None]

    def _sample(self, n):
        return None

    def _augment(self, b):
        for step in self._steps:
            b = step._augment(b)[0].astype(np.float32, copy=False)
        return b, None

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range,
                       "brightness_factor": self.brightness_factor,
                       "contrast_factor": self.contrast_factor,
                       "saturation_factor": self.saturation_factor,
                       "hue_factor": self.hue_factor, "seed": self.seed})
        return config


def gaussian_kernel(size, sigma):
    """Keras's normalised 1-D Gaussian of ``size`` taps."""
    x = np.arange(size, dtype=np.float32) - np.float32((size - 1) / 2)
    k = np.exp(-0.5 * (x / np.float32(sigma)) ** 2)
    return k / k.sum()


def gaussian_blur(b, kernel_size, sigma):
    """Keras's ops.image.gaussian_blur of (B, H, W, C): separable, 'same' zero
    padding; kernel_size and sigma are (along the width, along the height)."""
    kw = gaussian_kernel(kernel_size[0], sigma[0])
    kh = gaussian_kernel(kernel_size[1], sigma[1])
    ph, pw = len(kh) // 2, len(kw) // 2
    H, W = b.shape[1:3]
    p = np.pad(b, ((0, 0), (ph, ph), (0, 0), (0, 0)))
    rows = sum(kh[i] * p[:, i:i + H] for i in range(len(kh)))
    p = np.pad(rows, ((0, 0), (0, 0), (pw, pw), (0, 0)))
    return sum(kw[j] * p[:, :, j:j + W] for j in range(len(kw)))


class RandomGaussianBlur(_ColorAugmentation):
    """Blur each image, with probability drawn from ``factor``, by a Gaussian
    of ``kernel_size`` taps ('same' zero padding); the sigmas along width and
    height are drawn once per batch from ``sigma``."""

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _factor_range("RandomGaussianBlur", "factor", factor, (0, 1))
        sizes = list(kernel_size) if isinstance(kernel_size, (tuple, list)) else \
            [kernel_size, kernel_size]
        if len(sizes) != 2 or not all(isinstance(k, int) and k > 0 and k % 2 == 1
                                      for k in sizes):
            raise ValueError(f"RandomGaussianBlur: kernel_size must be an odd number (or a "
                             f"list of two). Received: kernel_size={kernel_size}")
        self.kernel_size = tuple(sizes)
        self.sigma = _factor_range("RandomGaussianBlur", "sigma", sigma, (0, 1))
        self.value_range = value_range

    def _sample(self, n):
        rng = self._generator()
        probability = rng.uniform(self.factor[0], self.factor[1], n)
        return {"should_apply_blur": rng.uniform(0, 1, n) < probability,
                "blur_factor": rng.uniform(self.sigma[0], self.sigma[1], 2) + 1e-6}

    def _transform(self, b, params):
        apply = _column(params["should_apply_blur"], b.shape[0])
        out = np.where(apply, gaussian_blur(b, self.kernel_size, params["blur_factor"]), b)
        return np.clip(out, *self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self.factor), "kernel_size": list(self.kernel_size),
                       "sigma": list(self.sigma), "value_range": list(self.value_range),
                       "seed": self.seed})
        return config


class ContrastLimitedAdaptiveHistogramEqualization(_ColorAugmentation):
    """CLAHE as Keras: 8-bit histograms per tile of a ``tile_grid_size`` grid
    (the image padded symmetrically to whole tiles), clipped at
    clip_limit · tile_pixels / 256 with the excess spread evenly, each pixel
    mapped through the bilinear blend of its four nearest tiles' CDFs.
    Deterministic, and applied at inference too (as Keras)."""

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        grid = tuple(tile_grid_size) if isinstance(tile_grid_size, (tuple, list)) else None
        if grid is None or len(grid) != 2 or not all(isinstance(g, int) and g > 0
                                                     for g in grid):
            raise ValueError("ContrastLimitedAdaptiveHistogramEqualization: `tile_grid_size` "
                             f"must be two positive integers, got {tile_grid_size!r}.")
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def forward(self, x, training=False, mask=None):
        return super().forward(x, True, mask)

    def _sample(self, n):
        return None

    def _cdfs(self, padded, th, tw):
        """(B, gh + 2, gw + 2, C, 256) normalised CDFs, edge tiles repeated."""
        B, Hp, Wp, C = padded.shape
        gh, gw = self.tile_grid_size
        tiles = padded.reshape(B, gh, th, gw, tw, C).transpose(0, 1, 3, 5, 2, 4)
        ids = np.clip(tiles.astype(np.int32), 0, 255).reshape(B, gh, gw, C, th * tw)
        flat = ids.reshape(-1, th * tw)
        rows = np.repeat(np.arange(flat.shape[0]), th * tw)
        hists = np.zeros((flat.shape[0], 256), np.float32)
        np.add.at(hists, (rows, flat.reshape(-1)), 1.0)
        hists = hists.reshape(B, gh, gw, C, 256)
        if self.clip_limit > 0:
            limit = np.float32(self.clip_limit * (th * tw) / 256.0)
            clipped = np.clip(hists, 0, limit)
            hists = clipped + (hists - clipped).sum(-1, keepdims=True) / 256.0
        cdf = np.cumsum(hists, axis=-1)
        cdf_min = cdf.min(axis=-1, keepdims=True)
        denominator = np.float32(th * tw) - cdf_min
        denominator = np.where(denominator == 0, 1.0, denominator)
        cdf = np.clip((cdf - cdf_min) * 255.0 / denominator, 0, 255)
        cdf = np.concatenate([cdf[:, :1], cdf, cdf[:, -1:]], axis=1)
        return np.concatenate([cdf[:, :, :1], cdf, cdf[:, :, -1:]], axis=2)

    def _transform(self, b, params):
        v = rescale(b, self.value_range, (0, 255)).astype(np.float32, copy=False)
        B, H, W, C = v.shape
        gh, gw = self.tile_grid_size
        th, tw = -(-H // gh), -(-W // gw)
        padded = np.pad(v, ((0, 0), (0, th * gh - H), (0, tw * gw - W), (0, 0)),
                        mode="symmetric")
        cdf = self._cdfs(padded, th, tw)

        def cells(n, tile, grid):
            pos = (np.arange(n, dtype=np.float32) - tile / 2.0) / tile + 1.0
            lo = np.floor(pos)
            return (np.clip(lo, 0, grid + 1).astype(np.int64),
                    np.clip(lo + 1, 0, grid + 1).astype(np.int64), pos - lo)
        y0, y1, wy = cells(th * gh, th, gh)
        x0, x1, wx = cells(tw * gw, tw, gw)
        pix = np.clip(padded, 0, 255).astype(np.int64)
        bi = np.arange(B)[:, None, None, None]
        ci = np.arange(C)[None, None, None, :]

        def at(ys, xs):
            return cdf[bi, ys[None, :, None, None], xs[None, None, :, None], ci, pix]
        wx_, wy_ = wx[None, None, :, None], wy[None, :, None, None]
        top = at(y0, x0) * (1.0 - wx_) + at(y0, x1) * wx_
        bottom = at(y1, x0) * (1.0 - wx_) + at(y1, x1) * wx_
        out = (top * (1.0 - wy_) + bottom * wy_)[:, :H, :W]
        return rescale(out.astype(np.float32), (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": list(self.value_range), "clip_limit": self.clip_limit,
                       "tile_grid_size": list(self.tile_grid_size),
                       "data_format": self.data_format})
        return config
