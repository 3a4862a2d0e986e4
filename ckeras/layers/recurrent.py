"""Recurrent layers: RNN (over a ckeras cell, StackedRNNCells or a cell of
the user's own), SimpleRNN, LSTM, GRU, Bidirectional.

A user's cell (``call(inputs, states)`` on ``ckeras.ops``, ``state_size``,
optionally ``output_size``) runs one step at a time on the autodiff tape, with
the same mask, go_backwards, initial_state and stateful rules as below.

The layer handles what is about the sequence as a whole: layout (batch-major
in, time-major inside), ``go_backwards``, the mask, the dropout masks,
``initial_state``, ``stateful``, ``return_sequences`` / ``return_state``; the
cell (``rnn_cells``) runs the recurrence and its BPTT.

Keras 3 semantics kept here:
  * ``go_backwards`` reads the sequence back to front and returns the outputs
    in that (reversed) order.
  * A mask (batch, T) from ``Embedding(mask_zero=True)``: at a masked step the
    states carry through unchanged and the output is the previous output
    (``zero_output_for_mask=False``, the default) or zeros (True; what
    ``Bidirectional`` sets when returning sequences). The last output is the
    output of the last processed step under those rules.
  * Input ``dropout`` uses one mask per sequence (batch, features), shared by
    all steps and gates, scaled by 1/(1-rate), in training only;
    ``recurrent_dropout`` likewise one mask (batch, units) per sequence on the
    previous state where it enters the recurrent kernel.
  * ``initial_state`` may be arrays, or symbolic tensors in a functional
    model: the states then become extra inputs of the layer's graph node
    ([sequence, *states]), written back as Keras's ``initial_state`` kwarg.
  * ``stateful=True`` carries the final states of one batch into the next
    (same batch size; ``reset_states()`` zeroes them). Gradients do not flow
    across batches (truncated BPTT, as in Keras).
  * ``unroll`` is accepted and changes nothing (the loop is compiled anyway).

Weights live on the cell, so paths come out as Keras 3's:
``<layer>/<cell>/kernel`` (``lstm/lstm_cell/kernel``), prefixed by the model
name inside a Sequential, and the ``.keras`` layout stores them under
``layers/<layer>/cell/vars``.
"""
import numpy as np

from ckeras import random as ck_random
from ckeras import regularizers
from ckeras.layers.keras_tensor import any_symbolic, symbolic_call
from ckeras.layers.layer import (Layer, _is_shape_list, as_float32, check_input_ndim,
                                 deserialize_layer, path_prefix_passed_to, serialize_layer,
                                 trainable_passed_to)
from ckeras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells, _Cell

# Attributes an RNN layer reads through from its cell (Keras's properties).
_CELL_ATTRS = {"units", "activation", "recurrent_activation", "use_bias",
               "kernel_initializer", "recurrent_initializer", "bias_initializer",
               "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
               "kernel_constraint", "recurrent_constraint", "bias_constraint",
               "dropout", "recurrent_dropout", "unit_forget_bias", "reset_after",
               "seed", "state_size", "output_size"}

_COMMON_KEYS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                "bias_constraint", "dropout", "recurrent_dropout")


class RNN(Layer):
    """Runs a ckeras cell (SimpleRNNCell, LSTMCell, GRUCell) over a sequence."""

    _config_keys = None     # subclasses: the cell keys written flat, in Keras order
    # A graph node of RNN(x, initial_state=[...]) has inputs [x, *states]; the
    # functional config writes the states back as the initial_state kwarg.
    _states_are_node_inputs = True

    def __init__(self, cell, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = deserialize_layer(cell)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        if not isinstance(cell, (_Cell, StackedRNNCells)) and not hasattr(cell, "state_size"):
            raise TypeError(
                f"{type(self).__name__} {self.name!r}: `cell` must be an RNN cell (a layer "
                f"with `state_size` and call(inputs, states)), got {type(cell).__name__}.")
        # A cell of the user's own (call(inputs, states) on ckeras.ops) runs step
        # by step on the autodiff tape; the built-in cells run compiled loops.
        self._user_cell = not isinstance(cell, (_Cell, StackedRNNCells))
        if self._user_cell and not hasattr(cell, "call"):
            raise TypeError(f"{type(self).__name__} {self.name!r}: the cell "
                            f"{type(cell).__name__} has no call(inputs, states).")
        self.cell = cell
        self.cell.trainable = self.trainable
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.states = None                  # stateful: the carried states (arrays)
        self.unroll = bool(unroll)          # accepted for compatibility; no effect
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.supports_masking = True
        self._path_prefix = ""
        seed = getattr(cell, "seed", None) if self._user_cell else cell.seed
        self._dropout_rng = None if seed is None else ck_random.generator(seed)

    def __getattr__(self, name):
        # Only reached when normal lookup fails: read cell arguments through.
        if name in _CELL_ATTRS and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    trainable = trainable_passed_to("cell")

    @property
    def _n_states(self):
        return len(self._state_units) if self._user_cell else self.cell._n_states

    @property
    def _state_units(self):
        if not self._user_cell:
            return self.cell._state_units
        size = self.cell.state_size
        sizes = list(size) if isinstance(size, (list, tuple)) else [size]
        return [_units(n, self, "state_size") for n in sizes]

    @property
    def _output_units(self):
        if not self._user_cell:
            return self.cell.units
        size = getattr(self.cell, "output_size", None)
        return self._state_units[0] if size is None else _units(size, self, "output_size")

    # ---- building ------------------------------------------------------------------
    def _check_shape(self, input_shape):
        check_input_ndim(self, input_shape, 3, "batch, timesteps, features")

    def build(self, input_shape):
        if _is_shape_list(input_shape):     # [sequence, *initial states]
            input_shape = input_shape[0]
            self._build_input_shape = input_shape   # Keras's build(sequences_shape)
        self._check_shape(input_shape)
        if self._user_cell:
            self._build_user_cell(input_shape)
        elif not self.cell.built:
            self.cell.build((input_shape[0], input_shape[-1]))
        self._weights = list(self.cell.weights) if self._user_cell else self.cell._weights
        self._set_path_prefix(self._path_prefix)
        self.built = True

    _set_path_prefix = path_prefix_passed_to("cell")

    def compute_output_shape(self, input_shape):
        if _is_shape_list(input_shape):
            input_shape = input_shape[0]
        self._check_shape(input_shape)
        batch, steps, u = input_shape[0], input_shape[1], self._output_units
        out = (batch, steps, u) if self.return_sequences else (batch, u)
        if self.return_state:
            return [out] + [(batch, s) for s in self._state_units]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * self._n_states
        return out

    # ---- running ---------------------------------------------------------------------
    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        if kwargs.get("constants") is not None:
            raise NotImplementedError(
                f"Layer {self.name!r} ({type(self).__name__}): `constants` are not supported "
                "by ckeras's built-in cells.")
        kwargs.pop("constants", None)
        if initial_state is None:
            return Layer.__call__(self, inputs, *args, **kwargs)   # Bidirectional shares this
        states = (list(initial_state) if isinstance(initial_state, (list, tuple))
                  else [initial_state])
        if any_symbolic(inputs) or any_symbolic(states):
            if not (any_symbolic(inputs) and all(any_symbolic(s) for s in states)):
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): in a functional model "
                    "the sequence and every initial state must be symbolic tensors "
                    "(outputs of Input or of other layers).")
            # The states become extra inputs of the graph node: [sequence, *states].
            return symbolic_call(self, [inputs] + states, kwargs)
        x = np.asarray(inputs)
        self._maybe_build((None,) + x.shape[1:])
        return self.forward(x, bool(kwargs.get("training", False)), kwargs.get("mask"),
                            initial_state=initial_state)[0]

    def reset_states(self, states=None):
        """Stateful layers: zero the carried states (or set them to ``states``)."""
        if not self.stateful:
            raise AttributeError(f"Layer {self.name!r} ({type(self).__name__}) is not "
                                 "stateful; reset_states() needs stateful=True.")
        if states is None:
            self.states = None if self.states is None else [np.zeros_like(s)
                                                            for s in self.states]
            return
        states = states if isinstance(states, (list, tuple)) else [states]
        batch = len(states[0])
        self.states = self._initial(states, batch, np.float32)

    reset_state = reset_states

    def _skip(self, mask, batch, steps):
        """(T, B) bool in processing order, True where a step is masked out;
        None when nothing is masked."""
        if mask is None:
            return None
        m = np.asarray(mask)
        if m.shape != (batch, steps):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): the mask must "
                             f"have shape (batch, timesteps) = {(batch, steps)}, got "
                             f"{m.shape}.")
        skip = ~m.astype(bool, copy=False).T
        if not skip.any():
            return None
        return np.ascontiguousarray(skip[::-1] if self.go_backwards else skip)

    def _initial(self, initial_state, batch, dtype):
        states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != self._n_states:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) expects "
                             f"{self._n_states} initial state(s), got {len(states)}.")
        out = []
        for s, units in zip(states, self._state_units):
            s = np.asarray(s, dtype)
            if s.shape != (batch, units):
                raise ValueError(f"Layer {self.name!r}: each initial state must have shape "
                                 f"{(batch, units)}, got {s.shape}.")
            out.append(s)
        return out

    def forward(self, x, training=False, mask=None, initial_state=None):
        # A functional node [sequence, *initial states] (RNN(...)(x, initial_state=...)).
        listed = isinstance(x, (list, tuple))
        if listed:
            x, initial_state = x[0], list(x[1:])
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        x = as_float32(np.asarray(x))
        self._check_shape(x.shape)
        batch, steps, _ = x.shape
        if steps == 0:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) needs at least "
                             "one timestep, got an input with 0 timesteps.")
        if not self.built:
            self._maybe_build((None,) + x.shape[1:])
        if self._user_cell:
            return self._forward_user_cell(x, training, mask, initial_state, listed)
        cell = self.cell
        expected = cell.kernel.shape[0]
        if x.shape[2] != expected:
            raise ValueError(
                f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible "
                f"with the layer: expected {expected} input features (axis -1), but "
                f"received input with shape {x.shape}.")
        xt = x.transpose(1, 0, 2)
        xt = np.ascontiguousarray(xt[::-1] if self.go_backwards else xt)
        skip = self._skip(mask, batch, steps)
        # Dropout masks: one per sequence, the same at every step (Keras); for
        # the inputs (batch, features) and for the recurrent state (batch, units).
        drop = self._dropout_mask(training, cell.dropout, (batch, x.shape[2]), xt.dtype)
        if drop is not None:
            xt = xt * drop
        rmask = self._dropout_mask(training, cell.recurrent_dropout, (batch, cell.units),
                                   xt.dtype)
        if initial_state is not None:
            initial = self._initial(initial_state, batch, xt.dtype)
        elif self.stateful:
            initial = self._stateful_initial(batch, xt.dtype)
        else:
            initial = None
        hs, finals, back = cell.run(xt, skip, initial, rmask)
        if self.stateful:
            self.states = [np.array(s, np.float32) for s in finals]
        zero = self.zero_output_for_mask and skip is not None
        if self.return_sequences:
            seq = hs[1:] * ~skip[:, :, None] if zero else hs[1:]
            y = np.ascontiguousarray(seq.transpose(1, 0, 2))
        else:
            y = hs[steps] * ~skip[-1][:, None] if zero else hs[steps].copy()
        n_states = len(finals)
        outputs = [y] + [s.copy() for s in finals] if self.return_state else y

        def backward(dy, need_dx=True):
            if self.return_state:
                d_out, d_states = dy[0], list(dy[1:])
            else:
                d_out, d_states = dy, [None] * n_states
            dH = None
            if d_out is not None:
                d_out = np.asarray(d_out)
                if self.return_sequences:
                    dH = np.ascontiguousarray(d_out.transpose(1, 0, 2))
                    if zero:
                        dH *= ~skip[:, :, None]
                else:
                    d_last = d_out * ~skip[-1][:, None] if zero else d_out
                    d_states[0] = d_last if d_states[0] is None else d_states[0] + d_last
            dxt, d_init = back(dH, d_states, need_dx, need_initial=listed and need_dx)
            if not need_dx:
                return None
            if drop is not None:
                dxt *= drop
            if self.go_backwards:
                dxt = dxt[::-1]
            dx = np.ascontiguousarray(dxt.transpose(1, 0, 2))
            return [dx] + list(d_init) if listed else dx
        return outputs, backward

    # ---- a cell of the user's own: step by step on the tape ---------------------------
    def _build_user_cell(self, input_shape):
        """Build the cell for one step (batch, features) and run it once on zeros,
        so weights its sub-layers create on first call exist before training."""
        if not self.cell.built:
            self.cell._maybe_build((input_shape[0], input_shape[-1]))
        step = np.zeros((1, input_shape[-1]), np.float32)
        states = [np.zeros((1, n), np.float32) for n in self._state_units]
        from ckeras.ops import tape as tape_mod
        tape_mod._stack.append(None)   # records nothing
        try:
            self.cell(step, states)
        finally:
            tape_mod._stack.pop()

    def _forward_user_cell(self, x, training, mask, initial_state, listed):
        batch = x.shape[0]
        if initial_state is not None:
            initial = self._initial(initial_state, batch, x.dtype)
        elif self.stateful and self.states is not None:
            initial = self._stateful_initial(batch, x.dtype)
        else:
            initial = [np.zeros((batch, n), x.dtype) for n in self._state_units]
        if mask is not None:
            mask = np.asarray(mask).astype(bool)
            if mask.shape != x.shape[:2]:
                raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): the mask "
                                 f"must have shape (batch, timesteps) = {x.shape[:2]}, got "
                                 f"{mask.shape}.")

        def scan(inputs, finals):
            seq, states = (inputs[0], list(inputs[1:])) if listed else (inputs, initial)
            return self._scan_user_cell(seq, states, mask, training, finals)

        inputs = [x] + initial if listed else x
        finals = []
        y, backward = self._tape_forward(inputs, training, None,
                                         fn=lambda xs: scan(xs, finals))
        if self.stateful:   # carried as values: no gradient across batches
            self.states = [np.array(getattr(s, "value", s), np.float32) for s in finals]
        return y, backward

    def _scan_user_cell(self, seq, states, mask, training, finals):
        """The Keras 3 loop: masked steps keep the states and repeat the
        previous output (zeros before the first step, or always zeros with
        zero_output_for_mask); the last states are appended to ``finals``."""
        from ckeras import ops
        steps = seq.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs, previous = [], None
        for t in order:
            out, new_states = self.cell(seq[:, t], list(states), training=training)
            new_states = (list(new_states) if isinstance(new_states, (list, tuple))
                          else [new_states])
            if len(new_states) != len(states):
                raise ValueError(f"Layer {self.name!r}: the cell returned "
                                 f"{len(new_states)} state(s), its state_size says "
                                 f"{len(states)}.")
            if mask is not None:
                keep = mask[:, t][:, None]
                if previous is None:
                    previous = ops.zeros_like(out)
                fallback = ops.zeros_like(out) if self.zero_output_for_mask else previous
                out = ops.where(keep, out, fallback)
                new_states = [ops.where(keep, n, s) for n, s in zip(new_states, states)]
            previous, states = out, new_states
            outputs.append(out)
        finals.extend(states)
        y = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [y] + list(states) if self.return_state else y

    def _dropout_mask(self, training, rate, shape, dtype):
        """A (batch, n) keep mask scaled by 1/(1-rate), or None."""
        if not (training and 0 < rate < 1):
            return None
        rng = self._dropout_rng or ck_random.global_generator()
        keep = rng.random(shape) >= rate
        return (keep * (1.0 / (1.0 - rate))).astype(dtype)

    def _stateful_initial(self, batch, dtype):
        if self.states is None:
            return None
        have = self.states[0].shape[0]
        if have != batch:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) is stateful: the batch size "
                f"of the input sequences must stay the same as the states'. Expected batch "
                f"size {have}, received {batch}.")
        return [s.astype(dtype, copy=False) for s in self.states]

    # ---- config ------------------------------------------------------------------------
    def _rnn_config(self):
        config = Layer.get_config(self)
        config.update({"return_sequences": self.return_sequences,
                       "return_state": self.return_state,
                       "go_backwards": self.go_backwards,
                       "stateful": self.stateful,
                       "unroll": self.unroll,
                       "zero_output_for_mask": self.zero_output_for_mask})
        return config

    def get_config(self):
        config = self._rnn_config()
        if self._config_keys is None:       # the generic RNN(cell)
            config["cell"] = serialize_layer(self.cell)
            if self.activity_regularizer is not None:
                config["activity_regularizer"] = regularizers.serialize(
                    self.activity_regularizer)
            return config
        cell_config = self.cell.get_config()
        for key in self._config_keys:
            if key == "activity_regularizer":
                config[key] = regularizers.serialize(self.activity_regularizer)
            else:
                config[key] = cell_config[key]
        return config


def _units(n, layer, what):
    if isinstance(n, (list, tuple)) and len(n) == 1:
        n = n[0]
    try:
        value = int(n)
    except (TypeError, ValueError):
        value = None
    if value is None or value != n or value < 0:
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}): the cell's "
                         f"{what} must be a non-negative integer (or a list of them), "
                         f"got {n!r}.")
    return value


def _cell_kwargs(kwargs):
    """Layer kwargs the cell shares (Keras passes dtype and trainable on)."""
    kwargs.pop("implementation", None)
    return {"dtype": kwargs.get("dtype"), "trainable": kwargs.get("trainable", True)}


class SimpleRNN(RNN):
    """Fully connected RNN: h_t = activation(x_t W + h_{t-1} U + b)."""

    # Keras 3 accepts `seed` here but does not write it.
    _config_keys = ("units", "activation", "use_bias", "kernel_initializer",
                    "recurrent_initializer", "bias_initializer") + _COMMON_KEYS

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="simple_rnn_cell",
            **_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)


class LSTM(RNN):
    """Long Short-Term Memory (Hochreiter 1997), Keras 3 weights and gate order."""

    _config_keys = ("units", "activation", "recurrent_activation", "use_bias",
                    "kernel_initializer", "recurrent_initializer", "bias_initializer",
                    "unit_forget_bias") + _COMMON_KEYS + ("seed",)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="lstm_cell",
            **_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)


class GRU(RNN):
    """Gated Recurrent Unit (Cho 2014); ``reset_after=True`` is Keras's default."""

    _config_keys = ("units", "activation", "recurrent_activation", "use_bias",
                    "kernel_initializer", "recurrent_initializer",
                    "bias_initializer") + _COMMON_KEYS + ("reset_after", "seed")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 reset_after=True, use_cudnn="auto", **kwargs):
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, reset_after=reset_after, seed=seed,
            name="gru_cell", **_cell_kwargs(kwargs))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)


# ---- Bidirectional ---------------------------------------------------------------------

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _removeprefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the
    two outputs (docs/spec/hdf5_format.md §6.3). Weights: forward layer's, then the
    backward layer's; sublayers are named ``forward_<name>`` / ``backward_<name>``.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if isinstance(layer, dict):
            layer = deserialize_layer(layer)
        if isinstance(backward_layer, dict):
            backward_layer = deserialize_layer(backward_layer)
        if not isinstance(layer, Layer):
            raise ValueError("Bidirectional: `layer` must be a keras layer instance "
                             f"(e.g. LSTM), got {layer!r}.")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("Bidirectional: `backward_layer` must be a keras layer "
                             f"instance, got {backward_layer!r}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}; expected "
                             "one of 'sum', 'mul', 'ave', 'concat', None.")
        super().__init__(**kwargs)
        if self._batch_input_shape is None:
            self._batch_input_shape = layer._batch_input_shape
        # Fresh copies from the config, as Keras: the given layer is never run.
        entry = serialize_layer(layer)
        entry["config"]["name"] = "forward_" + _removeprefix(layer.name, "forward_")
        self.forward_layer = deserialize_layer(entry)
        if backward_layer is None:
            entry = serialize_layer(layer)
            entry["config"]["go_backwards"] = True
            entry["config"]["name"] = "backward_" + _removeprefix(layer.name, "backward_")
            backward_layer = deserialize_layer(entry)
        self.backward_layer = backward_layer
        self._verify()
        for sub in (self.forward_layer, self.backward_layer):
            # Keras: masked steps output zeros when the sequences are returned.
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
            sub.trainable = self.trainable
        self.merge_mode = merge_mode
        self._initial_weights = weights
        self.stateful = getattr(layer, "stateful", False)
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self._path_prefix = ""

    def _verify(self):
        fw, bw = self.forward_layer, self.backward_layer
        if fw.go_backwards == bw.go_backwards:
            raise ValueError(
                f"Bidirectional {self.name!r}: the forward and backward layers must have "
                f"different `go_backwards` values, got forward_layer.go_backwards="
                f"{fw.go_backwards}, backward_layer.go_backwards={bw.go_backwards}.")
        for attr in ("stateful", "return_sequences", "return_state"):
            a, b = getattr(fw, attr), getattr(bw, attr)
            if a != b:
                raise ValueError(
                    f"Bidirectional {self.name!r}: the forward and backward layers must "
                    f"have the same {attr!r}, got {a!r} (forward) and {b!r} (backward).")

    trainable = trainable_passed_to("forward_layer", "backward_layer")

    # Bidirectional(...)(x, initial_state=[...]): the first half of the states
    # starts the forward layer, the second half the backward one (Keras).
    _states_are_node_inputs = True
    __call__ = RNN.__call__

    def build(self, input_shape):
        if _is_shape_list(input_shape):     # [sequence, *initial states]
            input_shape = input_shape[0]
            self._build_input_shape = input_shape
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        self._weights = list(self.forward_layer._weights) + list(self.backward_layer._weights)
        self._set_path_prefix(self._path_prefix)
        self.built = True
        if self._initial_weights:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    _set_path_prefix = path_prefix_passed_to("forward_layer", "backward_layer")

    def compute_output_shape(self, input_shape):
        if _is_shape_list(input_shape):
            input_shape = input_shape[0]
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            out = [tuple(shape[:-1]) + (None if shape[-1] is None else 2 * shape[-1],)]
        elif self.merge_mode is None:
            out = [tuple(shape), tuple(shape)]
        else:
            out = [tuple(shape)]
        out = out + states + states
        return out if len(out) > 1 else out[0]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            outs += [None] * (2 * self.forward_layer._n_states)
        return outs if len(outs) > 1 else outs[0]

    def forward(self, x, training=False, mask=None, initial_state=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        listed = isinstance(x, (list, tuple))
        if listed:
            x, initial_state = x[0], list(x[1:])
        x_f = x_b = x
        if initial_state is not None:
            states = (list(initial_state) if isinstance(initial_state, (list, tuple))
                      else [initial_state])
            n = self.forward_layer._n_states
            if len(states) != 2 * n:
                raise ValueError(
                    f"Bidirectional {self.name!r} expects {2 * n} initial states (the "
                    f"forward layer's {n}, then the backward layer's), got {len(states)}.")
            x_f, x_b = [x] + states[:n], [x] + states[n:]
        yf, back_f = self.forward_layer.forward(x_f, training, mask)
        yb, back_b = self.backward_layer.forward(x_b, training, mask)
        rs, seqs, mode = self.return_state, self.return_sequences, self.merge_mode
        states_f = states_b = []
        if rs:
            yf, states_f = yf[0], list(yf[1:])
            yb, states_b = yb[0], list(yb[1:])
        if seqs:
            yb = np.ascontiguousarray(yb[:, ::-1])   # back into input time order
        if mode == "concat":
            merged = [np.concatenate([yf, yb], axis=-1)]
        elif mode == "sum":
            merged = [yf + yb]
        elif mode == "ave":
            merged = [(yf + yb) * 0.5]
        elif mode == "mul":
            merged = [yf * yb]
        else:
            merged = [yf, yb]
        outs = merged + states_f + states_b
        n_f = len(states_f)

        def backward(dy, need_dx=True):
            ds = list(dy) if len(outs) > 1 else [dy]
            k = len(merged)
            d, d_sf, d_sb = ds[:k], ds[k:k + n_f], ds[k + n_f:]
            if mode == "concat":
                u = yf.shape[-1]
                dyf, dyb = d[0][..., :u], d[0][..., u:]
            elif mode == "sum":
                dyf = dyb = d[0]
            elif mode == "ave":
                dyf = dyb = d[0] * 0.5
            elif mode == "mul":
                dyf, dyb = d[0] * yb, d[0] * yf
            else:
                dyf, dyb = d
            if seqs and dyb is not None:
                dyb = dyb[:, ::-1]
            dyf = None if dyf is None else np.ascontiguousarray(dyf)
            dyb = None if dyb is None else np.ascontiguousarray(dyb)
            dxf = back_f([dyf] + d_sf if rs else dyf, need_dx)
            dxb = back_b([dyb] + d_sb if rs else dyb, need_dx)
            if not need_dx:
                return None
            if isinstance(dxf, list):          # [dx, *d initial states] from each side
                dx = [dxf[0] + dxb[0]] + dxf[1:] + dxb[1:]
                return dx if listed else dx[0]
            return dxf + dxb
        return (outs if len(outs) > 1 else outs[0]), backward

    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = serialize_layer(self.forward_layer)
        config["backward_layer"] = serialize_layer(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects=custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"],
                                                         custom_objects=custom_objects)
        return cls(**config)
