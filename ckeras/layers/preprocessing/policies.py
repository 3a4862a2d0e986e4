"""Augmentation policies of Keras 3 built from the other augmentation layers
(training only): RandAugment (``num_ops`` operations drawn per batch) and
AugMix (a blend of ``num_chains`` random chains of operations with the
original). The operations and their strengths are Keras's: each sub-layer
gets ``factor`` (posterization: max(1, int(8 * factor[1])) bits)."""
import numpy as np

from ckeras.layers.preprocessing.color import (AutoContrast, Equalization,
                                               RandomColorDegeneration, RandomPosterization,
                                               RandomSharpness, Solarization, _ColorAugmentation)
from ckeras.layers.preprocessing.geometry import RandomShear
from ckeras.layers.preprocessing.image import (RandomBrightness, RandomContrast, RandomRotation,
                                               RandomTranslation, _check_choice, _factor_range)

_GEOMETRIC = ("random_shear", "random_translation", "random_rotation")
_TONE = ("random_posterization", "solarization", "auto_contrast", "equalization")
_COLOR = ("random_brightness", "random_color_degeneration", "random_contrast",
          "random_sharpness")
_RAND_AUGMENT_ORDER = _GEOMETRIC + ("random_brightness", "random_color_degeneration",
                                    "random_contrast", "random_sharpness",
                                    "random_posterization", "solarization", "auto_contrast",
                                    "equalization")


def _operations(factor, value_range, interpolation, seed, names):
    """The sub-layers, by Keras's attribute names."""
    vr = value_range
    make = {
        "random_shear": lambda: RandomShear(x_factor=factor, y_factor=factor,
                                            interpolation=interpolation, seed=seed),
        "random_translation": lambda: RandomTranslation(factor, factor,
                                                        interpolation=interpolation, seed=seed),
        "random_rotation": lambda: RandomRotation(factor, interpolation=interpolation,
                                                  seed=seed),
        "random_brightness": lambda: RandomBrightness(factor, value_range=vr, seed=seed),
        "random_color_degeneration": lambda: RandomColorDegeneration(factor, vr, seed=seed),
        "random_contrast": lambda: RandomContrast(factor, value_range=vr, seed=seed),
        "random_sharpness": lambda: RandomSharpness(factor, vr, seed=seed),
        "solarization": lambda: Solarization(factor, factor, vr, seed=seed),
        "random_posterization": lambda: RandomPosterization(max(1, int(8 * factor[1])), vr,
                                                            seed=seed),
        "auto_contrast": lambda: AutoContrast(vr),
        "equalization": lambda: Equalization(vr),
    }
    return {name: make[name]() for name in names}


def _apply(layer, b):
    return layer._augment(b)[0].astype(np.float32, copy=False)


class _Policy(_ColorAugmentation):
    def __init__(self, value_range, factor, interpolation, seed, data_format, names, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        name = type(self).__name__
        self.value_range = value_range
        self.factor = _factor_range(name, "factor", factor, (0, 1))
        self.interpolation = _check_choice(name, "interpolation", interpolation,
                                           {"bilinear", "nearest"})
        self._names = list(names)
        self._ops = _operations(self.factor, value_range, interpolation, seed, self._names)

    def _sample(self, n):
        return None


class RandAugment(_Policy):
    """Apply ``num_ops`` operations, each drawn uniformly (with repeats) from
    Keras's eleven, to the whole batch."""

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):
        if isinstance(num_ops, bool) or not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError(f"RandAugment: `num_ops` must be a non-negative integer, got "
                             f"{num_ops!r}.")
        super().__init__(value_range, factor, interpolation, seed, data_format,
                         _RAND_AUGMENT_ORDER, **kwargs)
        self.num_ops = num_ops

    def _augment(self, b):
        picks = self._generator().integers(0, len(self._names), self.num_ops)
        for i in picks:
            b = _apply(self._ops[self._names[i]], b)
        return b, [self._names[i] for i in picks]

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "num_ops": self.num_ops,
                       "factor": list(self.factor), "interpolation": self.interpolation,
                       "seed": self.seed})
        return config


class AugMix(_Policy):
    """w·x + (1 - w)·Σ_k m_k chain_k(x), clipped to value_range: w ~ Beta(alpha,
    alpha), m ~ Dirichlet(alpha), each chain ``chain_depth`` draws from the
    operations or none (``all_ops=False``: the geometric and tone ones only)."""

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3,
                 alpha=1.0, all_ops=True, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        for arg, value in (("num_chains", num_chains), ("chain_depth", chain_depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"AugMix: `{arg}` must be a positive integer, got {value!r}.")
        if not alpha > 0:
            raise ValueError(f"AugMix: `alpha` must be positive, got {alpha!r}.")
        names = _GEOMETRIC + _TONE + (_COLOR if all_ops else ())
        super().__init__(value_range, factor, interpolation, seed, data_format, names,
                         **kwargs)
        self.num_chains, self.chain_depth = num_chains, chain_depth
        self.alpha, self.all_ops = alpha, bool(all_ops)

    def _augment(self, b):
        rng = self._generator()
        gammas = rng.gamma(self.alpha, size=self.num_chains)
        weights = gammas / gammas.sum()
        keep = rng.beta(self.alpha, self.alpha)
        mixed = np.zeros_like(b)
        chains = []
        for k in range(self.num_chains):
            chain = b
            picks = rng.integers(0, len(self._names) + 1, self.chain_depth)
            names = [self._names[i] for i in picks if i < len(self._names)]   # last: none
            for name in names:
                chain = _apply(self._ops[name], chain)
            mixed = mixed + chain * np.float32(weights[k])
            chains.append(names)
        out = np.clip(np.float32(keep) * b + np.float32(1 - keep) * mixed, *self.value_range)
        return out, chains

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "num_chains": self.num_chains,
                       "chain_depth": self.chain_depth, "factor": list(self.factor),
                       "alpha": self.alpha, "all_ops": self.all_ops,
                       "interpolation": self.interpolation, "seed": self.seed})
        return config
