"""Attention layers: MultiHeadAttention, GroupQueryAttention (projected,
multi-head dot-product attention) and Attention, AdditiveAttention (Luong /
Bahdanau attention on unprojected inputs).

Multi-head attention, for query (B, *Q, dq), value (B, *V, dv), key (B, *V, dk):

    q = query @ Wq + bq    (B, *Q, N, K)      Wq: (dq, N, K), Keras's EinsumDense layout
    k = key @ Wk + bk      (B, *V, N, K)
    v = value @ Wv + bv    (B, *V, N, Kv)
    p = masked_softmax(q k^T / sqrt(K))        over the attention axes, per head
    y = (p v) @ Wo + bo    (B, *Q, *out)      Wo: (N, Kv, *out)

The projections are single GEMMs over all positions; the attention axes are
flattened into T (queries) and S (keys) and the other axes into the batch,
so scores are (G, N, T, S) and the softmax (fused with the boolean and causal
masks) is one ``ops.masked_softmax`` call. Masked entries get probability 0
and a query row with nothing to attend to is all zeros (Keras's Softmax).

In a functional graph a layer is replayed by ``forward(inputs, training,
masks)`` without its call keywords, so the options of a symbolic call
(``use_causal_mask``, ``return_attention_scores``, which inputs were given)
are kept on the layer; calling one layer twice in a graph with different
options raises.
"""
import math

import numpy as np

from ckeras import ops
from ckeras import random as ck_random
from ckeras.layers.keras_tensor import any_symbolic, symbolic_call
from ckeras.layers.layer import BUILTIN_LAYERS, Layer, as_float32
from ckeras.layers.weight_options import add_weight_with_options, config_values, set_weight_options


def _c(a):
    return np.ascontiguousarray(a)


def _check_positive_int(cls_name, arg, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{cls_name}: `{arg}` must be a positive integer"
                         f"{' or None' if allow_none else ''}, got {value!r}.")
    return int(value)


def _check_rate(cls_name, rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"{cls_name}: `dropout` must be a float in [0, 1), got {rate!r}.")
    return float(rate)


def _drop_probabilities(layer, p, training):
    """(``p`` after dropout, the scaled keep mask or None): in training the
    attention layers drop attention probabilities, as Keras does."""
    if not (training and layer.dropout > 0):
        return p, None
    rng = layer._rng or ck_random.global_generator()
    drop = (rng.random(p.shape, dtype=np.float32) >= layer.dropout) * np.asarray(
        1.0 / (1.0 - layer.dropout), p.dtype)
    return p * drop, drop


class _Projection:
    """One EinsumDense-style projection (kernel (*in, *out), bias (*out,))
    contracting the last ``n_in`` axes of x: a GEMM on (rows, prod(in))."""

    def __init__(self, kernel, bias, n_in=1):
        self.kernel, self.bias, self.n_in = kernel, bias, n_in

    def forward(self, x, trainable):
        k = self.kernel.value
        n = self.n_in
        d_in = math.prod(k.shape[:n])
        w2 = k.reshape(d_in, -1)
        x2 = x.reshape(-1, d_in)
        y2 = ops.matmul(x2, w2)
        if self.bias is not None:
            y2 += self.bias.value.reshape(-1)
        y = y2.reshape(x.shape[:-n] + k.shape[n:])

        def backward(dy, need_dx):
            dy2 = _c(dy).reshape(y2.shape).astype(y2.dtype, copy=False)
            if trainable:
                g, fresh = self.kernel.grad_for_overwrite()
                ops.matmul(x2, dy2, trans_a=True, out=g.reshape(w2.shape),
                           beta=0.0 if fresh else 1.0)
                if self.bias is not None:
                    self.bias.grad += dy2.sum(axis=0).reshape(self.bias.shape)
            if not need_dx:
                return None
            return ops.matmul(dy2, w2, trans_b=True).reshape(x.shape)
        return y, backward


def _as_bool(mask):
    m = np.asarray(mask)
    return m if m.dtype == bool else (m > 0.5 if m.dtype.kind == "f" else m != 0)


class _Options:
    """What one call of an attention layer was given (see the module doc)."""
    __slots__ = ("has_key", "has_mask", "causal", "scores")

    def __init__(self, has_key=False, has_mask=False, causal=False, scores=False):
        self.has_key, self.has_mask = bool(has_key), bool(has_mask)
        self.causal, self.scores = bool(causal), bool(scores)

    def key(self):
        return (self.has_key, self.has_mask, self.causal, self.scores)


class _CallOptionsMixin:
    """Graph replay support shared by the attention layers."""

    def _remember_options(self, opts):
        prev = getattr(self, "_graph_options", None)
        if prev is not None and prev.key() != opts.key():
            raise NotImplementedError(
                f"Layer {self.name!r} ({type(self).__name__}) is called twice in a model "
                "with different call options (key / attention_mask given, "
                "use_causal_mask, return_attention_scores); ckeras replays a layer's "
                "graph calls with one set of options. Use two layers.")
        self._graph_options = opts

    def _options_for(self, n_inputs):
        opts = getattr(self, "_graph_options", None)
        if opts is None:
            opts = _Options(has_key=n_inputs > 2)
        return opts


class MultiHeadAttention(_CallOptionsMixin, Layer):
    """Keras 3's MultiHeadAttention (see the module doc for the formulas)."""

    _group_names = ("query_dense", "key_dense", "value_dense", "output_dense")

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, sliding_window=None, flash_attention=None, use_gate=False,
                 **kwargs):
        name = type(self).__name__
        # tf.keras 2 configs also hold the build shapes
        build_shapes = [kwargs.pop(k, None) for k in ("query_shape", "value_shape", "key_shape")]
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.num_heads = _check_positive_int(name, "num_heads", num_heads)
        self.key_dim = _check_positive_int(name, "key_dim", key_dim)
        self.value_dim = _check_positive_int(name, "value_dim", value_dim, True) or self.key_dim
        self._init_common(name, dropout, use_bias, kernel_initializer, bias_initializer,
                          kernel_regularizer, bias_regularizer, kernel_constraint,
                          bias_constraint, seed, sliding_window, flash_attention, use_gate)
        if output_shape:
            if isinstance(output_shape, (int, np.integer)):
                output_shape = (output_shape,)
            output_shape = tuple(int(d) for d in output_shape)
        self._output_shape = output_shape or None
        if isinstance(attention_axes, (int, np.integer)):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None:
            if not isinstance(attention_axes, (list, tuple)):
                raise ValueError(f"{name}: `attention_axes` must be an int, list or tuple, "
                                 f"got {attention_axes!r}.")
            attention_axes = tuple(int(a) for a in attention_axes)
        self._attention_axes = attention_axes
        if build_shapes[0] is not None and build_shapes[1] is not None:
            self._maybe_build([tuple(sh) for sh in build_shapes if sh is not None])

    def _init_common(self, name, dropout, use_bias, kernel_initializer, bias_initializer,
                     kernel_regularizer, bias_regularizer, kernel_constraint,
                     bias_constraint, seed, sliding_window, flash_attention, use_gate):
        if use_gate:
            raise NotImplementedError(f"{name}: `use_gate=True` (gated attention) is not "
                                      "implemented in ckeras.")
        self.dropout = _check_rate(name, dropout)
        self.use_bias = bool(use_bias)
        set_weight_options(self, "kernel", kernel_initializer, kernel_regularizer,
                           kernel_constraint)
        set_weight_options(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        self.sliding_window = _check_positive_int(name, "sliding_window", sliding_window, True)
        self.flash_attention = flash_attention   # same math here; accepted for configs
        self.seed = seed
        self._rng = ck_random.generator(seed) if seed is not None else None
        self.supports_masking = True

    @property
    def attention_axes(self):
        return self._attention_axes

    # ---- weights -------------------------------------------------------------------
    def _dense(self, group, shape, bias_shape, n_in=1):
        kernel = add_weight_with_options(self, "kernel", shape)
        bias = None
        if self.use_bias:
            bias = add_weight_with_options(self, "bias", bias_shape)
        for w in (kernel, bias):
            if w is not None:
                w._group = group
        return _Projection(kernel, bias, n_in)

    def _build_projections(self, q_dim, k_dim, v_dim, kv_heads, out):
        """query -> (num_heads, key_dim), key and value -> ``kv_heads`` heads of
        key_dim / value_dim, and the heads' context back to ``out``."""
        n, kd, vd = self.num_heads, self.key_dim, self.value_dim
        self._query = self._dense("query", (q_dim, n, kd), (n, kd))
        self._key = self._dense("key", (k_dim, kv_heads, kd), (kv_heads, kd))
        self._value = self._dense("value", (v_dim, kv_heads, vd), (kv_heads, vd))
        out = tuple(out)
        self._output = self._dense("attention_output", (n, vd) + out, out, 2)
        self._set_path_prefix("")

    def _set_path_prefix(self, prefix):
        for w in self._weights:
            w.path = f"{prefix}{self.name}/{w._group}/{w.name}"

    def _keras3_variable_groups(self):
        """The .keras layout: one group per projection (and Keras's two
        weightless sub-layers)."""
        groups = {"": [], "_dropout_layer": [], "_softmax": []}
        for attr, proj in zip(self._group_names, self._projections()):
            groups[attr] = [proj.kernel] + ([proj.bias] if proj.bias is not None else [])
        return list(groups.items())

    def _projections(self):
        return (self._query, self._key, self._value, self._output)

    @staticmethod
    def _split_shapes(input_shape):
        if not (isinstance(input_shape, (list, tuple)) and input_shape
                and isinstance(input_shape[0], (list, tuple))):
            input_shape = [input_shape, input_shape]
        shapes = [tuple(s) for s in input_shape]
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 else v
        return q, v, k

    def build(self, input_shape):
        q, v, k = self._split_shapes(input_shape)
        name = type(self).__name__
        if v[1:-1] != k[1:-1]:
            raise ValueError(f"Layer {self.name!r} ({name}): all dimensions of `value` and "
                             f"`key`, except the last one, must be equal; got value shape "
                             f"{v} and key shape {k}.")
        if len(q) < 3 or len(q) != len(v):
            raise ValueError(f"Layer {self.name!r} ({name}): query and value must have one "
                             f"rank >= 3 (batch, positions..., features); got {q} and {v}.")
        if any(d is None for d in (q[-1], v[-1], k[-1])):
            raise ValueError(f"Layer {self.name!r} ({name}): the feature (last) dimensions "
                             f"must be known; got {q}, {v}, {k}.")
        self._build_projections(q[-1], k[-1], v[-1], self.num_heads,
                                self._output_shape or (q[-1],))
        rank = len(q) + 1            # of a projected tensor (B, *Q, N, K)
        axes = self._attention_axes
        if axes is None:
            axes = tuple(range(1, rank - 2))
        else:
            axes = tuple(a if a >= 0 else (rank - 1) + a for a in axes)
        if not axes or any(not 1 <= a <= rank - 3 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"Layer {self.name!r} ({name}): attention_axes "
                             f"{self._attention_axes} are invalid for inputs of rank "
                             f"{len(q)} (axes must be in 1..{len(q) - 2}).")
        self._attention_axes = axes
        self._build_rank = q
        self.built = True

    def _maybe_build(self, input_shape):
        super()._maybe_build(input_shape)
        # Keras rebuilds attention layers from their calls (build_config holds a
        # shapes_dict, not an input_shape): write none.
        self._build_input_shape = None

    # ---- calling -------------------------------------------------------------------
    def __call__(self, query, value=None, key=None, attention_mask=None,
                 return_attention_scores=False, training=None, use_causal_mask=False,
                 query_mask=None, value_mask=None, key_mask=None, **kwargs):
        if value is None and isinstance(query, (list, tuple)) and 2 <= len(query) <= 3:
            query, value, key = (list(query) + [None])[:3]   # an old config's [q, v(, k)]
        if value is None:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) needs `query` and "
                             "`value` (and optionally `key`): call it as layer(query, value).")
        inputs = [query, value] + ([key] if key is not None else [])
        if attention_mask is not None:
            inputs.append(attention_mask)
        opts = _Options(key is not None, attention_mask is not None, use_causal_mask,
                        return_attention_scores)
        if any_symbolic(inputs):
            self._remember_options(opts)
            self._maybe_build([tuple(t.shape) for t in inputs[:len(inputs) - opts.has_mask]])
            kw = {"use_causal_mask": bool(use_causal_mask)} if use_causal_mask else {}
            if return_attention_scores:
                kw["return_attention_scores"] = True
            outputs = symbolic_call(self, inputs, kw)
            node = self._inbound_nodes[-1]
            node.call_args = inputs[:2 + opts.has_key]   # saved config: positional q, v(, k)
            if attention_mask is not None:
                node.call_kwargs = {"attention_mask": attention_mask}
            return outputs
        xs = [np.asarray(t) for t in inputs]
        self._maybe_build([(None,) + a.shape[1:] for a in xs[:2 + opts.has_key]])
        masks = [query_mask, value_mask, key_mask if key is not None else None]
        masks = [_keras_mask(t) if m is None else m for m, t in zip(masks, inputs)]
        y, _ = self._forward(xs, bool(training), masks, opts)
        return y

    def forward(self, x, training=False, mask=None):
        x = list(x) if isinstance(x, (list, tuple)) else [x, x]
        opts = self._options_for(len(x))
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask, None, None]
        return self._forward(x, training, masks + [None] * 4, opts)

    def compute_output_shape(self, input_shape):
        q, v, k = self._split_shapes(input_shape)
        out = tuple(q[:-1]) + (self._output_shape or (q[-1],))
        opts = getattr(self, "_graph_options", None)
        if opts is not None and opts.scores:
            return [out, self._scores_shape(q, v)]
        return out

    def _scores_shape(self, q, v):
        axes = self._attention_axes
        batch = [q[a] for a in range(1, len(q) - 1) if a not in axes]
        return ((q[0],) + tuple(batch) + (self.num_heads,) + tuple(q[a] for a in axes)
                + tuple(v[a] for a in axes))

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        opts = getattr(self, "_graph_options", None)
        return [mask, None] if opts is not None and opts.scores else mask

    # ---- the computation -------------------------------------------------------------
    def _forward(self, xs, training, masks, opts):
        query = as_float32(xs[0])
        value = as_float32(xs[1])
        key = as_float32(xs[2]) if opts.has_key else value
        amask = xs[-1] if opts.has_mask else None
        qmask, vmask = masks[0], masks[1]
        self._check_inputs(query, value, key)
        kmask = masks[2] if opts.has_key else None
        trainable = self.trainable
        qp, back_q = self._query.forward(query, trainable)
        kp, back_k = self._key.forward(key, trainable)
        vp, back_v = self._value.forward(value, trainable)
        lay = _Layout(qp.shape, vp.shape, self._attention_axes)
        # Every batched matmul gets C-contiguous operands: numpy hands those to
        # BLAS, but multiplies transposed views in its own slower loop.
        q4 = lay.to_heads(qp, "q")                           # (G, N, T, K)
        k4t = self._kv_heads(lay.to_heads(kp, "s", transpose=True))   # (G, N, K, S)
        v4 = self._kv_heads(lay.to_heads(vp, "s"))           # (G, N, S, Kv)
        scale = 1.0 / math.sqrt(float(self._head_scale_dim()))
        qs = q4 * np.asarray(scale, q4.dtype)
        scores = np.matmul(qs, k4t)
        mask4 = self._score_mask(lay, qmask, vmask, kmask, amask, opts, query, value)
        causal = opts.causal
        p = ops.masked_softmax(scores, mask4, causal, out=scores)   # scores is ours: in place
        pd, drop = _drop_probabilities(self, p, training)
        ctx = lay.from_heads(np.matmul(pd, v4))              # (B, *Q, N, Kv)
        y, back_o = self._output.forward(_c(ctx), trainable)

        def backward(dy, need_dx=True):
            dscores = None
            if opts.scores:
                dy, dscores = dy[0], dy[1]
            dctx = back_o(dy, True)
            dctx4 = lay.to_heads(dctx, "q")
            dpd = np.matmul(dctx4, _c(v4.swapaxes(-1, -2)))
            # transpose the small (.., n, K) operands, never the (T, S) ones:
            # dv = pd^T dctx = (dctx^T pd)^T, dk = ds^T qs = (qs^T ds)^T
            dv4 = np.matmul(_c(dctx4.swapaxes(-1, -2)), pd).swapaxes(-1, -2)
            dp = dpd * drop if drop is not None else dpd
            if dscores is not None:
                dp = dp + lay.scores_from_keras(dscores)
            dp = _c(dp)
            ds = ops.softmax_backward(dp, p, out=dp)
            dq4 = np.matmul(ds, _c(k4t.swapaxes(-1, -2))) * np.asarray(scale, ds.dtype)
            dk4 = np.matmul(_c(qs.swapaxes(-1, -2)), ds).swapaxes(-1, -2)
            dq = back_q(lay.from_heads(dq4), need_dx)
            dk = back_k(lay.from_heads(self._kv_heads_backward(dk4), "s"), need_dx)
            dv = back_v(lay.from_heads(self._kv_heads_backward(dv4), "s"), need_dx)
            if not need_dx:
                return None
            grads = [dq, dv + dk if not opts.has_key else dv]
            if opts.has_key:
                grads.append(dk)
            if opts.has_mask:
                grads.append(None)
            return grads

        if opts.scores:
            return [y, lay.scores_to_keras(p)], backward
        return y, backward

    def _check_inputs(self, query, value, key):
        name = type(self).__name__
        for arg, t, w in (("query", query, self._query), ("value", value, self._value),
                          ("key", key, self._key)):
            if t.ndim != len(self._build_rank) or t.shape[-1] != w.kernel.shape[0]:
                raise ValueError(f"Layer {self.name!r} ({name}): `{arg}` has shape {t.shape}; "
                                 f"expected rank {len(self._build_rank)} and last dimension "
                                 f"{w.kernel.shape[0]}.")
        if not query.shape[0] == value.shape[0] == key.shape[0] or \
                value.shape[:-1] != key.shape[:-1]:
            raise ValueError(f"Layer {self.name!r} ({name}): query {query.shape}, value "
                             f"{value.shape} and key {key.shape} must share the batch size, "
                             "and value and key every dimension but the last.")

    # GroupQueryAttention overrides these three.
    def _head_scale_dim(self):
        return self.key_dim

    def _kv_heads(self, t):
        return t

    def _kv_heads_backward(self, g):
        return g

    def _score_mask(self, lay, qmask, vmask, kmask, amask, opts, query, value):
        """The boolean mask for (G, N, T, S) scores (broadcastable), or None;
        the causal part is left to the kernel."""
        auto = None
        seq = (qmask, vmask, kmask)
        if any(m is not None for m in seq) or self.sliding_window is not None \
                or (opts.causal and lay.rank > 4):
            if lay.rank != 4:
                raise NotImplementedError(
                    f"Layer {self.name!r}: input masks, use_causal_mask and sliding_window "
                    "are implemented for (batch, positions, features) inputs only.")
            b, t, s = query.shape[0], lay.t, lay.s
            auto = np.ones((1, 1, t, s), bool)
            if qmask is not None:
                auto = auto & _as_bool(qmask).reshape(b, 1, t, 1)
            for m in (vmask, kmask):
                if m is not None:
                    auto = auto & _as_bool(m).reshape(b, 1, 1, s)
            if self.sliding_window is not None:
                i, j = np.arange(t)[:, None], np.arange(s)[None, :]
                auto = auto & (np.abs(i - j) < self.sliding_window)
        if amask is not None:
            m = lay.user_mask(_as_bool(amask), self.num_heads, self.name)
            auto = m if auto is None else auto & m
        return auto

    # ---- config ----------------------------------------------------------------------
    def _common_config(self):
        return config_values(self, (
            "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
            "activity_regularizer", "kernel_constraint", "bias_constraint", "seed"))

    def get_config(self):
        config = super().get_config()
        axes = self._attention_axes
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim,
            "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
            "use_gate": False,
            "output_shape": list(self._output_shape) if self._output_shape else None,
            "attention_axes": list(axes) if axes is not None else None,
            "sliding_window": self.sliding_window,
        })
        config.update(self._common_config())
        return config


def _keras_mask(t):
    return getattr(t, "_keras_mask", None)


class _Layout:
    """Moves projected (B, *D, N, K) tensors to (G, N, T, K) and back: the
    attention axes become T (or S for keys/values), the others join the batch."""

    def __init__(self, q_shape, v_shape, axes):
        self.rank = len(q_shape)
        r = self.rank - 3                       # position axes
        self.axes = tuple(axes)
        self.batch_axes = tuple(a for a in range(1, r + 1) if a not in self.axes)
        self.perm = (0,) + self.batch_axes + (r + 1,) + self.axes + (r + 2,)
        self.perm_t = (0,) + self.batch_axes + (r + 1, r + 2) + self.axes
        self.inv = tuple(np.argsort(self.perm))
        self.q_shape, self.v_shape = tuple(q_shape), tuple(v_shape)
        bdims = tuple(q_shape[a] for a in self.batch_axes)
        self.bdims = bdims
        self.g = q_shape[0] * math.prod(bdims)
        self.t = math.prod(q_shape[a] for a in self.axes)
        self.s = math.prod(v_shape[a] for a in self.axes)
        self.t_dims = tuple(q_shape[a] for a in self.axes)
        self.s_dims = tuple(v_shape[a] for a in self.axes)

    def to_heads(self, x, which, transpose=False):
        """(G, N, n, K), or (G, N, K, n) with ``transpose``."""
        n = self.t if which == "q" else self.s
        if transpose:
            xt = x.transpose(self.perm_t)
            return _c(xt).reshape(self.g, x.shape[-2], x.shape[-1], n)
        xt = x.transpose(self.perm)
        return _c(xt).reshape(self.g, x.shape[-2], n, x.shape[-1])

    def from_heads(self, x4, which="q"):
        dims = self.t_dims if which == "q" else self.s_dims
        b = (self.q_shape[0],) + self.bdims
        xt = x4.reshape(b + (x4.shape[1],) + dims + (x4.shape[-1],))
        return xt.transpose(self.inv)

    def scores_to_keras(self, p):
        return p.reshape((self.q_shape[0],) + self.bdims + (p.shape[1],) + self.t_dims
                         + self.s_dims)

    def scores_from_keras(self, d):
        return np.asarray(d).reshape(self.g, -1, self.t, self.s)

    def user_mask(self, m, heads, name):
        """Keras's attention_mask (B, *T, *S)-like, broadcast as Keras does
        (new axes before the target axes), as (G, 1|N, T, S)."""
        rank = 1 + len(self.bdims) + 1 + 2 * len(self.axes)
        while m.ndim < rank:
            m = np.expand_dims(m, -2 * len(self.axes) - 1)
        full = (self.q_shape[0],) + self.bdims + (heads,) + self.t_dims + self.s_dims
        head_axis = 1 + len(self.bdims)
        if m.ndim != rank or any(d != 1 and d != f for d, f in zip(m.shape, full)):
            raise ValueError(f"Layer {name!r}: attention_mask of shape {m.shape} does not "
                             f"broadcast to the attention scores {full}.")
        target = list(full)
        target[head_axis] = m.shape[head_axis]
        return np.broadcast_to(m, target).reshape(self.g, m.shape[head_axis], self.t, self.s)


class GroupedQueryAttention(MultiHeadAttention):
    """Grouped-query attention: ``num_query_heads`` query heads share
    ``num_key_value_heads`` key/value heads (query head h uses kv head
    h // (num_query_heads / num_key_value_heads)). Inputs (B, T, d)."""

    _group_names = ("_query_dense", "_key_dense", "_value_dense", "_output_dense")
    _keras_class_name = "GroupQueryAttention"     # keras.layers exports it so

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, sliding_window=None, flash_attention=None, use_gate=False,
                 **kwargs):
        name = type(self).__name__
        Layer.__init__(self, activity_regularizer=activity_regularizer, **kwargs)
        self.head_dim = _check_positive_int(name, "head_dim", head_dim)
        self.num_query_heads = _check_positive_int(name, "num_query_heads", num_query_heads)
        self.num_key_value_heads = _check_positive_int(name, "num_key_value_heads",
                                                       num_key_value_heads)
        if self.num_query_heads % self.num_key_value_heads:
            raise ValueError(f"{name}: `num_query_heads` ({num_query_heads}) must be a "
                             f"multiple of `num_key_value_heads` ({num_key_value_heads}).")
        self.num_repeats = self.num_query_heads // self.num_key_value_heads
        self.num_heads, self.key_dim, self.value_dim = self.num_query_heads, head_dim, head_dim
        self._output_shape = None
        self._attention_axes = None
        self._init_common(name, dropout, use_bias, kernel_initializer, bias_initializer,
                          kernel_regularizer, bias_regularizer, kernel_constraint,
                          bias_constraint, seed, sliding_window, flash_attention, use_gate)

    def build(self, input_shape):
        q, v, k = self._split_shapes(input_shape)
        if len(q) != 3 or len(v) != 3 or len(k) != 3:
            raise ValueError(f"Layer {self.name!r} (GroupedQueryAttention) takes inputs of "
                             f"shape (batch, positions, features); got {q}, {v}, {k}.")
        self._build_projections(q[-1], k[-1], v[-1], self.num_key_value_heads, (q[-1],))
        self._attention_axes = (1,)
        self._build_rank = q
        self.built = True

    def _head_scale_dim(self):
        return self.head_dim

    def _kv_heads(self, t):
        return np.repeat(t, self.num_repeats, axis=1) if self.num_repeats > 1 else t

    def _kv_heads_backward(self, g):
        if self.num_repeats == 1:
            return g
        gs = g.shape
        return g.reshape(gs[0], self.num_key_value_heads, self.num_repeats, *gs[2:]).sum(2)

    def _scores_shape(self, q, v):
        return (q[0], self.num_query_heads, q[1], v[1])

    def get_config(self):
        config = Layer.get_config(self)
        config.update({
            "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
            "use_gate": False, "sliding_window": self.sliding_window, "dropout": self.dropout,
        })
        config.update(self._common_config())
        return config


GroupQueryAttention = GroupedQueryAttention
BUILTIN_LAYERS["GroupQueryAttention"] = GroupedQueryAttention


# ---- Luong / Bahdanau attention ------------------------------------------------------

class Attention(_CallOptionsMixin, Layer):
    """Dot-product (Luong) attention on [query (B, Tq, d), value (B, Tv, dv),
    key (B, Tv, d) = value]: scores = query key^T (times ``scale`` with
    use_scale), or with score_mode="concat" concat_score_weight *
    sum(tanh(scale * (q_i + k_j))); softmax over Tv (value mask and causal
    mask applied), output = softmax @ value, zeroed where the query mask is 0."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{type(self).__name__}: `score_mode` must be 'dot' or "
                             f"'concat', got {score_mode!r}.")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = _check_rate(type(self).__name__, dropout)
        self.seed = seed
        self._rng = ck_random.generator(seed) if seed is not None else None
        self.supports_masking = True
        self.scale = self.concat_score_weight = None

    def _check_inputs(self, input_shape):
        if not (isinstance(input_shape, (list, tuple)) and 2 <= len(input_shape) <= 3
                and all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) must be called on "
                             "a list [query, value] or [query, value, key].")

    def build(self, input_shape):
        self._check_inputs(input_shape)
        if self.use_scale:
            self.scale = self._scalar_weight("scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self._scalar_weight("concat_score_weight")
        self.built = True

    def _scalar_weight(self, name):
        # Keras's shape () weights; Variable's constructor makes arrays >= 1-D.
        w = self.add_weight(name, (1,), "ones")
        w.value = np.array(w.value.reshape(()))
        return w

    def __call__(self, inputs, mask=None, training=None, return_attention_scores=False,
                 use_causal_mask=False, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) must be called on "
                             "a list [query, value] or [query, value, key].")
        inputs = list(inputs)
        opts = _Options(len(inputs) > 2, False, use_causal_mask, return_attention_scores)
        if any_symbolic(inputs):
            self._remember_options(opts)
            kw = {"use_causal_mask": True} if use_causal_mask else {}
            if return_attention_scores:
                kw["return_attention_scores"] = True
            return symbolic_call(self, inputs, kw)
        xs = [np.asarray(t) for t in inputs]
        self._maybe_build([(None,) + a.shape[1:] for a in xs])
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None, None]
        return self._forward(xs, bool(training), masks + [None], opts)[0]

    def forward(self, x, training=False, mask=None):
        x = list(x)
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * 3
        return self._forward(x, training, masks + [None], self._options_for(len(x)))

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        q, v = input_shape[0], input_shape[1]
        out = tuple(q[:-1]) + (v[-1],)
        opts = getattr(self, "_graph_options", None)
        if opts is not None and opts.scores:
            k = input_shape[2] if len(input_shape) > 2 else v
            return [out, tuple(q[:-1]) + (k[-2],)]
        return out

    def compute_mask(self, inputs, mask=None):
        m = mask[0] if isinstance(mask, (list, tuple)) else None
        opts = getattr(self, "_graph_options", None)
        if m is not None and opts is not None and opts.scores:
            return [m, None]
        return m

    # scores and their backward: (B, Tq, d), (B, Tv, d) -> (B, Tq, Tv)
    def _scores(self, q, k):
        if self.score_mode == "dot":
            raw = np.matmul(q, k.swapaxes(-1, -2))
            s = self.scale.value if self.scale is not None else None
            out = raw * s if s is not None else raw

            def back(ds):
                if s is not None and self.trainable:
                    self.scale.grad += np.asarray((ds * raw).sum(), self.scale.grad.dtype)
                dsr = ds * s if s is not None else ds
                return np.matmul(dsr, k), np.matmul(dsr.swapaxes(-1, -2), q)
            return out, back
        s = self.scale.value if self.scale is not None else 1.0
        w = self.concat_score_weight.value
        pre = q[:, :, None, :] + k[:, None, :, :]            # (B, Tq, Tv, d)
        th = np.tanh(s * pre)
        tsum = th.sum(-1)
        out = w * tsum

        def back(ds):
            if self.trainable:
                self.concat_score_weight.grad += np.asarray((ds * tsum).sum(),
                                                            self.concat_score_weight.grad.dtype)
            g = (ds * w)[..., None] * (1 - th * th)           # d / d(s * pre)
            if self.scale is not None and self.trainable:
                self.scale.grad += np.asarray((g * pre).sum(), self.scale.grad.dtype)
            g = g * s
            return g.sum(2), g.sum(1)
        return out, back

    def _forward(self, xs, training, masks, opts):
        q = as_float32(xs[0])
        v = as_float32(xs[1])
        k = as_float32(xs[2]) if opts.has_key else v
        qmask, vmask = masks[0], masks[1]
        scores, back_scores = self._scores(q, k)
        m = None if vmask is None else _as_bool(vmask)[:, None, None, :]
        p4 = ops.masked_softmax(_c(scores[:, None]), m, opts.causal)
        p = p4[:, 0]
        pd, drop = _drop_probabilities(self, p, training)
        y = np.matmul(pd, v)
        qkeep = None if qmask is None else _as_bool(qmask)[..., None]
        if qkeep is not None:
            y = np.where(qkeep, y, 0).astype(y.dtype, copy=False)

        def backward(dy, need_dx=True):
            dscores = None
            if opts.scores:
                dy, dscores = dy[0], dy[1]
            if qkeep is not None:
                dy = np.where(qkeep, dy, 0)
            dpd = np.matmul(dy, v.swapaxes(-1, -2))
            dv = np.matmul(pd.swapaxes(-1, -2), dy)
            dp = dpd * drop if drop is not None else dpd
            if dscores is not None:
                dp = dp + dscores
            dp = _c(dp)
            ds = ops.softmax_backward(dp, p, out=dp)
            dq, dk = back_scores(ds)
            if not need_dx:
                return None
            return [dq, dv + dk] if not opts.has_key else [dq, dv, dk]

        if opts.scores:
            return [y, p], backward
        return y, backward

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config


class AdditiveAttention(Attention):
    """Bahdanau attention: scores = sum(scale * tanh(q_i + k_j)) with a
    learned ``scale`` of shape (d,) (all ones without use_scale)."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)
        self.score_mode = "additive"

    def build(self, input_shape):
        self._check_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight("scale", (input_shape[0][-1],), "glorot_uniform")
        self.built = True

    def _scores(self, q, k):
        pre = q[:, :, None, :] + k[:, None, :, :]            # (B, Tq, Tv, d)
        th = np.tanh(pre)
        s = self.scale.value if self.scale is not None else None
        out = (th * s).sum(-1) if s is not None else th.sum(-1)

        def back(ds):
            if s is not None and self.trainable:
                self.scale.grad += (ds[..., None] * th).sum(axis=(0, 1, 2))
            g = ds[..., None] * (1 - th * th)
            if s is not None:
                g = g * s
            return g.sum(2), g.sum(1)
        return out, back

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
