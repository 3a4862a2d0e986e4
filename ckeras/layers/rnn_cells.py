"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell.

A cell owns the weights (``kernel``, ``recurrent_kernel``, ``bias``, in Keras's
shapes and gate orders, docs/spec/hdf5_format.md §6.1-6.2) and runs a whole
sequence at once: ``run(xt, skip, initial)`` takes time-major input
``xt`` (T, B, in) in processing order and returns ``hs`` (T+1, B, units) with
``hs[0]`` the initial state, the final states, and a BPTT closure
``backward(dH, d_final_states, need_dx, need_initial) -> (dxt, d_initial)``.

Layout of the work:
  * the input projection of all T steps is one GEMM, (T*B, in) @ kernel;
  * with the default activations (LSTM/GRU sigmoid + tanh; SimpleRNN tanh,
    relu, sigmoid, linear) the whole recurrence, forward and BPTT, is one
    call of ops.lstm_seq_* / gru_seq_* / rnn_seq_* (the time loop in C for
    float32, calling the same BLAS as Dense; the numpy twins otherwise);
  * other activations run the time loop here in numpy (one recurrent GEMM
    per step);
  * either way the per-step gate gradients are stacked so that dkernel,
    drecurrent and dx are each one GEMM over all steps.

``skip`` (T, B) bool, or None, marks the *masked* samples of each step: their
states carry through unchanged (Keras's mask semantics).

``rmask`` (B, units) or None: the recurrent dropout mask of this sequence
(already scaled by 1/(1-rate)), applied to the previous state wherever it
enters a recurrent GEMM, the same at every step.
"""
import numpy as np

from ckeras import activations, ops
from ckeras.layers.layer import (Layer, deserialize_layer, path_prefix_passed_to,
                                 trainable_passed_to)
from ckeras.layers.weight_options import add_weight_with_options, config_values, set_weight_options

_FROM_OUTPUT = ("sigmoid", "tanh", "linear", "relu")


def _sigmoid_(v):
    """In place. Through exp: numpy's float32 exp is SIMD, expit/tanh are not
    (how much faster: benchmarks/README.md); exp overflow to inf gives the right
    limit 0."""
    np.negative(v, out=v)
    np.exp(v, out=v)
    v += 1
    np.reciprocal(v, out=v)


def _tanh_(v):
    """In place, tanh(x) = 2 sigmoid(2x) - 1 (absolute error ~1 ulp of 1)."""
    np.multiply(v, -2, out=v)
    np.exp(v, out=v)
    v += 1
    np.reciprocal(v, out=v)
    v *= 2
    v -= 1


class _Act:
    """An activation applied in place, and its elementwise derivative for a
    whole sequence at once: from the output for the common ones, from the
    pre-activation (``needs_pre``: the cell keeps it) for the rest."""

    def __init__(self, activation):
        if activation.name == "softmax":
            raise NotImplementedError("softmax is not supported as a recurrent "
                                      "activation (it is not elementwise).")
        self.fn = activation
        self.kind = activation.name if activation.name in _FROM_OUTPUT else None
        self.needs_pre = self.kind is None

    def apply(self, v):
        kind = self.kind
        if kind == "sigmoid":
            _sigmoid_(v)
        elif kind == "tanh":
            _tanh_(v)
        elif kind == "relu":
            np.maximum(v, 0, out=v)
        elif kind is None:
            v[...] = self.fn.forward(v)

    def deriv(self, y, pre=None):
        """d act / d pre, elementwise (a new array): the activation's own
        derivative (for the _FROM_OUTPUT kinds it reads only ``y``)."""
        return self.fn.backward(np.ones_like(y), pre, y)


def _gates(a, n):
    """(T, B, n*u) -> (T, B, n, u) view, None stays None."""
    return None if a is None else a.reshape(a.shape[0], a.shape[1], n, -1)


def _carry(new, old, skip):
    """Masked samples keep their previous state."""
    if skip is not None:
        np.copyto(new, old, where=skip[:, None])


def _mask_factors(skip, dt):
    """(skip, keep) as float (T, B, 1) multipliers for the backward pass."""
    if skip is None:
        return None, None
    skipf = skip[..., None].astype(dt)
    return skipf, 1 - skipf


def _step_preactivation(xp, hs, R, rmask, pre, t):
    """Step ``t``'s pre-activation x_t W + b + h_{t-1} R, in place in ``xp[t]``
    (returned), and copied into ``pre`` when the activation's derivative needs it."""
    z = xp[t]
    _matmul_acc(_masked_in(hs[t], rmask), R, z)
    if pre is not None:
        pre[t] = z
    return z


def _split_masked(d, t, skipf, keepf):
    """Step ``t`` of BPTT: returns the masked samples' part of the state
    gradient ``d`` (their state was carried through, so it goes straight to
    step t-1) and leaves the rest in ``d``, in place. None without a mask."""
    if skipf is None:
        return None
    kept = d * skipf[t]
    d *= keepf[t]
    return kept


def _masked_in(h, rmask):
    """The previous state as a recurrent GEMM sees it (recurrent dropout)."""
    return h if rmask is None else h * rmask


def _final_grad(d, B, u, dt):
    """A fresh (B, u) buffer holding the final state's gradient (or zeros)."""
    g = np.zeros((B, u), dt)
    if d is not None:
        g += d
    return g


def _seq_grad(dH, dt):
    return None if dH is None else np.ascontiguousarray(dH, dtype=dt)


def _matmul_acc(a, b, out, trans_a=False, trans_b=False):
    return ops.matmul(a, b, trans_a=trans_a, trans_b=trans_b, out=out, beta=1.0)


class _Cell(Layer):
    """What the three cells share: arguments, weights, config."""

    _gates = 1              # column blocks of kernel / recurrent_kernel
    _n_states = 1
    _extra_config_keys = ()  # a cell's own arguments, written after the shared ones

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{type(self).__name__}: `units` must be a positive integer, "
                             f"got {units!r}.")
        from ckeras.utils.arg_checks import check_rate
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            check_rate(rate, arg, type(self).__name__, include_one=True)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_options(self, "kernel", kernel_initializer, kernel_regularizer,
                           kernel_constraint)
        set_weight_options(self, "recurrent", recurrent_initializer, recurrent_regularizer,
                           recurrent_constraint)
        set_weight_options(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.bias = None

    @property
    def state_size(self):
        return [self.units] * self._n_states if self._n_states > 1 else self.units

    @property
    def _state_units(self):
        return [self.units] * self._n_states

    @property
    def output_size(self):
        return self.units

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): the last "
                             f"dimension of its input must be known, got {input_shape}.")
        cols = self._gates * self.units
        self.kernel = add_weight_with_options(self, "kernel", (in_dim, cols))
        self.recurrent_kernel = add_weight_with_options(self, "recurrent", (self.units, cols),
                                                        name="recurrent_kernel")
        if self.use_bias:
            self.bias = add_weight_with_options(self, "bias", self._bias_shape(),
                                                initializer=self._bias_init())
        self.built = True

    # ---- the sequence kernel, shared prologue/epilogue ---------------------------
    def _start(self, xt, initial):
        """Input projection of all steps (one GEMM) and the state buffers."""
        K = self.kernel.value
        T, B, D = xt.shape
        if D != K.shape[0]:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): expected "
                             f"{K.shape[0]} input features, got {D}.")
        dt = np.result_type(xt.dtype, K.dtype)
        xp = ops.matmul(xt.reshape(T * B, D), K)
        if xp.dtype != dt:
            xp = xp.astype(dt)
        xp = xp.reshape(T, B, K.shape[1])
        states = []
        for k in range(self._n_states):
            # Every step writes its state (masked samples copy theirs): only
            # the initial state needs a value here.
            buf = np.empty((T + 1, B, self.units), dt)
            buf[0] = 0 if initial is None or initial[k] is None else initial[k]
            states.append(buf)
        return xp, states, dt

    def _finish(self, xt, dxp, pairs, need_dx):
        """Weight gradients as one GEMM each over all steps, then dx.

        ``pairs``: (lhs (T*B, k), dgates (T*B, cols), grad view) for each
        recurrent-weight block.
        """
        T, B, D = xt.shape
        dxp2 = dxp.reshape(T * B, dxp.shape[-1])
        if self.trainable:
            _matmul_acc(xt.reshape(T * B, D), dxp2, self.kernel.grad, trans_a=True)
            for lhs, dg, out in pairs:
                _matmul_acc(lhs, dg, out, trans_a=True)
        if not need_dx:
            return None
        return ops.matmul(dxp2, self.kernel.value, trans_b=True).reshape(T, B, D)

    def __call__(self, inputs, states=None, training=False, **kwargs):
        if states is None:
            raise TypeError(f"{type(self).__name__} {self.name!r} is called one step at a "
                            "time as cell(inputs, states); wrap it in keras.layers.RNN "
                            "to run it over a sequence.")
        return self.call(inputs, states, training)

    def call(self, inputs, states, training=False):
        """One step, as a Keras cell: (output, new_states). Inference only."""
        x = np.asarray(inputs)
        states = states if isinstance(states, (list, tuple)) else [states]
        if not self.built:
            self.build((None, x.shape[-1]))
        hs, finals, _ = self.run(x[None], None, list(states))
        return hs[1], finals if self._n_states > 1 else [finals[0]]

    def get_config(self):
        config = super().get_config()
        config.update(config_values(self, (
            "units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
            "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
            "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
            "dropout", "recurrent_dropout", "seed") + self._extra_config_keys))
        return config


class SimpleRNNCell(_Cell):
    """h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""

    def run(self, xt, skip=None, initial=None, rmask=None):
        act = _Act(self.activation)
        R = self.recurrent_kernel.value
        u = self.units
        xp, (hs,), dt = self._start(xt, initial)
        if self.use_bias:
            xp += self.bias.value
        T, B = xt.shape[:2]
        fast = act.kind is not None
        pre = np.empty_like(xp) if act.needs_pre else None
        if fast:
            ops.rnn_seq_forward(xp, R, skip, hs, act.kind, rmask)
        else:
            with np.errstate(over="ignore"):
                for t in range(T):
                    z = _step_preactivation(xp, hs, R, rmask, pre, t)
                    act.apply(z)                   # xp[t] now holds the new h
                    hs[t + 1] = z
                    _carry(hs[t + 1], hs[t], None if skip is None else skip[t])

        def backward(dH, d_final, need_dx=True, need_initial=False):
            dH = _seq_grad(dH, dt)
            dh = _final_grad(d_final[0], B, u, dt)
            dz_all = np.empty_like(xp)
            if fast:
                ops.rnn_seq_backward(xp, R, skip, dH, dh, dz_all, act.kind, need_initial,
                                     rmask)
            else:
                deriv = act.deriv(xp, pre)
                skipf, keepf = _mask_factors(skip, dt)
                for t in range(T - 1, -1, -1):
                    if dH is not None:
                        dh += dH[t]
                    dh_keep = _split_masked(dh, t, skipf, keepf)
                    np.multiply(dh, deriv[t], out=dz_all[t])
                    if t == 0 and not need_initial:
                        break
                    dh = _masked_in(ops.matmul(dz_all[t], R, trans_b=True), rmask)
                    if skipf is not None:
                        dh += dh_keep
            pairs = [(_masked_in(hs[:-1], rmask).reshape(-1, u), dz_all.reshape(-1, u),
                      self.recurrent_kernel.grad)]
            if self.trainable and self.use_bias:
                self.bias.grad += dz_all.sum(axis=(0, 1))
            dxt = self._finish(xt, dz_all, pairs, need_dx)
            return dxt, ([dh] if need_initial else None)

        return hs, [hs[T]], backward


class LSTMCell(_Cell):
    """Gates [i | f | c | o] (spec §6.1): c_t = f c_{t-1} + i g, h_t = o act(c_t)."""

    _gates = 4
    _n_states = 2
    _extra_config_keys = ("recurrent_activation", "unit_forget_bias")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = self.bias_initializer, self.units

        def init(shape, dtype=None):
            # Keras: bias_initializer for i, c, o; ones for the forget gate.
            parts = [np.asarray(base((u,)), np.float32), np.ones(u, np.float32),
                     np.asarray(base((2 * u,)), np.float32)]
            return np.concatenate(parts)
        return init

    def run(self, xt, skip=None, initial=None, rmask=None):
        ract, act = _Act(self.recurrent_activation), _Act(self.activation)
        R = self.recurrent_kernel.value
        u = self.units
        xp, (hs, cs), dt = self._start(xt, initial)
        if self.use_bias:
            xp += self.bias.value
        T, B = xt.shape[:2]
        tcs = np.empty((T, B, u), dt)
        fast = ract.kind == "sigmoid" and act.kind == "tanh"
        pre = np.empty_like(xp) if (ract.needs_pre or act.needs_pre) else None
        if fast:
            ops.lstm_seq_forward(xp, R, skip, hs, cs, tcs, rmask)
        else:
            ig = np.empty((B, u), dt)
            with np.errstate(over="ignore"):
                for t in range(T):
                    z = _step_preactivation(xp, hs, R, rmask, pre, t)
                    ract.apply(z[:, :2 * u])
                    act.apply(z[:, 2 * u:3 * u])
                    ract.apply(z[:, 3 * u:])
                    i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
                    c = cs[t + 1]
                    np.multiply(f, cs[t], out=c)
                    np.multiply(i, g, out=ig)
                    c += ig
                    tc = tcs[t]
                    np.copyto(tc, c)
                    act.apply(tc)
                    np.multiply(o, tc, out=hs[t + 1])
                    if skip is not None:
                        _carry(hs[t + 1], hs[t], skip[t])
                        _carry(c, cs[t], skip[t])

        def backward(dH, d_final, need_dx=True, need_initial=False):
            dH = _seq_grad(dH, dt)
            dh = _final_grad(d_final[0], B, u, dt)
            dc = _final_grad(d_final[1], B, u, dt)
            dz_all = np.empty_like(xp)
            if fast:
                ops.lstm_seq_backward(xp, R, skip, cs, tcs, dH, dh, dc, dz_all, need_initial,
                                      rmask)
            else:
                dh = backward_loop(dH, dh, dc, dz_all, need_initial)
            pairs = [(_masked_in(hs[:-1], rmask).reshape(-1, u), dz_all.reshape(-1, 4 * u),
                      self.recurrent_kernel.grad)]
            if self.trainable and self.use_bias:
                self.bias.grad += dz_all.sum(axis=(0, 1))
            dxt = self._finish(xt, dz_all, pairs, need_dx)
            return dxt, ([dh, dc] if need_initial else None)

        def backward_loop(dH, dh, dc, dz_all, need_initial):
            # Everything that does not depend on the incoming gradient is
            # computed for all steps at once, leaving 4 multiplies per step.
            x4, p4 = xp.reshape(T, B, 4, u), _gates(pre, 4)
            d4 = np.empty((T, B, 4, u), dt)
            d4[:, :, :2] = ract.deriv(x4[:, :, :2], None if p4 is None else p4[:, :, :2])
            d4[:, :, 2] = act.deriv(x4[:, :, 2], None if p4 is None else p4[:, :, 2])
            d4[:, :, 3] = ract.deriv(x4[:, :, 3], None if p4 is None else p4[:, :, 3])
            mult = np.empty((T, B, 3, u), dt)          # d z_{i,f,g} = dc * mult
            np.multiply(x4[:, :, 2], d4[:, :, 0], out=mult[:, :, 0])
            np.multiply(cs[:-1], d4[:, :, 1], out=mult[:, :, 1])
            np.multiply(x4[:, :, 0], d4[:, :, 2], out=mult[:, :, 2])
            n_o = tcs * d4[:, :, 3]                    # d z_o = dh * n_o
            n_c = x4[:, :, 3] * act.deriv(tcs, cs[1:])  # dc += dh * n_c
            del d4
            skipf, keepf = _mask_factors(skip, dt)
            dz4 = dz_all.reshape(T, B, 4, u)
            tmp = np.empty((B, u), dt)
            for t in range(T - 1, -1, -1):
                if dH is not None:
                    dh += dH[t]
                dh_keep = _split_masked(dh, t, skipf, keepf)
                dc_keep = _split_masked(dc, t, skipf, keepf)
                np.multiply(dh, n_o[t], out=dz4[t, :, 3])
                np.multiply(dh, n_c[t], out=tmp)
                dc += tmp
                np.multiply(dc[:, None, :], mult[t], out=dz4[t, :, :3])
                dc *= x4[t, :, 1]
                if skipf is not None:
                    dc += dc_keep
                if t == 0 and not need_initial:
                    break
                dh = _masked_in(ops.matmul(dz_all[t], R, trans_b=True), rmask)
                if skipf is not None:
                    dh += dh_keep
            return dh

        return hs, [hs[T], cs[T]], backward



class GRUCell(_Cell):
    """Gates [z | r | h~] (spec §6.2); h_t = z h_{t-1} + (1 - z) h~.

    reset_after=True (default): bias (2, 3u) = [input bias; recurrent bias] and
    h~ = act(x W_h + b_ih + r * (h R_h + b_rh)).  reset_after=False: bias (3u,)
    and h~ = act(x W_h + b_h + (r * h) R_h).
    """

    _gates = 3
    _extra_config_keys = ("recurrent_activation", "reset_after")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, reset_after=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def run(self, xt, skip=None, initial=None, rmask=None):
        ract, act = _Act(self.recurrent_activation), _Act(self.activation)
        R = self.recurrent_kernel.value
        u = self.units
        xp, (hs,), dt = self._start(xt, initial)
        T, B = xt.shape[:2]
        after = self.reset_after
        b = self.bias.value if self.use_bias else None
        if b is not None:
            xp += b[0] if after else b
        fast = ract.kind == "sigmoid" and act.kind == "tanh"
        pre = np.empty_like(xp) if (ract.needs_pre or act.needs_pre) else None
        # reset_after: h R + b_r, all steps (its h~ block is needed backward);
        # reset_before: r * h_{t-1}, the left operand of the h~ GEMM.
        rec = np.empty((T, B, 3 * u if after else u), dt)
        if fast:
            brec = None if b is None or not after else np.ascontiguousarray(b[1])
            ops.gru_seq_forward(xp, R, brec, skip, hs, rec, after, rmask)
        else:
            with np.errstate(over="ignore"):
                for t in range(T):
                    z = xp[t]
                    h_prev = hs[t]
                    h_in = _masked_in(h_prev, rmask)
                    if after:
                        hr = rec[t]
                        ops.matmul(h_in, R, out=hr)
                        if b is not None:
                            hr += b[1]
                        z[:, :2 * u] += hr[:, :2 * u]
                    else:
                        _matmul_acc(h_in, R[:, :2 * u], z[:, :2 * u])
                    if pre is not None:
                        pre[t, :, :2 * u] = z[:, :2 * u]
                    ract.apply(z[:, :2 * u])
                    if after:
                        z[:, 2 * u:] += z[:, u:2 * u] * hr[:, 2 * u:]
                    else:
                        rh = rec[t]
                        np.multiply(z[:, u:2 * u], h_in, out=rh)
                        _matmul_acc(rh, R[:, 2 * u:], z[:, 2 * u:])
                    if pre is not None:
                        pre[t, :, 2 * u:] = z[:, 2 * u:]
                    act.apply(z[:, 2 * u:])
                    zg, hh = z[:, :u], z[:, 2 * u:]
                    h = hs[t + 1]
                    np.subtract(h_prev, hh, out=h)
                    h *= zg
                    h += hh
                    _carry(h, h_prev, None if skip is None else skip[t])

        def backward(dH, d_final, need_dx=True, need_initial=False):
            dH = _seq_grad(dH, dt)
            dh = _final_grad(d_final[0], B, u, dt)
            dxp = np.empty_like(xp)
            drec = np.empty((T, B, 3 * u), dt) if after else None
            if fast:
                ops.gru_seq_backward(xp, R, skip, hs, rec, dH, dh, dxp, drec, after,
                                     need_initial, rmask)
            else:
                dh = backward_loop(dH, dh, dxp, drec, need_initial)
            hprev = _masked_in(hs[:-1], rmask).reshape(-1, u)
            dxp2 = dxp.reshape(-1, 3 * u)
            gR = self.recurrent_kernel.grad
            if after:
                pairs = [(hprev, drec.reshape(-1, 3 * u), gR)]
            else:
                pairs = [(hprev, dxp2[:, :2 * u], gR[:, :2 * u]),
                         (rec.reshape(-1, u), dxp2[:, 2 * u:], gR[:, 2 * u:])]
            if self.trainable and self.use_bias:
                gb = self.bias.grad
                if after:
                    gb[0] += dxp.sum(axis=(0, 1))
                    gb[1] += drec.sum(axis=(0, 1))
                else:
                    gb += dxp.sum(axis=(0, 1))
            dxt = self._finish(xt, dxp, pairs, need_dx)
            return dxt, ([dh] if need_initial else None)

        def backward_loop(dH, dh, dxp, drec, need_initial):
            x3, p3 = xp.reshape(T, B, 3, u), _gates(pre, 3)
            zg, r, hh = x3[:, :, 0], x3[:, :, 1], x3[:, :, 2]
            d_zr = ract.deriv(x3[:, :, :2], None if p3 is None else p3[:, :, :2])
            n_z = (hs[:-1] - hh) * d_zr[:, :, 0]        # d z_z = dh * n_z
            n_h = (1 - zg) * act.deriv(hh, None if p3 is None else p3[:, :, 2])  # d z_h
            d_r = d_zr[:, :, 1]
            n_r = rec[:, :, 2 * u:] * d_r if after else None  # d z_r = d z_h * n_r
            del d_zr
            skipf, keepf = _mask_factors(skip, dt)
            for t in range(T - 1, -1, -1):
                if dH is not None:
                    dh += dH[t]
                dh_keep = _split_masked(dh, t, skipf, keepf)
                dz = dxp[t]
                dph = dz[:, 2 * u:]
                np.multiply(dh, n_h[t], out=dph)
                np.multiply(dh, n_z[t], out=dz[:, :u])
                if after:
                    dr = drec[t]
                    dr[:, :u] = dz[:, :u]
                    np.multiply(dph, n_r[t], out=dr[:, u:2 * u])
                    dz[:, u:2 * u] = dr[:, u:2 * u]
                    np.multiply(dph, r[t], out=dr[:, 2 * u:])
                    if t == 0 and not need_initial:
                        break
                    back = ops.matmul(dr, R, trans_b=True)
                else:
                    drh = ops.matmul(dph, R[:, 2 * u:], trans_b=True)
                    np.multiply(drh, _masked_in(hs[t], rmask), out=dz[:, u:2 * u])
                    dz[:, u:2 * u] *= d_r[t]
                    if t == 0 and not need_initial:
                        break
                    drh *= r[t]
                    back = drh
                    _matmul_acc(dz[:, :2 * u], R[:, :2 * u], back, trans_b=True)
                dh_prev = dh * zg[t]
                dh_prev += _masked_in(back, rmask)
                if skipf is not None:
                    dh_prev += dh_keep
                dh = dh_prev
            return dh

        return hs, [hs[T]], backward



class StackedRNNCells(Layer):
    """Cells run one above the other at every step (Keras's StackedRNNCells):
    cell k reads cell k-1's output. As a whole sequence that is each cell
    over the previous cell's output sequence, which is how it runs here (each
    cell with its own compiled loop). Masked steps skip every cell. The
    states are the cells' states, flattened in order."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = [deserialize_layer(c) if isinstance(c, dict) else c for c in cells]
        if not cells:
            raise ValueError("StackedRNNCells: `cells` must be a non-empty list of cells.")
        for c in cells:
            if not isinstance(c, _Cell):
                raise TypeError(
                    "StackedRNNCells: every cell must be a SimpleRNNCell, LSTMCell or "
                    f"GRUCell, got {type(c).__name__}. Cells of your own run one per "
                    "RNN layer in ckeras: stack RNN(cell, return_sequences=True) layers.")
        self.cells = cells
        self.seed = None

    trainable = trainable_passed_to("cells")

    @property
    def units(self):
        return self.cells[-1].units

    @property
    def _n_states(self):
        return sum(c._n_states for c in self.cells)

    @property
    def _state_units(self):
        return [u for c in self.cells for u in c._state_units]

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return self.units

    @property
    def kernel(self):
        return self.cells[0].kernel

    @property
    def dropout(self):
        # The RNN layer drops the sequence's inputs: the first cell's rate.
        if any(c.dropout > 0 for c in self.cells[1:]):
            raise NotImplementedError(
                "StackedRNNCells: `dropout` on a cell above the first is not supported by "
                "ckeras; stack RNN layers (return_sequences=True) instead.")
        return self.cells[0].dropout

    @property
    def recurrent_dropout(self):
        return max(c.recurrent_dropout for c in self.cells)

    def build(self, input_shape):
        dim = input_shape[-1]
        for c in self.cells:
            if not c.built:
                c.build((input_shape[0], dim))
            dim = c.units
        self._weights = [w for c in self.cells for w in c._weights]
        self.built = True

    _set_path_prefix = path_prefix_passed_to("cells")

    def run(self, xt, skip=None, initial=None, rmask=None):
        if rmask is not None:
            raise NotImplementedError(
                "StackedRNNCells: recurrent_dropout inside stacked cells is not supported "
                "by ckeras; stack RNN layers (return_sequences=True) instead.")
        runs, finals, inp, k = [], [], xt, 0
        for c in self.cells:
            n = c._n_states
            init = None if initial is None else initial[k:k + n]
            hs, fin, back = c.run(inp, skip, init)
            runs.append(back)
            finals += fin
            inp = np.ascontiguousarray(hs[1:])
            k += n

        def backward(dH, d_final, need_dx=True, need_initial=False):
            d_init, k = [], self._n_states
            for i in range(len(self.cells) - 1, -1, -1):
                n = self.cells[i]._n_states
                dxt, d0 = runs[i](dH, d_final[k - n:k], need_dx or i > 0, need_initial)
                if need_initial:
                    d_init = list(d0) + d_init
                dH, k = dxt, k - n
            return dH, (d_init if need_initial else None)

        return hs, finals, backward

    def get_config(self):
        from ckeras.layers.layer import serialize_layer
        config = super().get_config()
        config["cells"] = [serialize_layer(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cells"] = [deserialize_layer(c, custom_objects=custom_objects)
                           for c in config["cells"]]
        return cls(**config)
