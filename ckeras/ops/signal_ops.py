"""Keras 3's ``keras.ops.math`` Fourier transforms and framing.

ckeras computes on real arrays, and so does Keras's API here: a complex
signal is a ``(real, imag)`` pair of float tensors, and the transforms return
such pairs (``irfft`` a real tensor). Each transform is linear, so its
backward is its adjoint: for ``y = F z`` the gradient of ``z`` (as
``d/d re + i d/d im``) is ``F^H g``. One tape node computes both parts as a
stacked ``(2, ...)`` value; the two outputs are recorded slices of it.
"""
import functools

import numpy as np

from ckeras.ops import array_ops as _a
from ckeras.ops.array_ops import _record, _tape, _need, _v, op

_takes_pair = functools.partial(op, takes_lists=True)   # x is (real, imag), not one list

__all__ = ["fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft", "extract_sequences",
           "view_as_real", "view_as_complex"]


def _pair(x, name):
    """The (real, imag) inputs, checked as Keras checks them."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"ops.{name}: x must be a tuple of two tensors (real, imag), got "
                         f"{type(x).__name__}.")
    re, im = np.asarray(_v(x[0])), np.asarray(_v(x[1]))
    if re.shape != im.shape:
        raise ValueError(f"ops.{name}: the real and imaginary parts must have the same shape, "
                         f"got {re.shape} and {im.shape}.")
    if re.dtype.kind != "f" or im.dtype.kind != "f":
        raise ValueError(f"ops.{name}: both parts must be float tensors, got {re.dtype} and "
                         f"{im.dtype}.")
    return re, im


def _needs(parents):
    tape = _tape()
    need = [tape is not None and _need(tape, p) for p in parents]
    return (tape if any(need) else None), need


def _complex_out(parents, need, tape, y, dtype, adjoint):
    """(real, imag) of complex ``y``; backward: ``adjoint(G)`` for G = g_re + i g_im,
    split over the parents (one real parent takes the real part)."""
    stacked = np.stack([y.real, y.imag]).astype(dtype)
    if tape is None:
        return stacked[0], stacked[1]

    def back(g):
        g = np.asarray(g)
        dz = adjoint(g[0] + 1j * g[1])
        if len(parents) == 1:
            return (np.real(dz).astype(dtype),)
        return (np.real(dz).astype(dtype) if need[0] else None,
                np.imag(dz).astype(dtype) if need[1] else None)
    t = _record(tape, stacked, parents, need, back)
    return _a.getitem(t, 0), _a.getitem(t, 1)


def _complex_transform(x, name, forward, adjoint):
    """``forward`` of the complex signal ``x = (real, imag)``; ``adjoint(G, n)``
    its adjoint, n the number of points transformed."""
    re, im = _pair(x, name)
    tape, need = _needs(x)
    n = re.shape[-1] * (re.shape[-2] if name != "fft" else 1)
    return _complex_out(tuple(x), need, tape, forward(re + 1j * im), re.dtype,
                        lambda G: adjoint(G, n))


@_takes_pair
def fft(x):
    """The DFT along the last axis of the complex signal ``x = (real, imag)``."""
    return _complex_transform(x, "fft", np.fft.fft, lambda G, n: np.fft.ifft(G) * n)


@_takes_pair
def fft2(x):
    """The 2-D DFT over the last two axes of ``x = (real, imag)``."""
    return _complex_transform(x, "fft2", np.fft.fft2, lambda G, n: np.fft.ifft2(G) * n)


@_takes_pair
def ifft2(x):
    """The inverse 2-D DFT over the last two axes of ``x = (real, imag)``."""
    return _complex_transform(x, "ifft2", np.fft.ifft2, lambda G, n: np.fft.fft2(G) / n)


def _fit_length(a, n):
    """``a`` cut or zero-padded to length n on the last axis (what numpy's n= does)."""
    if a.shape[-1] >= n:
        return a[..., :n]
    return np.concatenate([a, np.zeros(a.shape[:-1] + (n - a.shape[-1],), a.dtype)], -1)


@op
def rfft(x, fft_length=None):
    """The DFT of a real signal along its last axis: the n//2 + 1 non-negative
    frequencies as (real, imag); ``fft_length`` cuts or zero-pads the signal."""
    a = np.asarray(_v(x))
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    m = a.shape[-1]
    n = m if fft_length is None else int(fft_length)
    tape, need = _needs((x,))

    def adjoint(G):
        # the full spectrum's adjoint on G zero-padded to n bins, back to m samples
        return _fit_length(np.fft.ifft(_fit_length(G, n)) * n, m)
    return _complex_out((x,), need, tape, np.fft.rfft(a, n=n), a.dtype, adjoint)


@_takes_pair
def irfft(x, fft_length=None):
    """The real signal whose rfft is ``x = (real, imag)`` (length ``fft_length``,
    by default 2 (bins - 1))."""
    re, im = _pair(x, "irfft")
    bins = re.shape[-1]
    n = 2 * (bins - 1) if fft_length is None else int(fft_length)
    y = np.fft.irfft(re + 1j * im, n=n).astype(re.dtype)
    tape, need = _needs(x)
    if tape is None:
        return y
    used = n // 2 + 1
    weight = np.full(used, 2.0)   # interior bins appear twice in the real signal
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0

    def back(g):
        dz = _fit_length(np.fft.rfft(np.asarray(g), n=n) * weight / n, bins)
        return (np.real(dz).astype(re.dtype) if need[0] else None,
                np.imag(dz).astype(re.dtype) if need[1] else None)
    return _record(tape, y, tuple(x), need, back)


@op
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` every ``sequence_stride`` along the last
    axis: (..., N) -> (..., 1 + (N - length) // stride, length)."""
    a = np.asarray(_v(x))
    n = a.shape[-1]
    length, stride = int(sequence_length), int(sequence_stride)
    if length <= 0 or stride <= 0 or length > n:
        raise ValueError(f"ops.extract_sequences: need 0 < sequence_length <= {n} and a "
                         f"positive sequence_stride, got {sequence_length} and "
                         f"{sequence_stride}.")
    count = 1 + (n - length) // stride
    index = np.arange(count)[:, None] * stride + np.arange(length)[None, :]
    return _a.take(x, index, axis=-1)


@op
def view_as_real(x):
    """A complex array as (..., 2) real and imaginary parts."""
    a = np.asarray(_v(x))
    return np.stack([np.real(a), np.imag(a)], axis=-1)


@op
def view_as_complex(x):
    """A (..., 2) real array as complex numbers (no gradient: ckeras's tape is real)."""
    a = np.asarray(_v(x))
    if a.ndim < 1 or a.shape[-1] != 2:
        raise ValueError(f"ops.view_as_complex: the last dimension must be 2 (real, imag), "
                         f"got shape {a.shape}.")
    return a[..., 0] + 1j * a[..., 1]


# ---- short-time Fourier transforms ------------------------------------------------------

def _stft_window(window, sequence_length, fft_length, dtype, name):
    """The analysis window, centred in fft_length by zero padding (ones for None)."""
    if window is None:
        return np.ones(fft_length, dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"ops.{name}: a string window must be 'hann' or 'hamming', got "
                             f"{window!r}.")
        import scipy.signal
        win = scipy.signal.get_window(window, sequence_length)   # periodic, as Keras's
    else:
        win = np.asarray(_v(window))
    if win.ndim != 1 or win.shape[0] != sequence_length:
        raise ValueError(f"ops.{name}: the window must have shape ({sequence_length},), got "
                         f"{win.shape}.")
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left)).astype(dtype)


def _reflect_pad(x, p):
    """numpy's 'reflect' padding of the last axis by p, from recorded slices."""
    if p == 0:
        return x
    left = _a.getitem(x, (Ellipsis, slice(p, 0, -1)))
    right = _a.getitem(x, (Ellipsis, slice(-2, -p - 2, -1)))
    return _a.concatenate([left, x, right], axis=-1)


@op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """(real, imag) of the rfft of windowed frames, shape (..., frames, fft_length//2 + 1).

    Frames of fft_length every sequence_stride samples (the signal reflected by
    fft_length//2 at both ends when ``center``), each times the window."""
    a = np.asarray(_v(x))
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"ops.stft: x must be float32 or float64, got {a.dtype}.")
    if fft_length < sequence_length:
        raise ValueError(f"ops.stft: fft_length ({fft_length}) must be at least "
                         f"sequence_length ({sequence_length}).")
    win = _stft_window(window, sequence_length, fft_length, a.dtype, "stft")
    if center:
        x = _reflect_pad(x, fft_length // 2)
    frames = _a.multiply(extract_sequences(x, fft_length, sequence_stride), win)
    return rfft(frames, fft_length)


def _overlap_add(frames, stride):
    """Sum frames (..., T, L) into a signal, frame t starting at t * stride."""
    f = np.asarray(_v(frames))
    count, length = f.shape[-2:]
    index = np.arange(count)[:, None] * stride + np.arange(length)[None, :]
    out = np.zeros(f.shape[:-2] + (length + stride * (count - 1),), f.dtype)
    np.add.at(out, (Ellipsis, index), f)
    tape, need = _needs((frames,))
    if tape is None:
        return out
    return _record(tape, out, (frames,), need, lambda g: (np.asarray(g)[..., index],))


@_takes_pair
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """The signal whose stft is ``x = (real, imag)``: the frames' irfft,
    windowed, overlap-added and divided by the summed squared window."""
    re, _ = _pair(x, "istft")
    win = _stft_window(window, sequence_length, fft_length, re.dtype, "istft")
    frames = _a.multiply(irfft(x, fft_length), win)
    signal = _overlap_add(frames, sequence_stride)
    norm = _overlap_add(np.broadcast_to(win * win, (re.shape[-2], fft_length)),
                        sequence_stride)
    scale = win.sum() / (win.sum() if window is not None else sequence_stride)
    signal = _a.multiply(signal, (scale / np.where(norm > 1e-10, norm, 1.0)).astype(re.dtype))
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + int(length)
    elif center:
        end = -(fft_length // 2)
    else:
        end = None
    return _a.getitem(signal, (Ellipsis, slice(start, end)))
