"""keras.ops.math's Fourier transforms on (real, imag) pairs and framing:
values against numpy.fft, gradients (the adjoints) against central differences."""
import functools

import numpy as np
import pytest

import ckeras as keras
from ckeras import ops
from ckeras.testing import check_op_gradients

RNG = np.random.default_rng(5)


check = functools.partial(check_op_gradients, rng=RNG)


@pytest.mark.parametrize("name,np_fn", [("fft", np.fft.fft), ("fft2", np.fft.fft2),
                                        ("ifft2", np.fft.ifft2)])
def test_complex_transforms(name, np_fn):
    re, im = RNG.standard_normal((2, 3, 5)), RNG.standard_normal((2, 3, 5))
    f = getattr(ops, name)
    got = f((re.astype(np.float32), im.astype(np.float32)))
    want = np_fn(re + 1j * im)
    np.testing.assert_allclose(got[0], want.real, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], want.imag, rtol=1e-5, atol=1e-5)
    assert got[0].dtype == np.float32
    check(lambda a, b: f((a, b)), re, im)
    check(lambda a: f((a, np.zeros_like(re))), re)     # only the real part on the tape


@pytest.mark.parametrize("n,fft_length", [(8, None), (7, None), (8, 6), (5, 9), (6, 7)])
def test_rfft_irfft(n, fft_length):
    x = RNG.standard_normal((2, n))
    re, im = ops.rfft(x, fft_length)
    want = np.fft.rfft(x, n=fft_length)
    np.testing.assert_allclose(re, want.real, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(im, want.imag, rtol=1e-12, atol=1e-12)
    check(lambda a: ops.rfft(a, fft_length), x)
    back = ops.irfft((re, im), fft_length)
    np.testing.assert_allclose(back, np.fft.irfft(want, n=fft_length), rtol=1e-12, atol=1e-12)
    spec_re, spec_im = RNG.standard_normal((2, 2, 5))
    for m in (None, 8, 9, 6, 12):
        np.testing.assert_allclose(ops.irfft((spec_re, spec_im), m),
                                   np.fft.irfft(spec_re + 1j * spec_im, n=m), rtol=1e-12,
                                   atol=1e-12)
        check(lambda a, b: ops.irfft((a, b), m), spec_re, spec_im)


def test_pair_errors_and_views():
    with pytest.raises(ValueError, match="tuple of two"):
        ops.fft(np.ones(4))
    with pytest.raises(ValueError, match="same shape"):
        ops.fft((np.ones(4), np.ones(3)))
    with pytest.raises(ValueError, match="float"):
        ops.fft((np.ones(4, np.int32), np.ones(4, np.int32)))
    z = np.array([1 + 2j, 3 - 4j])
    np.testing.assert_array_equal(ops.view_as_real(z), [[1, 2], [3, -4]])
    np.testing.assert_array_equal(ops.view_as_complex(ops.view_as_real(z)), z)
    with pytest.raises(ValueError, match="last dimension"):
        ops.view_as_complex(np.ones((2, 3)))


def test_extract_sequences():
    x = RNG.standard_normal((2, 3, 11))
    got = ops.extract_sequences(x, 4, 3)
    want = np.stack([x[..., i:i + 4] for i in range(0, 8, 3)], axis=-2)
    np.testing.assert_array_equal(got, want)
    assert got.shape == (2, 3, 3, 4)
    check(lambda a: ops.extract_sequences(a, 4, 2), x[0])
    with pytest.raises(ValueError, match="sequence_length"):
        ops.extract_sequences(x, 12, 1)


def test_fft_on_keras_tensors():
    inp = keras.Input((8,))
    re, im = ops.fft((inp, ops.zeros_like(inp)))
    power = ops.sqrt(re * re + im * im)
    model = keras.Model(inp, power)
    x = RNG.standard_normal((3, 8)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.abs(np.fft.fft(x)), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("window,center", [("hann", True), ("hamming", False), (None, True)])
def test_stft_istft_round_trip_and_gradients(window, center):
    x = RNG.standard_normal((2, 30))
    re, im = ops.stft(x, 8, 3, 10, window=window, center=center)
    assert re.shape == (2, 1 + (30 + (10 if center else 0) - 10) // 3, 6)
    if center and window is not None:
        # the reflected ends cover every sample: the inverse is exact (without a
        # window Keras scales by 1/sequence_stride instead; the golden test has it)
        np.testing.assert_allclose(ops.istft((re, im), 8, 3, 10, length=30, window=window),
                                   x, atol=1e-10)
    check(lambda a: ops.stft(a, 8, 3, 10, window=window, center=center), x)
    check(lambda a, b: ops.istft((a, b), 8, 3, 10, window=window, center=center), re, im)


def test_stft_arguments():
    x = np.ones(20, np.float32)
    with pytest.raises(ValueError, match="'hann' or 'hamming'"):
        ops.stft(x, 4, 2, 4, window="blackman")
    with pytest.raises(ValueError, match="fft_length"):
        ops.stft(x, 8, 2, 4)
    with pytest.raises(ValueError, match="window must have shape"):
        ops.stft(x, 4, 2, 4, window=np.ones(3))
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.stft(np.ones(20, np.int32), 4, 2, 4)
    custom = np.linspace(0.5, 1, 4)
    re, im = ops.stft(x, 4, 2, 6, window=custom, center=False)
    frames = np.stack([x[i:i + 6] * np.pad(custom, (1, 1)) for i in range(0, 15, 2)])
    np.testing.assert_allclose(re, np.fft.rfft(frames).real, rtol=1e-6, atol=1e-6)
