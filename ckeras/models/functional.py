"""Functional models: the graph of layer calls recorded on symbolic tensors
(``keras.Input`` -> layers -> outputs), replayed node by node on arrays.

Forward runs the nodes in topological order, keyed by symbolic-tensor id;
backward runs their closures in reverse and sums the gradients of a tensor
that feeds several nodes (fan-out, shared layers). Keras's graph ordering
(``keras/src/ops/function.py`` map_graph) is reproduced so that
``model.layers``, summaries and saved configs list layers as Keras does.
"""
from collections import Counter

import numpy as np

from ckeras.layers.core import InputLayer
from ckeras.layers.keras_tensor import KerasTensor
from ckeras.layers.layer import deserialize_layer, node_options, run_layer, serialize_layer
from ckeras.utils import summary_utils as summary_mod
from ckeras.models.model import Model


_SUBCLASSES = {}


def _functional_subclass(cls):
    if cls not in _SUBCLASSES:
        _SUBCLASSES[cls] = type(cls.__name__, (cls, Functional),
                                {"__module__": cls.__module__})
    return _SUBCLASSES[cls]


class _Step:
    """One node of the graph, ready to replay."""
    __slots__ = ("node", "layer", "in_ids", "list_in", "out_ids", "multi_out", "is_input",
                 "options")

    def __init__(self, node):
        self.node = node
        self.layer = node.layer
        self.in_ids = [id(t) for t in node.input_tensors]
        self.list_in = isinstance(node.inputs, (list, tuple))
        self.out_ids = [id(t) for t in node.output_tensors]
        self.multi_out = isinstance(node.outputs, (list, tuple))
        self.is_input = isinstance(node.layer, InputLayer)
        self.options = node_options(node)


class Functional(Model):
    """A model defined by ``Model(inputs, outputs)`` on symbolic tensors."""
    _is_graph_model = True

    @staticmethod
    def adopt(model, inputs, outputs):
        """Turn ``model`` (being built by ``Model(inputs, outputs)``) into a
        Functional: ``type(model)`` becomes Functional (or a Functional mix-in
        of the user's Model subclass), as Keras's ``Model.__new__`` does."""
        cls = type(model)
        if cls is Model:
            model.__class__ = Functional
        elif not isinstance(model, Functional):
            model.__class__ = _functional_subclass(cls)
        model._init_graph(inputs, outputs)

    # ---- construction ---------------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        self._in_kind, self._in_keys, self._inputs = _structure(inputs, "inputs")
        self._out_kind, self._out_keys, self._outputs = _structure(outputs, "outputs")
        for i, t in enumerate(self._inputs):
            if not isinstance(t.history[0], InputLayer):
                raise ValueError(
                    f"Model {self.name!r}: input {i} must be a tensor returned by "
                    f"keras.Input(), got the output of layer {t.history[0].name!r}.")
        nodes, layers = _map_graph(self._inputs, self._outputs)
        for name, count in Counter(l.name for l in layers).items():
            if count > 1:
                raise ValueError(f'The name "{name}" is used {count} times in the model '
                                 f"{self.name!r}. All layer names should be unique.")
        self._layers = layers
        self._steps = [_Step(n) for n in nodes]
        self._node_ids = {id(n) for n in nodes}
        # How many times each tensor is read (by nodes, or as a model output).
        self._uses = {}
        for step in self._steps:
            for k in step.in_ids:
                self._uses[k] = self._uses.get(k, 0) + 1
        for t in self._outputs:
            self._uses[id(t)] = self._uses.get(id(t), 0) + 1
        self.built = True

    # ---- structure ----------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return _pack(self._in_kind, self._in_keys, self._inputs)

    @property
    def output(self):
        return _pack(self._out_kind, self._out_keys, self._outputs)

    @property
    def input_names(self):
        if self._in_keys is not None:
            return list(self._in_keys)
        return [t.history[0].name for t in self._inputs]

    @property
    def output_names(self):
        if self._out_keys is not None:
            return list(self._out_keys)
        return [t.history[0].name for t in self._outputs]

    def build(self, input_shape=None):
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = [tuple(t.shape) for t in self._outputs]
        return shapes[0] if self._out_kind == "single" else shapes

    # ---- running ------------------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, dict):
            inputs = self._inputs_from_dict(inputs)
        elif isinstance(inputs, tuple):
            inputs = list(inputs)
        return Model.__call__(self, inputs, *args, **kwargs)

    def _inputs_from_dict(self, data):
        names = self.input_names
        layer_names = [t.history[0].name for t in self._inputs]
        out = []
        for key, lname in zip(names, layer_names):
            if key in data:
                out.append(data[key])
            elif lname in data:
                out.append(data[lname])
            else:
                raise ValueError(f"Model {self.name!r}: input dict is missing key {key!r}; "
                                 f"expected keys {names}, got {sorted(data)}.")
        return out

    def _input_takes_text(self, i):
        return self._inputs[i].dtype == "string"

    def _ensure_built(self, xs):
        """Check arrays against the Inputs (after the trailing-axis fix-up of
        ``_adjust_rank``) before any layer sees them."""
        if len(xs) != len(self._inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self._inputs)} input(s) "
                             f"{self.input_names}, but it received {len(xs)} input arrays.")
        for i, (t, x) in enumerate(zip(self._inputs, xs)):
            expected = t.shape
            shape = np.shape(_adjust_rank(t, x))
            if len(shape) != len(expected) or any(
                    e is not None and e != g for e, g in zip(expected[1:], shape[1:])):
                raise ValueError(
                    f"Input {i} ({self.input_names[i]!r}) of model {self.name!r} is "
                    f"incompatible: expected shape {expected}, but received input with "
                    f"shape {tuple(np.shape(x))}.")

    def _format_outputs(self, results):
        return _pack(self._out_kind, self._out_keys, list(results))

    def _fusable_output_layer(self, k):
        """The layer producing output k when its node may emit logits instead, else
        None (models/output_fusion.py decides whether it does)."""
        t = self._outputs[k]
        layer, _, _ = t.history
        node = _producer(t)
        # Fusing changes what the node emits: only when nobody else reads it.
        if self._uses.get(id(t), 0) != 1 or isinstance(node.outputs, (list, tuple)):
            return None
        return layer

    def _run_forward(self, xs, training, fuse=None, need_backward=True):
        if len(xs) != len(self._inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self._inputs)} inputs, "
                             f"got {len(xs)}.")
        fused = set()
        for k, f in enumerate(fuse or ()):
            if f and self._fusable_output_layer(k) is not None:
                fused.add(id(_producer(self._outputs[k])))
        values = {id(t): _adjust_rank(t, x) for t, x in zip(self._inputs, xs)}
        masks = {}
        tape = []
        for step in self._steps:
            if step.is_input:
                continue
            x = [values[k] for k in step.in_ids]
            m = [masks.get(k) for k in step.in_ids]
            if step.list_in:
                m = None if all(v is None for v in m) else m
            else:
                x, m = x[0], m[0]
            layer = step.layer
            y, back = run_layer(layer, x, training, m, logits=id(step.node) in fused,
                                need_backward=need_backward, options=step.options)
            out_mask = layer.compute_mask(x, m, **step.options)
            ys = list(y) if step.multi_out else [y]
            ms = out_mask if isinstance(out_mask, (list, tuple)) else [out_mask] * len(ys)
            for k, v, mk in zip(step.out_ids, ys, ms):
                values[k] = v
                if mk is not None:
                    masks[k] = mk
            if need_backward:
                tape.append((step, back, ys))
        outs = [values[id(t)] for t in self._outputs]
        self.__dict__["_output_masks"] = [masks.get(id(t)) for t in self._outputs]
        if not need_backward:
            return outs, None
        inputs = list(xs)

        def backward(douts, need_dx=False):
            needs = self._tensors_needing_grad(need_dx)
            grads = {}
            for t, d in zip(self._outputs, douts):
                if d is not None and id(t) in needs:
                    _accumulate(grads, id(t), d)
            for step, back, ys in reversed(tape):
                ds = [grads.pop(k, None) for k in step.out_ids]
                if all(d is None for d in ds):
                    continue  # no loss depends on this node
                if step.multi_out:
                    d = [np.zeros_like(y) if g is None else g for g, y in zip(ds, ys)]
                else:
                    d = ds[0]
                want = any(k in needs for k in step.in_ids)
                dx = back(d, need_dx=want)
                if not want:
                    continue
                dxs = dx if step.list_in else [dx]
                for k, g in zip(step.in_ids, dxs):
                    if g is not None and k in needs:
                        _accumulate(grads, k, g)
            if not need_dx:
                return [None] * len(inputs)
            dxs = []
            for t, x in zip(self._inputs, inputs):
                g = grads.get(id(t))
                if g is None and np.issubdtype(np.asarray(x).dtype, np.floating):
                    g = np.zeros_like(x)
                dxs.append(None if g is None else np.reshape(g, np.shape(x)))
            return dxs
        return outs, backward

    def _tensors_needing_grad(self, need_dx):
        """Ids of tensors whose gradient reaches a trainable weight or (when
        need_dx) a model input: other branches are skipped in backward."""
        needs = {id(t) for t in self._inputs} if need_dx else set()
        for step in self._steps:
            if step.is_input:
                continue
            if step.layer.trainable_weights or any(k in needs for k in step.in_ids):
                needs.update(step.out_ids)
        return needs

    # ---- summary ----------------------------------------------------------------------------
    def _own_nodes(self, layer):
        return [n for n in layer._inbound_nodes if id(n) in self._node_ids]

    def _summary_text(self):
        rows = []
        for layer in self._layers:
            nodes = self._own_nodes(layer)
            outs = nodes[-1].outputs if nodes else None
            if isinstance(outs, (list, tuple)):
                shape = [t.shape for t in outs]
            else:
                shape = outs.shape if outs is not None else None
            conns = []
            for node in nodes:
                for t in node.input_tensors:
                    src, ni, ti = t.history
                    conns.append(f"{src.name}[{ni}][{ti}]")
            rows.append((summary_mod.layer_label(layer), summary_mod.format_shape(shape),
                         f"{layer.count_params():,}", ", ".join(conns) or "-"))
        return summary_mod.render(self.name, rows, summary_mod.totals_lines(self),
                                  connected=True)

    # ---- config ---------------------------------------------------------------------------------
    def get_config(self):
        """Keras 3's functional config (what ``.h5`` files hold)."""
        reindex = {}
        for layer in self._layers:
            for j, node in enumerate(self._own_nodes(layer)):
                reindex[id(node)] = j

        def history(t):
            layer, _, ti = t.history
            return [layer.name, reindex[id(_producer(t))], ti]

        def tensor_config(t):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(t.shape), "dtype": t.dtype,
                               "keras_history": history(t)}}

        layers = []
        for layer in self._layers:
            entry = serialize_layer(layer)
            out = {"class_name": entry["class_name"], "config": entry["config"]}
            if entry.get("registered_name"):
                out["registered_name"] = entry["registered_name"]
            out["name"] = layer.name
            inbound = []
            if not isinstance(layer, InputLayer):
                for node in self._own_nodes(layer):
                    args = node.inputs
                    kwargs = _json_kwargs(node.kwargs)
                    if getattr(layer, "_states_are_node_inputs", False) and isinstance(
                            args, (list, tuple)):
                        # RNN(x, initial_state=[...]): Keras writes the states as a kwarg.
                        kwargs["initial_state"] = [tensor_config(t) for t in args[1:]]
                        args = args[0]
                    arg = ([tensor_config(t) for t in args]
                           if isinstance(args, (list, tuple)) else tensor_config(args))
                    call_args = getattr(node, "call_args", None)   # e.g. mha(q, v)
                    if call_args is not None:
                        kwargs.update({k: tensor_config(t)
                                       for k, t in (node.call_kwargs or {}).items()})
                    inbound.append({"args": [arg] if call_args is None else
                                    [tensor_config(t) for t in call_args], "kwargs": kwargs})
            out["inbound_nodes"] = inbound
            layers.append(out)

        def io(kind, keys, tensors):
            triples = [history(t) for t in tensors]
            if kind == "dict":
                return dict(zip(keys, triples))
            return triples[0] if kind == "single" else triples

        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": io(self._in_kind, self._in_keys, self._inputs),
                "output_layers": io(self._out_kind, self._out_keys, self._outputs)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from a Keras 3 or Keras 2 functional config."""
        return _from_config(cls, config, custom_objects)


# ---- graph ordering -----------------------------------------------------------------------
def _producer(t):
    layer, node_index, _ = t.history
    return layer._inbound_nodes[node_index]


def _map_graph(inputs, outputs):
    """Nodes in execution order and layers in Keras order (by decreasing depth,
    ties by first visit in a depth-first walk from the outputs)."""
    input_ids = {id(t) for t in inputs}
    post, visit_index = [], {}
    finished, in_progress = set(), set()
    for out in outputs:
        if out.history is None:
            raise ValueError(f"Model output {out!r} was not produced by a layer.")
        # Iterative DFS (deep models would overflow Python's recursion limit).
        stack = [(out, None)]
        while stack:
            t, pending = stack[-1]
            node = _producer(t)
            if pending is None:
                if id(node) in finished:
                    stack.pop()
                    continue
                if id(node) in in_progress:
                    raise ValueError(f"The graph has a cycle through layer {node.layer.name!r}.")
                visit_index.setdefault(id(node.layer), (len(visit_index), node.layer))
                in_progress.add(id(node))
                parents = [] if id(t) in input_ids else list(node.input_tensors)
                stack[-1] = (t, iter(parents))
                pending = stack[-1][1]
            nxt = next(pending, None)
            if nxt is not None:
                if nxt.history is None:
                    raise ValueError(f"Tensor {nxt!r} (input of layer {node.layer.name!r}) "
                                     "was not produced by a layer or keras.Input().")
                stack.append((nxt, None))
                continue
            stack.pop()
            in_progress.discard(id(node))
            if id(node) not in finished:
                finished.add(id(node))
                post.append(node)

    # Depths: outputs 0, a producer one deeper than its deepest consumer; all
    # nodes of a layer at least as deep as the layer's deepest node so far.
    node_depth, layer_depth = {}, {}
    for node in reversed(post):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for t in node.input_tensors:
            parent = _producer(t)
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:  # an Input that no output depends on still belongs to the model
        layer = t.history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            visit_index[id(layer)] = (-1, layer)
            node = _producer(t)
            node_depth[id(node)] = 0
            post.append(node)

    position = {id(n): i for i, n in enumerate(post)}
    nodes = sorted(post, key=lambda n: (-node_depth[id(n)], position[id(n)]))
    layers = [layer for _, layer in sorted(
        visit_index.values(), key=lambda v: (-layer_depth[id(v[1])], v[0]))]
    _check_connected(nodes, inputs)
    return nodes, layers


def _check_connected(nodes, inputs):
    input_ids = {id(t) for t in inputs}
    available = set(input_ids)
    done = []
    for node in nodes:
        if isinstance(node.layer, InputLayer):
            continue  # its tensor is available only if it is a model input
        for t in node.input_tensors:
            if id(t) in available:
                continue
            src = t.history[0]
            given = [i.history[0].name for i in inputs]
            if isinstance(src, InputLayer):
                raise ValueError(
                    f"Graph disconnected: cannot obtain value for tensor {t!r} at layer "
                    f"{node.layer.name!r}: it comes from Input {src.name!r}, which is not "
                    f"one of the model inputs {given}. The following previous layers "
                    f"were accessed without issue: {done}")
            raise ValueError(f"Graph disconnected: cannot obtain value for tensor {t!r} at "
                             f"layer {node.layer.name!r}. Model inputs: {given}.")
        available.update(id(t) for t in node.output_tensors)
        done.append(node.layer.name)


# ---- structures ----------------------------------------------------------------------------
def _structure(value, what):
    """(kind, keys, flat tensors): kind is "single", "list" or "dict"; dicts are
    flattened in sorted key order (as Keras's tree.flatten)."""
    if isinstance(value, dict):
        keys = sorted(value)
        flat, kind = [value[k] for k in keys], "dict"
    elif isinstance(value, (list, tuple)):
        keys, flat = None, list(value)
        kind = "list" if len(flat) > 1 else "single"
    else:
        keys, flat, kind = None, [value], "single"
    if not flat:
        raise ValueError(f"Model: `{what}` must not be empty.")
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Model: all `{what}` must be symbolic tensors (from "
                            f"keras.Input() and layer calls), got {type(t).__name__}: {t!r}.")
    return kind, keys, flat


def _pack(kind, keys, flat):
    if kind == "dict":
        return dict(zip(keys, flat))
    return flat[0] if kind == "single" else list(flat)


def _adjust_rank(t, x):
    """Keras 3: an input one axis short of a trailing size-1 axis gains it, and
    one with an extra trailing size-1 axis loses it ((n,) fits Input((1,)))."""
    expected, shape = t.shape, np.shape(x)
    if len(shape) == len(expected) + 1 and shape[-1] == 1:
        return np.reshape(x, shape[:-1])
    if len(shape) == len(expected) - 1 and expected and expected[-1] == 1:
        return np.reshape(x, shape + (1,))
    return x


def _accumulate(grads, key, g):
    # Out of place: a closure may return the very array it was given (identity).
    grads[key] = g if key not in grads else grads[key] + g


def _json_kwargs(kwargs):
    out = {}
    for k, v in (kwargs or {}).items():
        if v is None or isinstance(v, (bool, int, float, str)):
            out[k] = v
    return out


# ---- from_config ----------------------------------------------------------------------------
class _Ref:
    """A tensor reference in a saved config: (layer name, node index, tensor index)."""
    __slots__ = ("layer", "node", "tensor")

    def __init__(self, layer, node, tensor):
        self.layer, self.node, self.tensor = layer, int(node), int(tensor)


def _is_triple(v):
    return isinstance(v, (list, tuple)) and len(v) >= 3 and isinstance(v[0], str)


def _parse_node(data):
    """(args, kwargs) of one inbound node, tensors as _Ref, either format."""
    if isinstance(data, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        args = [_refs(a) for a in data.get("args", [])]
        kwargs = {k: _refs(v) for k, v in (data.get("kwargs") or {}).items()}
        return args, kwargs
    # Keras 2: [[layer, node, tensor, kwargs], ...]: one entry per input tensor.
    entries = [e for e in data if _is_triple(e)]
    refs = [_Ref(e[0], e[1], e[2]) for e in entries]
    if not refs:
        raise ValueError(f"Unrecognized inbound node in config: {data!r}")
    return [refs[0] if len(refs) == 1 else refs], {}


def _refs(v):
    if isinstance(v, dict):
        if v.get("class_name") == "__keras_tensor__":
            hist = v["config"]["keras_history"]
            return _Ref(hist[0], hist[1], hist[2])
        return {k: _refs(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_refs(x) for x in v]
    return v


def _collect_refs(v, out):
    if isinstance(v, _Ref):
        out.append(v)
    elif isinstance(v, dict):
        for x in v.values():
            _collect_refs(x, out)
    elif isinstance(v, list):
        for x in v:
            _collect_refs(x, out)
    return out


def _io_refs(spec):
    """input_layers/output_layers: bare triple, list of triples, or dict."""
    if isinstance(spec, dict):
        return {k: _io_refs(v) for k, v in spec.items()}
    if _is_triple(spec):
        return _Ref(spec[0], spec[1], spec[2])
    items = [_io_refs(s) for s in spec]
    return items[0] if len(items) == 1 else items


def _from_config(cls, config, custom_objects):
    created, pending = {}, []
    for entry in config.get("layers", []):
        inner = {k: v for k, v in entry.items() if k not in ("name", "inbound_nodes")}
        layer = deserialize_layer(inner, custom_objects=custom_objects)
        name = entry.get("name") or layer.name
        if name in created:
            raise ValueError(f"Functional config: duplicate layer name {name!r}.")
        created[name] = layer
        nodes = entry.get("inbound_nodes") or []
        pending.append((name, layer, [_parse_node(n) for n in nodes]))

    produced = {}  # (layer name, node index) -> outputs of that call
    for name, layer, _ in pending:
        if isinstance(layer, InputLayer):
            produced[(name, 0)] = layer.output

    def ready(ref):
        return (ref.layer, ref.node) in produced

    def value(v):
        if isinstance(v, _Ref):
            out = produced[(v.layer, v.node)]
            if isinstance(out, (list, tuple)):
                return out[v.tensor]
            if v.tensor != 0:
                raise ValueError(f"Layer {v.layer!r} has one output; config asks for "
                                 f"tensor {v.tensor}.")
            return out
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    done = {name: 0 for name, _, _ in pending}
    remaining = sum(len(nodes) for _, _, nodes in pending)
    while remaining:
        progress = False
        for name, layer, nodes in pending:
            while done[name] < len(nodes):
                args, kwargs = nodes[done[name]]
                if not all(ready(r) for r in _collect_refs([args, kwargs], [])):
                    break
                args, kwargs = value(args), value(kwargs)
                kwargs = {k: v for k, v in kwargs.items() if k not in ("mask", "training")}
                produced[(name, done[name])] = layer(*args, **kwargs)
                done[name] += 1
                remaining -= 1
                progress = True
        if not progress:
            missing = sorted({f"{r.layer}[{r.node}]" for name, _, nodes in pending
                              for args, kw in nodes[done[name]:]
                              for r in _collect_refs([args, kw], []) if not ready(r)})
            raise ValueError(f"Functional config {config.get('name')!r}: cannot build the "
                             f"graph; tensors never produced: {missing}.")

    def io(spec, what):
        refs = _io_refs(spec)
        for r in _collect_refs(refs, []):
            if not ready(r):
                raise ValueError(f"Functional config: {what} refers to {r.layer}[{r.node}], "
                                 "which is not in the config.")
        return value(refs)

    inputs = io(config["input_layers"], "input_layers")
    outputs = io(config["output_layers"], "output_layers")
    target = cls if issubclass(cls, Functional) else Functional
    return target(inputs=inputs, outputs=outputs, name=config.get("name"),
                  trainable=config.get("trainable", True))
