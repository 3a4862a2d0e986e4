"""``keras.ops.image``: resizing, cropping and padding, colour spaces,
resampling (affine_transform, map_coordinates), patches and filters, for
(batch, height, width, channels) images or one (height, width, channels)
image (``data_format="channels_first"`` moves channels first).

Resizing is separable: one weight matrix per spatial axis (the kernels and
the half-pixel sampling of ``jax.image.resize``, which Keras uses on JAX), so
``resize`` is two differentiable products. The other ops are compositions of
differentiable ``ckeras.ops`` as well, so their gradients come from the tape.
"""

import numpy as np

from ckeras.ops import array_ops as _a
from ckeras.ops import nn as _nn
from ckeras.ops.array_ops import _v, op

__all__ = ["affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d",
           "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images",
           "perspective_transform", "resize", "rgb_to_grayscale", "rgb_to_hsv",
           "scale_and_translate", "sobel_edges", "ssim"]

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fmt(data_format):
    from ckeras import config
    fmt = config.image_data_format() if data_format is None else data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}.")
    return fmt


def _check_rank(shape):
    if len(shape) not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 "
                         f"(batch of images). Received input with shape: images.shape={shape}")


def _hw_axes(ndim, fmt):
    return (ndim - 3, ndim - 2) if fmt == "channels_last" else (ndim - 2, ndim - 1)


def _to_float(x):
    a = _v(x)
    return x if np.asarray(a).dtype.kind == "f" else np.asarray(a).astype(np.float32)


# ---- resize --------------------------------------------------------------------------------

def _triangle(d):
    return np.maximum(0.0, 1.0 - d)


def _keys_cubic(d):
    # Keys (1981) cubic convolution with a = -0.5
    out = ((1.5 * d - 2.5) * d) * d + 1.0
    out = np.where(d >= 1.0, ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0, out)
    return np.where(d >= 2.0, 0.0, out)


def _lanczos(radius):
    def kernel(d):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * d) * np.sin(np.pi * d / radius) / (np.pi ** 2 * d * d)
        return np.where(d > radius, 0.0, np.where(d > 1e-3, y, 1.0))
    return kernel


_KERNELS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos3": _lanczos(3.0),
            "lanczos5": _lanczos(5.0)}


def resize_weights(in_size, out_size, interpolation, antialias=False, scale=None,
                   translation=0.0):
    """(out_size, in_size) matrix: output sample i = sum_j W[i, j] * input j.

    Output pixel centres sit at (i + 0.5 - translation) / scale - 0.5 in input
    pixels (scale out / in unless given); the kernel is widened by 1 / scale when
    antialiasing a downscale; weights are normalised over the taps inside the
    image (which clamps at the edges)."""
    if interpolation == "nearest":
        idx = np.floor(((np.arange(out_size) + 0.5) * in_size / out_size).astype(np.float32))
        w = np.zeros((out_size, in_size))
        w[np.arange(out_size), np.minimum(idx.astype(np.int64), in_size - 1)] = 1.0
        return w
    inv_scale = in_size / out_size if scale is None else 1.0 / float(scale)
    kernel_scale = max(inv_scale, 1.0) if antialias else 1.0
    centre = (np.arange(out_size) + 0.5) * inv_scale - float(translation) * inv_scale - 0.5
    w = _KERNELS[interpolation](np.abs(centre[:, None] - np.arange(in_size)[None, :])
                                / kernel_scale)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps,
                 w / np.where(total != 0, total, 1), 0.0)
    inside = (centre >= -0.5) & (centre <= in_size - 0.5)
    return np.where(inside[:, None], w, 0.0)


def resize_nhwc(b, h, w, interpolation="bilinear", antialias=False):
    """Resize (B, H, W, C) float images to (B, h, w, C) (values or tape tensors)."""
    _, H, W, _ = np.shape(_v(b))
    dtype = np.asarray(_v(b)).dtype
    wy = resize_weights(H, h, interpolation, antialias).astype(dtype)
    wx = resize_weights(W, w, interpolation, antialias).astype(dtype)
    out = b if H == h else _along(wy, b, 1)
    return out if W == w else _along(wx, out, 2)


def _along(weights, x, axis):
    """Apply an (out, in) resampling matrix along ``axis`` (a BLAS product)."""
    return _a.moveaxis(_a.tensordot(weights, _a.moveaxis(x, axis, 0), axes=1), 0, axis)


def _crop_box(height, width, th, tw):
    ch = max(min(height, int(float(width * th) / tw)), 1)
    cw = max(min(width, int(float(height * tw) / th)), 1)
    return int(float(height - ch) / 2), int(float(width - cw) / 2), ch, cw


@op
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resize images to ``size`` = (height, width), as Keras on JAX."""
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                         f"{RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}")
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is "
                         f"supported. Received: fill_mode={fill_mode}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be "
                         "`True`.")
    if len(size) != 2:
        raise ValueError("Argument `size` must be a tuple of two elements (height, width). "
                         f"Received: size={size}")
    orig = np.asarray(_v(images)).dtype
    x, restore = _batch_nhwc(images, data_format)
    th, tw = int(size[0]), int(size[1])
    height, width = np.shape(_v(x))[1:3]
    if crop_to_aspect_ratio:
        top, left, ch, cw = _crop_box(height, width, th, tw)
        x = _a.getitem(x, (slice(None), slice(top, top + ch), slice(left, left + cw)))
    elif pad_to_aspect_ratio:
        ph = max(height, int(float(width * th) / tw))
        pw = max(width, int(float(height * tw) / th))
        top, left = int(float(ph - height) / 2), int(float(pw - width) / 2)
        # as Keras: the same amount on both sides, and only along one axis
        pads = [(0, 0), (top, top), (0, 0), (0, 0)] if top > 0 else \
            [(0, 0), (0, 0), (left, left), (0, 0)]
        x = _a.pad(x, pads, constant_values=fill_value)
    y = restore(resize_nhwc(x, th, tw, interpolation, antialias))
    if orig.kind in "iub":   # Keras rounds and saturates back to an integer dtype
        info = np.iinfo(orig) if orig.kind != "b" else None
        y = np.round(np.asarray(_v(y)))
        return (np.clip(y, info.min, info.max) if info else y).astype(orig)
    return y


_SCALE_METHODS = {"linear": "bilinear", "bilinear": "bilinear", "trilinear": "bilinear",
                  "cubic": "bicubic", "bicubic": "bicubic", "tricubic": "bicubic",
                  "lanczos3": "lanczos3", "lanczos5": "lanczos5"}


@op
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """jax.image.scale_and_translate: each axis in ``spatial_dims`` resampled
    to ``output_shape`` with input position (out + 0.5 - translation) / scale - 0.5."""
    if method not in _SCALE_METHODS:
        raise ValueError("Invalid value for argument `method`. Expected of one "
                         f"{set(_SCALE_METHODS)}. Received: method={method}")
    x = _to_float(images)
    shape = np.shape(_v(x))
    scale = np.broadcast_to(np.asarray(_v(scale), np.float64), (len(spatial_dims),))
    translation = np.broadcast_to(np.asarray(_v(translation), np.float64),
                                  (len(spatial_dims),))
    for d, sc, tr in zip(spatial_dims, scale, translation):
        w = resize_weights(shape[d], int(output_shape[d]), _SCALE_METHODS[method], antialias,
                           sc, tr).astype(np.asarray(_v(x)).dtype)
        x = _along(w, x, d)
    return x


# ---- crop and pad ---------------------------------------------------------------------------

def _two_of_three(a, b, target, names):
    if [a, b, target].count(None) != 1:
        raise ValueError(f"Must specify exactly two of {names[0]}, {names[1]}, {names[2]}. "
                         f"Received: {names[0]}={a}, {names[1]}={b}, {names[2]}={target}")
    _non_negative(zip((a, b, target), names))


def _non_negative(pairs):
    for v, n in pairs:
        if v is not None and v < 0:
            raise ValueError(f"{n} must be >= 0. Received: {n}={v}")


def _frame(images, data_format, vertical, horizontal, kind):
    """(shape, height axis, width axis) after checking the (first, last, target)
    arguments of each direction, Keras's rule: exactly two of the three."""
    shape = np.shape(_v(images))
    _check_rank(shape)
    _two_of_three(*vertical, (f"top_{kind}", f"bottom_{kind}", "target_height"))
    _two_of_three(*horizontal, (f"left_{kind}", f"right_{kind}", "target_width"))
    return (shape,) + _hw_axes(len(shape), _fmt(data_format))


@op
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Zero-pad images to the given sides or target size."""
    shape, ha, wa = _frame(images, data_format, (top_padding, bottom_padding, target_height),
                           (left_padding, right_padding, target_width), "padding")
    height, width = shape[ha], shape[wa]
    top = target_height - bottom_padding - height if top_padding is None else top_padding
    bottom = target_height - top - height if bottom_padding is None else bottom_padding
    left = target_width - right_padding - width if left_padding is None else left_padding
    right = target_width - left - width if right_padding is None else right_padding
    _non_negative(((top, "top_padding"), (bottom, "bottom_padding"), (left, "left_padding"),
                   (right, "right_padding")))
    pads = [(0, 0)] * len(shape)
    pads[ha], pads[wa] = (top, bottom), (left, right)
    return _a.pad(images, pads)


@op
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crop images to the given sides or target size."""
    shape, ha, wa = _frame(images, data_format, (top_cropping, bottom_cropping, target_height),
                           (left_cropping, right_cropping, target_width), "cropping")
    height, width = shape[ha], shape[wa]
    top = height - target_height - bottom_cropping if top_cropping is None else top_cropping
    th = height - bottom_cropping - top if target_height is None else target_height
    left = width - target_width - right_cropping if left_cropping is None else left_cropping
    tw = width - right_cropping - left if target_width is None else target_width
    _non_negative(((top, "top_cropping"), (th, "target_height"), (left, "left_cropping"),
                   (tw, "target_width")))
    key = [slice(None)] * len(shape)
    key[ha], key[wa] = slice(top, top + th), slice(left, left + tw)
    return _a.getitem(images, tuple(key))


# ---- colour spaces --------------------------------------------------------------------------

def _channel_axis(images, fmt):
    shape = np.shape(_v(images))
    _check_rank(shape)
    return len(shape) - 1 if fmt == "channels_last" else len(shape) - 3


@op
def rgb_to_grayscale(images, data_format=None):
    """0.2989 R + 0.5870 G + 0.1140 B (a 1-channel image stays as it is)."""
    ax = _channel_axis(images, _fmt(data_format))
    n = np.shape(_v(images))[ax]
    if n not in (1, 3):
        raise ValueError("Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received "
                         f"input with shape: images.shape={np.shape(_v(images))}")
    if n == 1:
        return images
    orig = np.asarray(_v(images)).dtype
    x = _to_float(images)
    w = np.array([0.2989, 0.5870, 0.1140], np.asarray(_v(x)).dtype)
    y = _a.expand_dims(_a.tensordot(x, w, axes=([ax], [0])), ax)
    return y if orig.kind == "f" else np.asarray(y).astype(orig)


def _float_images(images, name):
    if np.asarray(_v(images)).dtype.kind != "f":
        raise ValueError(f"Invalid images dtype: expected float dtype. Received: "
                         f"images.dtype={np.asarray(_v(images)).dtype}")


@op
def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] -> (hue, saturation, value), each in [0, 1]."""
    ax = _channel_axis(images, _fmt(data_format))
    _float_images(images, "rgb_to_hsv")
    eps = np.finfo(np.asarray(_v(images)).dtype).eps
    x = _a.where(np.abs(_v(images)) < eps, 0.0, images)
    r, g, b = (_a.squeeze(c, ax) for c in _a.split(x, 3, axis=ax))
    value = _a.maximum(_a.maximum(r, g), b)
    rng = _a.subtract(value, _a.minimum(_a.minimum(r, g), b))
    v_, r_ = np.asarray(_v(value)), np.asarray(_v(rng))
    sat = _a.where(v_ > 0, _a.divide(rng, _a.where(v_ > 0, value, 1.0)), 0.0)
    norm = _a.divide(1.0, _a.multiply(6.0, _a.where(r_ > 0, rng, 1.0)))
    gv, rv = np.asarray(_v(g)), np.asarray(_v(r))
    hue = _a.where(v_ == gv, _a.add(_a.multiply(norm, _a.subtract(b, r)), 2.0 / 6.0),
                   _a.add(_a.multiply(norm, _a.subtract(r, g)), 4.0 / 6.0))
    hue = _a.where(v_ == rv, _a.multiply(norm, _a.subtract(g, b)), hue)
    hue = _a.add(_a.where(r_ > 0, hue, 0.0), (np.asarray(_v(hue)) < 0).astype(v_.dtype))
    return _a.stack([hue, sat, value], axis=ax)


@op
def hsv_to_rgb(images, data_format=None):
    """(hue, saturation, value) in [0, 1] -> RGB."""
    ax = _channel_axis(images, _fmt(data_format))
    _float_images(images, "hsv_to_rgb")
    h, s, v = (_a.squeeze(c, ax) for c in _a.split(images, 3, axis=ax))
    dh = _a.multiply(_a.mod(h, 1.0), 6.0)
    dr = _a.clip(_a.subtract(_a.abs(_a.subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    dg = _a.clip(_a.subtract(2.0, _a.abs(_a.subtract(dh, 2.0))), 0.0, 1.0)
    db = _a.clip(_a.subtract(2.0, _a.abs(_a.subtract(dh, 4.0))), 0.0, 1.0)
    one_minus_s = _a.subtract(1.0, s)
    planes = [_a.multiply(v, _a.add(one_minus_s, _a.multiply(s, d))) for d in (dr, dg, db)]
    return _a.stack(planes, axis=ax)


# ---- resampling -----------------------------------------------------------------------------

def fix_index(i, n, mode):
    """Integer sample positions -> (in-range index, valid or None) under Keras's
    fill modes (those of scipy.ndimage / jax.scipy.ndimage)."""
    if mode == "nearest":
        return np.clip(i, 0, n - 1), None
    if mode == "wrap":
        return np.mod(i, n), None
    if mode == "reflect":                 # (d c b a | a b c d | d c b a)
        j = np.mod(i, 2 * n)
        return np.where(j >= n, 2 * n - 1 - j, j), None
    if mode == "mirror":                  # (d c b | a b c d | c b a)
        if n == 1:
            return np.zeros_like(i), None
        j = np.mod(i, 2 * (n - 1))
        return np.where(j >= n, 2 * (n - 1) - j, j), None
    valid = (i >= 0) & (i < n)            # constant: outside reads fill_value
    return np.clip(i, 0, n - 1), valid


def _round_half_away(c):
    return np.sign(c) * np.floor(np.abs(c) + 0.5)


def _sample(inputs, coords, order, fill_mode, fill_value):
    """inputs at fractional ``coords`` (one array per axis); order 0 rounds half
    away from zero, order 1 is multilinear. Differentiable in inputs and coordinates."""
    shape = np.shape(_v(inputs))
    taps = []
    for ax, c in enumerate(coords):
        cv = np.asarray(_v(c))
        n = shape[ax]
        if order == 0:
            idx = _round_half_away(cv).astype(np.int64)
            taps.append([(idx, None)])
        else:
            lo = np.floor(cv)
            frac = _a.subtract(c, lo)          # d frac / d coordinate = 1
            taps.append([(lo.astype(np.int64), _a.subtract(1.0, frac)),
                         (lo.astype(np.int64) + 1, frac)])
        taps[-1] = [fix_index(i, n, fill_mode) + (w,) for i, w in taps[-1]]
    out = None
    for combo in _product(taps):
        vals = _a.getitem(inputs, tuple(i for i, _, _ in combo))
        valid = None
        for _, v, _ in combo:
            if v is not None:
                valid = v if valid is None else valid & v
        if valid is not None:
            vals = _a.where(valid, vals, fill_value)
        for _, _, w in combo:
            if w is not None:
                vals = _a.multiply(vals, w)
        out = vals if out is None else _a.add(out, vals)
    return out


def _product(lists):
    combos = [[]]
    for options in lists:
        combos = [c + [o] for c in combos for o in options]
    return combos


@op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """inputs sampled at ``coordinates`` (inputs.ndim, ...), as scipy.ndimage."""
    shape = np.shape(_v(inputs))
    cshape = np.shape(_v(coordinates))
    if len(cshape) < 2:
        raise ValueError("Invalid coordinates rank: expected at least rank 2. Received input "
                         f"with shape: {cshape}")
    if cshape[0] != len(shape):
        raise ValueError("First dim of `coordinates` must be the same as the rank of `inputs`. "
                         f"Received inputs with shape: {shape} and coordinate leading dim of "
                         f"{cshape[0]}")
    if fill_mode not in FILL_MODES:
        raise ValueError("Invalid value for argument `fill_mode`. Expected one of "
                         f"{set(FILL_MODES)}. Received: fill_mode={fill_mode}")
    if order not in (0, 1):
        raise ValueError(f"Invalid value for argument `order`. Expected one of [0, 1]. "
                         f"Received: order={order}")
    coords = [_a.getitem(coordinates, i) for i in range(len(shape))]
    y = _sample(_to_float(inputs), coords, order, fill_mode, fill_value)
    orig = np.asarray(_v(inputs)).dtype
    if orig.kind != "f":
        y = np.asarray(_v(y))
        return _round_half_away(y).astype(orig)
    return y


def _batch_nhwc(images, data_format):
    """(float (B, H, W, C) view of images, function bringing a result back to
    the images' layout and rank)."""
    fmt = _fmt(data_format)
    shape = np.shape(_v(images))
    _check_rank(shape)
    x = images if len(shape) == 4 else _a.expand_dims(images, 0)
    if fmt == "channels_first":
        x = _a.transpose(x, (0, 2, 3, 1))

    def restore(y):
        if fmt == "channels_first":
            y = _a.transpose(y, (0, 3, 1, 2))
        return y if len(shape) == 4 else _a.squeeze(y, 0)
    return _to_float(x), restore


def _warp_args(interpolation, fill_mode=None):
    """The sampling order of a warp's ``interpolation``, after checking both arguments."""
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                         f"{{'nearest', 'bilinear'}}. Received: interpolation={interpolation}")
    if fill_mode is not None and fill_mode not in FILL_MODES:
        raise ValueError("Invalid value for argument `fill_mode`. Expected of one "
                         f"{set(FILL_MODES)}. Received: fill_mode={fill_mode}")
    return 0 if interpolation == "nearest" else 1


@op
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Sample each output pixel (x, y) at input (a0 x + a1 y + a2, b0 x + b1 y + b2),
    transform = [a0, a1, a2, b0, b1, b2, c0, c1] per image."""
    order = _warp_args(interpolation, fill_mode)
    x, restore = _batch_nhwc(images, data_format)
    t = np.asarray(_v(transform))
    if t.ndim not in (1, 2):
        raise ValueError("Invalid transform rank: expected rank 1 (single transform) or rank 2 "
                         f"(batch of transforms). Received input with shape: "
                         f"transform.shape={t.shape}")
    t = t.reshape(-1, 8)
    if np.any(t[:, 6:] != 0):
        # Keras's backends disagree on the projective terms (JAX ignores the division)
        raise NotImplementedError("ops.image.affine_transform: nonzero projective terms "
                                  "(c0, c1) are not supported by ckeras.")
    b, h, w, c = np.shape(_v(x))
    if t.shape[0] not in (1, b):
        raise ValueError(f"ops.image.affine_transform: {t.shape[0]} transforms for {b} images.")
    t = np.broadcast_to(t, (b, 8))
    # coordinates in the images' precision, summed in Keras's order: an exact
    # x.5 must round as it does there
    dt = np.asarray(_v(x)).dtype
    t = t.astype(dt)
    yy, xx = np.meshgrid(np.arange(h, dtype=dt), np.arange(w, dtype=dt), indexing="ij")
    sy = (yy * t[:, 4, None, None] + xx * t[:, 3, None, None]) + t[:, 5, None, None]
    sx = (yy * t[:, 1, None, None] + xx * t[:, 0, None, None]) + t[:, 2, None, None]
    return restore(_sample_batched(x, sy, sx, order, fill_mode, fill_value))


def _sample_batched(x, sy, sx, order, fill_mode, fill_value):
    """(B, H, W, C) images at per-image (B, h, w) coordinates -> (B, h, w, C)."""
    b = np.shape(_v(x))[0]
    bidx = np.broadcast_to(np.arange(b)[:, None, None], sy.shape)
    out = None
    shape = np.shape(_v(x))
    axes = []
    for cv, n in ((sy, shape[1]), (sx, shape[2])):
        if order == 0:
            taps = [(_round_half_away(cv).astype(np.int64), None)]
        else:
            lo = np.floor(cv)
            frac = cv - lo
            taps = [(lo.astype(np.int64), 1 - frac), (lo.astype(np.int64) + 1, frac)]
        axes.append([fix_index(i, n, fill_mode) + (w,) for i, w in taps])
    for (iy, vy, wy), (ix, vx, wx) in _product(axes):
        vals = _a.getitem(x, (bidx, iy, ix))
        valid = vy if vx is None else (vx if vy is None else vy & vx)
        if valid is not None:
            vals = _a.where(valid[..., None], vals, fill_value)
        if wy is not None:
            vals = _a.multiply(vals, (wy * wx)[..., None].astype(np.asarray(_v(vals)).dtype))
        out = vals if out is None else _a.add(out, vals)
    return out


@op
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Resample at (x, y) + alpha * smoothed noise, the noise a standard normal
    field times sigma blurred by a Gaussian of width sigma. As Keras on JAX, one
    noise field moves both x and y (its two draws share the seed); the values
    come from ckeras's generator, so they differ from Keras's for a given seed."""
    from ckeras import random as _random
    order = _warp_args(interpolation, fill_mode)
    x, restore = _batch_nhwc(images, data_format)
    b, h, w, _ = np.shape(_v(x))
    dt = np.asarray(_v(x)).dtype
    size = int(6 * sigma) | 1
    noise = np.asarray(_random.normal((b, h, w, 1), dtype=dt.name, seed=seed)) * sigma
    d = np.asarray(gaussian_blur(noise, size, float(sigma)))[..., 0]
    xx, yy = np.meshgrid(np.arange(w, dtype=dt), np.arange(h, dtype=dt))
    return restore(_sample_batched(x, yy + alpha * d, xx + alpha * d, order, fill_mode,
                                   fill_value))


def _homography(start, end):
    """The 8 coefficients mapping each output point in ``end`` to its ``start``."""
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    zeros, ones = np.zeros_like(ex), np.ones_like(ex)
    rows_x = np.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], axis=-1)
    rows_y = np.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], axis=-1)
    a = np.concatenate([rows_x, rows_y], axis=1)
    return np.linalg.solve(a, np.concatenate([sx, sy], axis=-1)[..., None])[..., 0]


@op
def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warp so that the 4 ``start_points`` (x, y) land on ``end_points``; outside
    the image reads ``fill_value``."""
    order = _warp_args(interpolation)
    x, restore = _batch_nhwc(images, data_format)
    start = np.asarray(_v(start_points), np.float32)
    end = np.asarray(_v(end_points), np.float32)
    for pts, n in ((start, "start_points"), (end, "end_points")):
        if pts.shape[-2:] != (4, 2) or pts.ndim not in (2, 3):
            raise ValueError(f"Invalid {n} shape: expected (4, 2) or (batch, 4, 2). "
                             f"Received {n}.shape={pts.shape}")
    if start.shape != end.shape:
        raise ValueError("start_points and end_points must have the same shape.")
    b, h, w, _ = np.shape(_v(x))
    t = _homography(start.reshape(-1, 4, 2), end.reshape(-1, 4, 2)).astype(np.float32)
    t = np.broadcast_to(t, (b, 8))[:, :, None, None]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    denom = t[:, 6] * xx + t[:, 7] * yy + 1.0
    sx = (t[:, 0] * xx + t[:, 1] * yy + t[:, 2]) / denom
    sy = (t[:, 3] * xx + t[:, 4] * yy + t[:, 5]) / denom
    return restore(_sample_batched(x, sy, sx, order, "constant", fill_value))


# ---- patches and filters --------------------------------------------------------------------

def _patches(images, size, strides, dilation_rate, padding, data_format, nd):
    fmt = _fmt(data_format)
    shape = np.shape(_v(images))
    if len(shape) not in (nd + 1, nd + 2):
        raise ValueError(f"extract_patches: expected images of rank {nd + 1} or {nd + 2}, got "
                         f"shape {shape}.")
    size = (int(size),) * nd if isinstance(size, (int, np.integer)) else tuple(size)
    if len(size) != nd:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length {nd}. "
                        f"Received: size={size}")
    strides = size if not strides else strides
    x = images if len(shape) == nd + 2 else _a.expand_dims(images, 0)
    if fmt == "channels_first":
        x = _a.moveaxis(x, 1, -1)
    nd_strides = _nn._tuple(strides, nd)
    p = _nn._window_patches(x, size, nd_strides, _nn._tuple(dilation_rate, nd), padding.lower())
    ps = np.shape(_v(p))
    y = _a.reshape(p, ps[:1 + nd] + (int(np.prod(ps[1 + nd:])),))   # taps then channels
    if fmt == "channels_first":
        y = _a.moveaxis(y, -1, 1)
    return y if len(shape) == nd + 2 else _a.squeeze(y, 0)


@op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """(B, H, W, C) -> (B, oh, ow, ph*pw*C) patches (a 3-element size: extract_patches_3d)."""
    if not isinstance(size, (int, np.integer)) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    return _patches(images, size, strides, dilation_rate, padding, data_format, 2)


@op
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """(B, D, H, W, C) -> (B, od, oh, ow, pd*ph*pw*C) patches."""
    return _patches(volumes, size, strides, dilation_rate, padding, data_format, 3)


def _depthwise_same(images, kernel2d, data_format):
    """Per-channel 'same' cross-correlation with one 2-D kernel."""
    x, restore = _batch_nhwc(images, data_format)
    c = np.shape(_v(x))[-1]
    k = np.repeat(kernel2d[:, :, None, None], c, axis=2).astype(np.asarray(_v(x)).dtype)
    return restore(_nn.depthwise_conv(x, k, padding="same"))


@op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Gaussian blur with 'same' zero padding. As Keras, the 2-D kernel is
    outer(g(kernel_size[1], sigma[1]), g(kernel_size[0], sigma[0])) over (rows, columns)."""
    ks = (int(kernel_size),) * 2 if isinstance(kernel_size, (int, np.integer)) else kernel_size
    sg = (float(sigma),) * 2 if isinstance(sigma, (int, float)) else sigma

    def g(n, s):
        t = np.arange(n) - (n - 1) / 2
        e = np.exp(-0.5 * (t / s) ** 2)
        return e / e.sum()
    return _depthwise_same(images, np.outer(g(ks[1], sg[1]), g(ks[0], sg[0])), data_format)


@op
def sobel_edges(images, data_format=None):
    """(..., 2) = (d/dy, d/dx) Sobel responses per channel ('same' zero padding)."""
    kx = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    return _a.stack([_depthwise_same(images, kx.T, data_format),
                     _depthwise_same(images, kx, data_format)], axis=-1)


@op
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """Mean structural similarity per image (Gaussian window, 'valid' positions)."""
    fmt = _fmt(data_format)
    s1, s2 = np.shape(_v(image1)), np.shape(_v(image2))
    for s_, n in ((s1, "image1"), (s2, "image2")):
        if len(s_) not in (3, 4):
            raise ValueError(f"Invalid {n} rank: expected rank 3 (single image) or rank 4 "
                             f"(batch of images). Received input with shape: {n}.shape={s_}")
    xs = []
    for im in (image1, image2):
        im = _to_float(im if len(s1) == 4 else _a.expand_dims(im, 0))
        xs.append(_a.moveaxis(im, 1, -1) if fmt == "channels_first" else im)
    x1, x2 = xs
    dt = np.asarray(_v(x1)).dtype
    t = np.arange(filter_size) - (filter_size - 1) / 2
    g = np.exp(-t ** 2 / (2 * filter_sigma ** 2))
    g = g / g.sum()
    c = np.shape(_v(x1))[-1]
    kernel = np.repeat(np.outer(g, g)[:, :, None, None], c, axis=2).astype(dt)

    def blur(a):
        return _nn.depthwise_conv(a, kernel, padding="valid")
    mu1, mu2 = blur(x1), blur(x2)
    mu1_sq, mu2_sq, mu12 = _a.square(mu1), _a.square(mu2), _a.multiply(mu1, mu2)
    var1 = _a.subtract(blur(_a.square(x1)), mu1_sq)
    var2 = _a.subtract(blur(_a.square(x2)), mu2_sq)
    cov = _a.subtract(blur(_a.multiply(x1, x2)), mu12)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    num = _a.multiply(_a.add(_a.multiply(2.0, mu12), c1), _a.add(_a.multiply(2.0, cov), c2))
    den = _a.multiply(_a.add(_a.add(mu1_sq, mu2_sq), c1), _a.add(_a.add(var1, var2), c2))
    per_image = _a.mean(_a.divide(num, den), axis=(1, 2, 3))
    return per_image if len(s1) == 4 else _a.squeeze(per_image, 0)
