"""Geometric augmentations of Keras 3 (training only): RandomShear,
RandomPerspective and RandomElasticTransform. Both sample each output pixel at input coordinates through
image.py's ``_warp`` (bilinear or nearest, Keras's fill modes), whose adjoint
gives the input gradient. As in color.py, ``_sample(n)`` draws the
parameters (Keras's transformation keys) and ``_transform(b, params)``
applies them."""
import numpy as np

from ckeras.layers.preprocessing.color import gaussian_blur
from ckeras.layers.preprocessing.image import _factor_range, _Geometric, _warp, _warp_backward


def _factor_01(cls_name, arg, factor):
    """RandomShear's factor rule: f in [0, 1] -> (-f, f); a pair -> sorted."""
    message = (f"{cls_name}: the `{arg}` argument should be a number (or a list of two "
               f"numbers) in the range [0, 1.0]. Received: {arg}={factor}")
    values = list(factor) if isinstance(factor, (tuple, list)) else [factor]
    # a pair may reach -1: Keras writes (-f, f) into its config and must read it back
    low = -1 if len(values) == 2 else 0
    if len(values) not in (1, 2) or isinstance(factor, bool) or not all(
            isinstance(v, (int, float)) and low <= v <= 1 for v in values):
        raise ValueError(message)
    if len(values) == 1:
        return (-abs(values[0]), abs(values[0]))
    return tuple(sorted(values))


class _Warping(_Geometric):
    def _augment(self, b):
        params = self._sample(b.shape[0], b.shape[1], b.shape[2])
        return self._warped(b, params)

    def _transform(self, b, params):
        return self._warped(b, params)[0]

    def _warped(self, b, params):
        out, plans = _warp(b, self._inverse(params), self.fill_mode, self.fill_value,
                           self.interpolation)
        return out, plans

    def _augment_backward(self, db, plans):
        return _warp_backward(db, plans)


class RandomShear(_Warping):
    """Shear each image: the output pixel (x, y) reads the input at
    (x + sx·y, y + sy·x), with sx, sy drawn from the factors and a random
    common sign (as Keras, about the top-left corner)."""

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None, seed=None, **kwargs):
        if fill_mode not in ("reflect", "wrap", "constant", "nearest"):
            raise NotImplementedError(f"RandomShear: unknown `fill_mode` {fill_mode}. Expected "
                                      "one of ('reflect', 'wrap', 'constant', 'nearest').")
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"RandomShear: unknown `interpolation` {interpolation}. "
                                      "Expected one of ('nearest', 'bilinear').")
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.x_factor = _factor_01("RandomShear", "x_factor", x_factor)
        self.y_factor = _factor_01("RandomShear", "y_factor", y_factor)
        self.fill_value = fill_value

    def _sample(self, n, height=None, width=None):
        rng = self._generator()
        sign = np.where(rng.uniform(0, 1, (n, 1)) > 0.5, -1.0, 1.0)
        shear_y = rng.uniform(self.y_factor[0], self.y_factor[1], (n, 1))
        shear_x = rng.uniform(self.x_factor[0], self.x_factor[1], (n, 1))
        return {"shear_factor": np.concatenate([shear_x, shear_y], axis=1) * sign}

    def _inverse(self, params):
        shear = np.asarray(params["shear_factor"], np.float64)

        def inverse(i, yy, xx):
            return shear[i, 1] * xx + yy, xx + shear[i, 0] * yy
        return inverse

    def _factor_config(self):
        return {"x_factor": list(self.x_factor), "y_factor": list(self.y_factor)}


def homography(start, end):
    """The 8 coefficients mapping ``end`` corner points to ``start`` ones:
    (x_in, y_in) = ((a0 x + a1 y + a2) / d, (b0 x + b1 y + b2) / d),
    d = c0 x + c1 y + 1 (Keras's compute_homography_matrix)."""
    sx, sy = start[:, 0], start[:, 1]
    ex, ey = end[:, 0], end[:, 1]
    zeros, ones = np.zeros(4), np.ones(4)
    rows_x = np.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], axis=-1)
    rows_y = np.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], axis=-1)
    return np.linalg.solve(np.concatenate([rows_x, rows_y]), np.concatenate([sx, sy]))


class RandomPerspective(_Warping):
    """Move each image's four corners by up to ``scale``/2 of their
    coordinates and warp it accordingly, with probability drawn from
    ``factor``; outside pixels read ``fill_value``."""

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"RandomPerspective: unknown `interpolation` "
                                      f"{interpolation}. Expected one of ('nearest', "
                                      "'bilinear').")
        super().__init__(fill_mode="constant", interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.factor = _factor_range("RandomPerspective", "factor", factor, (0, 1))
        if not 0.0 <= scale <= 1.0:
            raise ValueError(f"RandomPerspective: the `scale` argument should be a number in "
                             f"the range [0,1]. Received: scale={scale}")
        self.scale = scale
        self.fill_value = fill_value

    def _sample(self, n, height, width):
        rng = self._generator()
        probability = rng.uniform(self.factor[0], self.factor[1], n)
        apply = rng.uniform(0, 1, n) < probability
        moves = rng.uniform(-0.5 * self.scale, 0.5 * self.scale, (n, 4, 2))
        start = np.array([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1],
                          [width - 1, height - 1]])
        start = np.repeat(start[None], n, axis=0)
        return {"apply_perspective": apply, "start_points": start,
                "end_points": start + start * moves}

    def _inverse(self, params):
        apply = np.asarray(params["apply_perspective"]).reshape(-1)
        start = np.asarray(params["start_points"], np.float64)
        end = np.asarray(params["end_points"], np.float64)

        def inverse(i, yy, xx):
            if not apply[i]:
                return yy, xx
            t = homography(start[i], end[i])
            d = t[6] * xx + t[7] * yy + 1.0
            return (t[3] * xx + t[4] * yy + t[5]) / d, (t[0] * xx + t[1] * yy + t[2]) / d
        return inverse

    def _factor_config(self):
        return {"factor": list(self.factor), "scale": self.scale}

    def get_config(self):
        config = super().get_config()
        del config["fill_mode"]          # not an argument of Keras's RandomPerspective
        return config


class RandomElasticTransform(_Warping):
    """Displace every pixel by smoothed Gaussian noise, with probability drawn
    from ``factor``; the strength d ~ U(scale) gives alpha = 0.1 d max(H, W)
    and sigma = 0.05 d min(H, W) (the noise's scale and blur). As Keras's
    JAX backend, the same noise field moves x and y (one seed for both);
    clipped to value_range."""

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"RandomElasticTransform: unknown `interpolation` "
                                      f"{interpolation}. Expected one of ('nearest', "
                                      "'bilinear').")
        if fill_mode not in ("constant", "nearest", "wrap", "mirror", "reflect"):
            raise NotImplementedError(f"RandomElasticTransform: unknown `fill_mode` "
                                      f"{fill_mode}. Expected one of ('constant', 'nearest', "
                                      "'wrap', 'mirror', 'reflect').")
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.factor = _factor_range("RandomElasticTransform", "factor", factor, (0, 1))
        self.scale = _factor_range("RandomElasticTransform", "scale", scale, (0, 1))
        self.fill_value = fill_value
        self.value_range = value_range

    def _sample(self, n, height, width):
        rng = self._generator()
        probability = rng.uniform(self.factor[0], self.factor[1], n)
        return {"apply_transform": rng.uniform(0, 1, n) < probability,
                "distortion_factor": rng.uniform(self.scale[0], self.scale[1]),
                "noise": rng.standard_normal((n, height, width)).astype(np.float32)}

    def _displacement(self, params, height, width):
        d = float(params["distortion_factor"])
        alpha = max(height, width) * 0.1 * d
        sigma = min(height, width) * 0.05 * d
        size = int(6 * sigma) | 1
        noise = np.asarray(params["noise"], np.float32)[..., None] * np.float32(sigma)
        return alpha * gaussian_blur(noise, (size, size), (sigma, sigma))[..., 0]

    def _augment(self, b):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return b, None
        params = self._sample(b.shape[0], b.shape[1], b.shape[2])
        return self._warped(b, params)

    def _warped(self, b, params):
        H, W = b.shape[1:3]
        shift = self._displacement(params, H, W)
        apply = np.asarray(params["apply_transform"]).reshape(-1)

        def inverse(i, yy, xx):
            if not apply[i]:
                return yy, xx
            return yy + shift[i], xx + shift[i]
        out, plans = _warp(b, inverse, self.fill_mode, self.fill_value, self.interpolation)
        lo, hi = self.value_range
        inside = (out >= lo) & (out <= hi)
        return np.clip(out, lo, hi), (plans, inside)

    def _augment_backward(self, db, state):
        if state is None:
            return db
        plans, inside = state
        return _warp_backward(db * inside, plans)

    def _factor_config(self):
        return {"factor": list(self.factor), "scale": list(self.scale),
                "value_range": list(self.value_range)}
