"""Merge layers: combine a list of tensors (Concatenate, Add, Subtract,
Multiply, Average, Maximum, Minimum, Dot) and Keras's lower-case helpers
(``concatenate([a, b])`` == ``Concatenate()([a, b])``)."""
from ckeras.config import epsilon  # backend.set_epsilon reaches every use
import numpy as np

from ckeras.layers.layer import Layer, as_float32
from ckeras.ops.tape import unbroadcast



def _fmt(shapes):
    return "[" + ", ".join(str(tuple(s)) for s in shapes) + "]"


def _shapes_of_arrays(xs):
    return [(None,) + a.shape[1:] for a in xs]


def _broadcast_dims(layer, shapes):
    """Non-batch output shape of an elementwise merge (Keras's rules: trailing
    dims aligned, 1 and None broadcast)."""
    out = []
    rests = [tuple(s[1:]) for s in shapes]
    rank = max(len(r) for r in rests)
    for k in range(1, rank + 1):
        dims = {r[-k] for r in rests if len(r) >= k}
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}): inputs have "
                             f"incompatible shapes {_fmt(shapes)}; dimensions must be "
                             "equal or 1 to broadcast.")
        if known:
            out.append(known.pop())
        elif None in dims:
            out.append(None)
        else:
            out.append(1)
    return tuple(reversed(out))


class _Merge(Layer):
    """Elementwise merge of n >= 1 tensors with Keras broadcasting: a lower
    rank input gets new axes right after the batch axis."""
    min_inputs = 1
    max_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_shapes(self, input_shape):
        name = type(self).__name__
        if not isinstance(input_shape, list) or not input_shape or \
                not isinstance(input_shape[0], (tuple, list)):
            raise ValueError(f"Layer {self.name!r} ({name}) must be called on a list of "
                             f"inputs, got a single input of shape {input_shape}.")
        n = len(input_shape)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = (f"exactly {self.min_inputs}" if self.min_inputs == self.max_inputs
                    else f"at least {self.min_inputs}")
            raise ValueError(f"Layer {self.name!r} ({name}) expects {want} inputs, got "
                             f"{n}: {_fmt(input_shape)}.")

    def build(self, input_shape):
        self._check_shapes(input_shape)
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_shapes(input_shape)
        batch = {s[0] for s in input_shape if s[0] is not None}
        return ((batch.pop() if len(batch) == 1 else None),) + \
            _broadcast_dims(self, input_shape)

    def _prepare(self, x):
        """float arrays, lower ranks padded after the batch axis."""
        if not isinstance(x, (list, tuple)):
            x = [x]
        xs = [as_float32(np.asarray(a)) for a in x]
        shapes = _shapes_of_arrays(xs)
        self.compute_output_shape(shapes)  # clear error before numpy's
        rank = max(a.ndim for a in xs)
        return [a.reshape(a.shape[:1] + (1,) * (rank - a.ndim) + a.shape[1:])
                if a.ndim < rank else a for a in xs]

    def forward(self, x, training=False, mask=None):
        orig = [np.shape(a) for a in x] if isinstance(x, (list, tuple)) else [np.shape(x)]
        xs = self._prepare(x)
        y, grads = self._merge(xs)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            return [unbroadcast(g, p.shape).reshape(o)
                    for g, p, o in zip(grads(dy), xs, orig)]
        return y, backward

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"Layer {self.name!r}: `mask` should be a list, got {type(mask)}.")
        masks = [np.asarray(m, bool) for m in mask if m is not None]
        if not masks:
            return None
        out = masks[0]
        for m in masks[1:]:
            out = np.logical_and(out, m)
        return out

    def _merge(self, xs):
        """Return (y, grads) where grads(dy) lists d/dx_i at broadcast shape."""
        raise NotImplementedError


class Add(_Merge):
    def _merge(self, xs):
        y = xs[0]
        for a in xs[1:]:
            y = y + a
        return y, lambda dy: [dy] * len(xs)


class Subtract(_Merge):
    min_inputs = max_inputs = 2

    def _merge(self, xs):
        return xs[0] - xs[1], lambda dy: [dy, -dy]


class Multiply(_Merge):
    def _merge(self, xs):
        y = xs[0]
        for a in xs[1:]:
            y = y * a

        def grads(dy):
            # Product of the others, not y / x_i: exact when some x_i is zero.
            out = []
            for i in range(len(xs)):
                g = dy
                for j, a in enumerate(xs):
                    if j != i:
                        g = g * a
                out.append(g)
            return out
        return y, grads


class Average(_Merge):
    def _merge(self, xs):
        y = xs[0]
        for a in xs[1:]:
            y = y + a
        n = len(xs)
        y = y / np.asarray(n, y.dtype)
        return y, lambda dy: [dy / np.asarray(n, dy.dtype)] * n


class _Extremum(_Merge):
    """Maximum / Minimum: the gradient goes to the winning input; on ties to
    the first one (as TF's maximum(a, b) gradient, chained left to right)."""
    reduce = None

    def _merge(self, xs):
        y = xs[0]
        for a in xs[1:]:
            y = type(self).reduce(y, a)

        def grads(dy):
            free = np.ones(y.shape, bool)
            out = []
            for a in xs:
                win = (a == y) & free
                free &= ~win
                out.append(np.where(win, dy, np.zeros((), dy.dtype)))
            return out
        return y, grads


class Maximum(_Extremum):
    reduce = np.maximum


class Minimum(_Extremum):
    reduce = np.minimum


class Concatenate(Layer):
    """Joins inputs along ``axis``; all other dimensions must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.supports_masking = True

    def _axis(self, rank):
        if not -rank <= self.axis < rank:
            raise ValueError(f"Layer {self.name!r} (Concatenate): axis={self.axis} is out "
                             f"of range for inputs of rank {rank}.")
        return self.axis % rank

    def _check(self, shapes):
        if not isinstance(shapes, list) or not shapes or \
                not isinstance(shapes[0], (tuple, list)):
            raise ValueError(f"Layer {self.name!r} (Concatenate) must be called on a list "
                             f"of inputs, got a single input of shape {shapes}.")
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"Layer {self.name!r} (Concatenate) requires inputs of the same "
                             f"rank, got shapes {_fmt(shapes)}.")
        axis = self._axis(ranks.pop())
        for d in range(len(shapes[0])):
            if d == axis:
                continue
            dims = {s[d] for s in shapes if s[d] is not None}
            if len(dims) > 1:
                raise ValueError(
                    f"Layer {self.name!r} (Concatenate) requires inputs with matching "
                    f"shapes except for the concatenation axis {self.axis}, got shapes "
                    f"{_fmt(shapes)}.")
        return axis

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        axis = self._check(input_shape)
        out = []
        for d in range(len(input_shape[0])):
            dims = [s[d] for s in input_shape]
            if d == axis:
                out.append(None if None in dims else int(sum(dims)))
            else:
                known = [v for v in dims if v is not None]
                out.append(known[0] if known else None)
        return tuple(out)

    def forward(self, x, training=False, mask=None):
        xs = [as_float32(np.asarray(a)) for a in x]
        axis = self._check([a.shape for a in xs])
        y = np.concatenate(xs, axis=axis)
        splits = np.cumsum([a.shape[axis] for a in xs])[:-1]

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            return [np.ascontiguousarray(p) for p in np.split(dy, splits, axis=axis)]
        return y, backward

    def compute_mask(self, inputs, mask=None):
        # Keras: missing masks count as all-True, then "any" over the last axis.
        if mask is None or all(m is None for m in mask):
            return None
        parts = []
        for a, m in zip(inputs, mask):
            a_shape = np.shape(a)
            if m is None:
                parts.append(np.ones(a_shape, bool))
            elif np.ndim(m) < len(a_shape):
                parts.append(np.broadcast_to(np.asarray(m, bool)[..., None], a_shape))
            else:
                parts.append(np.asarray(m, bool))
        return np.any(np.concatenate(parts, axis=self._axis(len(np.shape(inputs[0])))),
                      axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(Layer):
    """Batched dot product of two tensors over ``axes`` (optionally cosine:
    ``normalize=True`` L2-normalises both along those axes first)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Dot: `axes` must be an int or a pair of ints, got {axes!r}.")
            axes = (int(axes[0]), int(axes[1]))
        elif not isinstance(axes, (int, np.integer)):
            raise TypeError(f"Dot: `axes` must be an int or a pair of ints, got {axes!r}.")
        else:
            axes = int(axes)
        self.axes = axes
        self.normalize = bool(normalize)

    def _resolve(self, shapes):
        if not isinstance(shapes, list) or len(shapes) != 2 or \
                not isinstance(shapes[0], (tuple, list)):
            raise ValueError(f"Layer {self.name!r} (Dot) must be called on a list of exactly "
                             f"2 inputs, got {shapes}.")
        r1, r2 = len(shapes[0]), len(shapes[1])
        if r1 < 2 or r2 < 2:
            raise ValueError(f"Layer {self.name!r} (Dot): inputs need rank >= 2 (batch "
                             f"first), got shapes {_fmt(shapes)}.")
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        a1, a2 = axes[0] % r1, axes[1] % r2
        if a1 == 0 or a2 == 0:
            raise ValueError(f"Layer {self.name!r} (Dot): cannot contract the batch axis "
                             f"(axes={self.axes!r}).")
        d1, d2 = shapes[0][a1], shapes[1][a2]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"Layer {self.name!r} (Dot): incompatible input shapes "
                             f"{_fmt(shapes)}: axis {a1} of input 0 has size {d1} but "
                             f"axis {a2} of input 1 has size {d2} (axes={self.axes!r}).")
        return a1, a2

    def build(self, input_shape):
        self._resolve(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        a1, a2 = self._resolve(input_shape)
        s1 = [d for i, d in enumerate(input_shape[0]) if i != a1]
        s2 = [d for i, d in enumerate(input_shape[1]) if i not in (0, a2)]
        out = s1 + s2
        return tuple(out + [1] if len(out) == 1 else out)

    def forward(self, x, training=False, mask=None):
        x1, x2 = (as_float32(np.asarray(a)) for a in x)
        a1, a2 = self._resolve([x1.shape, x2.shape])
        n1, back1 = _l2_normalize(x1, a1) if self.normalize else (x1, None)
        n2, back2 = _l2_normalize(x2, a2) if self.normalize else (x2, None)
        # (B, P, K) @ (B, K, Q): contracted axis last in x1, first in x2.
        m1 = np.moveaxis(n1, a1, -1)
        m2 = np.moveaxis(n2, a2, 1)
        b = x1.shape[0]
        k = m1.shape[-1]
        p_shape, q_shape = m1.shape[1:-1], m2.shape[2:]
        l = m1.reshape(b, -1, k)
        r = m2.reshape(b, k, -1)
        out = np.matmul(l, r)
        y = out.reshape((b,) + p_shape + q_shape)
        if y.ndim == 1:
            y = y.reshape(b, 1)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            d = dy.reshape(out.shape)
            dl = np.matmul(d, r.transpose(0, 2, 1)).reshape(m1.shape)
            dr = np.matmul(l.transpose(0, 2, 1), d).reshape(m2.shape)
            dn1 = np.moveaxis(dl, -1, a1)
            dn2 = np.moveaxis(dr, 1, a2)
            if self.normalize:
                dn1, dn2 = back1(dn1), back2(dn2)
            return [np.ascontiguousarray(dn1), np.ascontiguousarray(dn2)]
        return y, backward

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config["axes"] = list(self.axes) if isinstance(self.axes, tuple) else self.axes
        config["normalize"] = self.normalize
        return config


def _l2_normalize(x, axis):
    """x * min(1/||x||, 1/eps) along axis, and its backward."""
    norm = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    big = norm > epsilon()
    inv = np.where(big, 1.0 / np.maximum(norm, epsilon()), 1.0 / epsilon()).astype(x.dtype)
    y = x * inv

    def backward(dy):
        # Where the norm is clipped the scale is constant: dx = dy / eps.
        proj = np.sum(dy * y, axis=axis, keepdims=True)
        return np.where(big, (dy - y * proj) * inv, dy * inv)
    return y, backward


# ---- functional helpers (keras.layers.add([a, b]), ...) -------------------------
def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
