"""Reverse-mode automatic differentiation: the tape and the tensors on it.

While a tape records (``GradientTape``, or a custom layer's ``forward`` run by
the trainer), every ``ckeras.ops`` call whose inputs need a gradient returns a
``Tensor`` and appends one node ``(output, parents, backward)``; ``backward(g)``
is the op's vector-Jacobian product, written beside its forward, returning one
gradient per parent (None for a parent that needs none). A built-in layer is a
single node whose backward is its own fused ``backward`` closure.

Gradients of ``Variable``s are *added* into ``Variable.grad`` (the house
contract the trainer and the built-in layers share); ``GradientTape.gradient``
zeroes those buffers first and hands back copies. Outside a tape the ops
return plain numpy arrays and record nothing.

Only first-order gradients: the backward closures compute with numpy, not on
the tape.
"""
import numpy as np

from ckeras.ops import operators as _operators
from ckeras.ops.operators import OperatorMixin
from ckeras.variables import Variable

_stack = []   # recording tapes, innermost last; None pauses recording


def unbroadcast(g, shape):
    """Sum a broadcast gradient back to ``shape`` (also the merge layers')."""
    gs = np.shape(g)
    if gs == shape:
        return g
    g = np.asarray(g)
    lead = len(gs) - len(shape)
    if lead > 0:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


class Tensor(OperatorMixin):
    """A value computed on a tape: numpy accepts it, ``.numpy()`` reads it.

    ``value`` is the ndarray (or numpy scalar); ``_tape`` the token of the
    tape that can differentiate it (a Tensor used on another tape is a
    constant there). A token, not the tape: the tape holds its Tensors, and a
    back-reference would make every tape a reference cycle, freed (with its
    arrays) only by the garbage collector.
    """
    __slots__ = ("value", "_tape", "__weakref__")

    def __init__(self, value, tape=None):
        self.value = value
        self._tape = None if tape is None else tape.token

    @property
    def shape(self):
        return np.shape(self.value)

    @property
    def dtype(self):
        return np.result_type(self.value)

    @property
    def ndim(self):
        return np.ndim(self.value)

    @property
    def size(self):
        return np.size(self.value)

    def numpy(self):
        return np.asarray(self.value)

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(self.value)
        return a if dtype is None else a.astype(dtype)

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        for i in range(len(self.value)):
            yield self[i]

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __index__(self):
        return int(self.value)

    def __eq__(self, o):
        return _ops().equal(self, o)

    def __ne__(self, o):
        return _ops().not_equal(self, o)

    __hash__ = object.__hash__

    def __repr__(self):
        return f"<Tensor shape={self.shape} dtype={self.dtype}>\n{self.value!r}"


def _ops():
    return _operators._ops   # array_ops, installed on its import (it imports us)


class Array(np.ndarray):
    """What ``layer(x)`` / ``model(x)`` return outside a tape: an ndarray
    (zero-copy view) with Keras's ``.numpy()``."""

    def numpy(self):
        return self.view(np.ndarray)


def eager(value):
    """Wrap a layer's plain result as ``Array`` (lists elementwise)."""
    if isinstance(value, np.ndarray):
        return value.view(Array)
    if isinstance(value, Variable):   # a call returning a weight: its current value
        return value.value.copy().view(Array)
    if isinstance(value, (list, tuple)):
        return type(value)(eager(v) for v in value)
    return value


class _Token:
    __slots__ = ()


class Tape:
    """The nodes recorded while this tape was the innermost recording one."""
    __slots__ = ("nodes", "watched", "variables", "token")

    def __init__(self):
        self.token = _Token()
        self.nodes = []
        self.watched = set()      # ids of watched Variables (beyond trainable ones)
        self.variables = {}       # id -> Variable read by an op or a layer node

    def __enter__(self):
        _stack.append(self)
        return self

    def __exit__(self, *exc):
        _stack.pop()

    def backward(self, seeds, keep=()):
        """Run the nodes in reverse from ``seeds`` [(Tensor, gradient)];
        accumulate Variable gradients into ``.grad``; return {id: grad} of the
        leaves reached and of the intermediate tensors whose ids are in
        ``keep`` (other intermediate gradients are freed as soon as used)."""
        grads = {}
        for t, g in seeds:
            if type(t) is Tensor and t._tape is self.token:
                _add(grads, id(t), g)
        done = {}
        for out, parents, back in reversed(self.nodes):
            if type(out) is tuple:
                gs = [grads.pop(id(o), None) for o in out]
                if all(g is None for g in gs):
                    continue
                g = [np.zeros_like(o.value) if x is None else x for x, o in zip(gs, out)]
            else:
                g = grads.pop(id(out), None)
                if g is None:
                    continue
                if keep and id(out) in keep:
                    done[id(out)] = g
            pgs = back(g)
            for p, pg in zip(parents, pgs):
                if p is None or pg is None:
                    continue
                if type(p) is Tensor:
                    _add(grads, id(p), pg)
                else:
                    _add_to_variable(p, pg)
        grads.update(done)
        return grads


def _add(grads, key, g):
    prev = grads.get(key)
    grads[key] = g if prev is None else prev + g


def _add_to_variable(var, g):
    buf, fresh = var.grad_for_overwrite()
    if fresh:
        buf[...] = g
    else:
        buf += g


def current():
    """The innermost recording tape, or None."""
    return _stack[-1] if _stack else None


def requires_grad(x, tape):
    if type(x) is Tensor:
        return x._tape is tape.token
    if isinstance(x, Variable):
        return x.trainable or id(x) in tape.watched
    return False


class GradientTape:
    """``with GradientTape() as tape: loss = ...``; then
    ``tape.gradient(loss, model.trainable_weights)``: the ckeras way to write
    what ``tf.GradientTape`` does. Trainable variables read inside the block
    are watched; ``watch(x)`` adds a tensor or non-trainable variable."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self._tape = Tape()
        self._used = False

    def __enter__(self):
        _stack.append(self._tape)
        return self

    def __exit__(self, *exc):
        _stack.remove(self._tape)

    def watch(self, x):
        for t in x if isinstance(x, (list, tuple)) else [x]:
            if isinstance(t, Variable):
                self._tape.watched.add(id(t))
            elif type(t) is Tensor:
                t._tape = self._tape.token
            else:
                raise TypeError(f"GradientTape.watch: expected a Tensor or Variable, got "
                                f"{type(t).__name__}; wrap arrays with "
                                "ckeras.ops.convert_to_tensor first.")

    def stop_recording(self):
        return _Paused()

    def gradient(self, target, sources, output_gradients=None):
        """d sum(target) / d source for each source (None where unconnected)."""
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute "
                               "one set of gradients; pass persistent=True for more.")
        self._used = True
        tape = self._tape
        variables = list(tape.variables.values())
        for v in variables:
            v.zero_grad()
        touched = {id(v) for v in variables}
        targets = target if isinstance(target, (list, tuple)) else [target]
        seeds_g = (output_gradients if isinstance(output_gradients, (list, tuple))
                   else [output_gradients] * len(targets))
        seeds = []
        for t, g in zip(targets, seeds_g):
            v = np.asarray(t.value if type(t) is Tensor else t)
            seeds.append((t, np.ones_like(v) if g is None else np.asarray(g, v.dtype)))
        single = not isinstance(sources, (list, tuple, dict))
        items = [sources] if single else (list(sources.values()) if isinstance(sources, dict)
                                          else list(sources))
        grads = tape.backward(seeds, keep={id(s) for s in items if type(s) is Tensor})
        out = []
        for s in items:
            if isinstance(s, Variable):
                reached = id(s) in touched and s._grad is not None and not s._grad_stale
                out.append(s._grad.copy() if reached else None)
            elif type(s) is Tensor:
                out.append(grads.get(id(s)))
            else:
                raise TypeError(f"GradientTape.gradient: sources must be Variables or "
                                f"Tensors, got {type(s).__name__}.")
        if isinstance(sources, dict):
            return dict(zip(sources.keys(), out))
        return out[0] if single else out


class _Paused:
    def __enter__(self):
        _stack.append(None)

    def __exit__(self, *exc):
        _stack.pop()
